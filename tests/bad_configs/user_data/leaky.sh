#!/bin/bash
# Fake credentials for the secret-in-user-data case. pragma: allowlist secret
export HF_TOKEN=hf_FAKEtokenFAKEtokenFAKEtokenFAKEtoken  # pragma: allowlist secret
DB_PASSWORD=correct-horse-battery  # pragma: allowlist secret
# The right way: read it at boot from SSM.
HF_TOKEN=$(aws ssm get-parameter --with-decryption --name /corpus/hf-token --query Parameter.Value --output text)
