"""The CDKTF stack, and the groups of Terraform elements it is built from, that turn an
environment config into Terraform JSON.

One module per AWS concern (each a ``parts.Part``: its elements go straight into the
stack, so their Terraform names stay short and stable):

- ``config``: the typed environment config (pydantic), YAML loading and cross-field checks.
- ``aws``: loads only the AWS provider submodules the stacks use (fast import layer)
  and makes the bindings' runtime type checks cheaper.
- ``parts``: the ``Part`` base class and its element naming.
- ``network``: existing VPC/subnets, or a new VPC with public and private subnets.
- ``security_groups``: ALB and instance security groups with standalone rules.
- ``target_group``: one ALB target group per fleet.
- ``load_balancer``: the ALB, its listeners and listener rules.
- ``fleet``: IAM role, launch template and Auto Scaling group per fleet.
- ``scaling``: target-tracking policies per fleet.
- ``access_logs``: the S3 bucket for ALB access logs; ``waf``: the WAFv2 web ACL;
  ``log_encryption``: the KMS key for the stack's log groups; ``secret_access``: read
  access to a fleet's secret references; ``principals``: their IAM data (no provider).
- ``secrets``: detection of secret-looking values in configs and user data.
- ``outputs``: Terraform outputs.
- ``fleet_stack``: the stack class that wires the groups from one config.
- ``synth``: the command line (``python main.py``) with staged, all-or-nothing output.
"""

import os as _os

# jsii prints a multi-line Node 20 end-of-life banner on every run; it is noise in
# Atlantis and CI logs. Users can still see it by setting the variable to another value.
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
