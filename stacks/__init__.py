"""The generator: environment configs in, one Terraform JSON stack per environment out.

A map (docs/architecture.md has more):

- ``config/``: the typed environment config (pydantic), provider-free. One module per
  section, each model validating its own fields and the rules across them
  (``own_problems``); ``checks`` holds the rules that span sections, ``loading`` the YAML
  reading and validation passes, ``environments`` discovery and the rules between files
  (unique names, one state each), ``reference`` the generated schema and reference doc.
- ``cli/``: the command lines (``synth`` for ``python main.py``, ``report``,
  ``atlantis``, ``tfc``, ``schema``); each ``main(argv)`` returns the exit code.
- ``synthesis``: all stacks in one cdktf app, written to a staging folder and swapped in
  atomically; Terraform's and the user's files in stack folders survive.
- ``fleet_stack``: the stack class, the only reader of the whole config; it wires one
  construct per AWS concern, each a ``parts.Part`` taking its own config section and the
  IDs it needs and exposing ``<thing>_arn``/``_id``/``_name``:

  - ``network``: existing VPC/subnets (checked at plan time), or a new VPC;
  - ``security_groups``: ALB and instance security groups with standalone rules;
  - ``target_group``: one ALB target group per fleet;
  - ``load_balancer``: the ALB, its listeners and listener rules;
  - ``fleet``: IAM role, launch template and Auto Scaling group(s) per fleet;
  - ``scaling``: target-tracking policies and scheduled actions per fleet;
  - ``alarms``: CloudWatch alarms and their SNS topic;
  - ``access_logs``: the S3 bucket for ALB access logs; ``waf``: the WAFv2 web ACL;
    ``log_encryption``: the KMS key for the stack's log groups; ``secret_access``: read
    access to a fleet's secret references; ``outputs``: Terraform outputs;
  - ``backend``: the state backend block (and reading it back from synthesized JSON).

- ``aws``: loads only the AWS provider submodules the stacks use (fast import layer);
  ``parts``: the ``Part`` base class and its flat, stable element names.
- Provider-free helpers: ``user_data`` (the ``FLEET_*`` lines), ``secrets`` (secret
  detection), ``principals`` (IAM data), ``dependencies`` (missing-package messages).
- ``report/``: resilience report and topology diagrams, read from the synthesized JSON.
"""

import os as _os

# jsii prints a multi-line Node 20 end-of-life banner on every run; it is noise in
# Atlantis and CI logs. Users can still see it by setting the variable to another value.
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
