#!/bin/bash
# Boot script for a CPU embeddings fleet instance (Hugging Face text-embeddings-inference).
# Serves GET /health on FLEET_PORT, the target group's port, which the generator sets
# above this line (stacks/user_data.py); 8080 when the script runs elsewhere.
set -euo pipefail
MODEL="${MODEL:-BAAI/bge-small-en-v1.5}"
PORT="${FLEET_PORT:-8080}"
docker run -d --restart=always -p "${PORT}:80" -v /opt/models:/data --name tei \
  ghcr.io/huggingface/text-embeddings-inference:cpu-latest --model-id "${MODEL}"
