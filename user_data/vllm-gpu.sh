#!/bin/bash
# Boot script for a GPU vLLM fleet instance with a warm pool and lifecycle hooks.
# Expects an AMI with the NVIDIA driver, Docker with the NVIDIA container toolkit, the
# AWS CLI and the CloudWatch agent (e.g. the AWS Deep Learning Base GPU AMI; install
# amazon-cloudwatch-agent if missing). cloud-init runs this once per instance; the
# systemd unit it installs runs on EVERY boot, because warm-pool instances are stopped
# after their first boot and started again on scale-out.
set -euo pipefail

# The generator sets FLEET_PORT (the target group's port), FLEET_LAUNCH_HOOK and
# FLEET_TERMINATION_HOOK (the fleet's lifecycle hooks, empty without them) above this
# line (stacks/user_data.py).
MODEL="${MODEL:-Qwen/Qwen2.5-7B-Instruct}"
PORT="${FLEET_PORT:-8000}"
LAUNCH_HOOK="${FLEET_LAUNCH_HOOK-model-ready}"
TERMINATION_HOOK="${FLEET_TERMINATION_HOOK-}"

# 1. CloudWatch agent: publish GPU utilization per Auto Scaling group, the metric the
#    fleet's custom target-tracking policy scales on (CWAgent/nvidia_smi_utilization_gpu).
#    With scaling.queue_depth the generator sets FLEET_QUEUE_METRIC (the server's
#    Prometheus gauge of waiting requests) and FLEET_QUEUE_METRIC_NAMESPACE: the agent
#    also scrapes it from the server's /metrics every 15 s and publishes it per group
#    through embedded metric format ("Set up and configure Prometheus metrics collection
#    on Amazon EC2 instances", CloudWatch user guide). The group name comes from the
#    instance's aws:autoscaling:groupName tag (ec2:DescribeTags, in
#    CloudWatchAgentServerPolicy); without it the queue is not published.
CWA=/opt/aws/amazon-cloudwatch-agent
QUEUE_METRIC="${FLEET_QUEUE_METRIC-}"
LOGS=""
if [ -n "${QUEUE_METRIC}" ]; then
  TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
  ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)
  ASG=$(aws ec2 describe-tags --filters "Name=resource-id,Values=${ID}" "Name=key,Values=aws:autoscaling:groupName" \
    --query 'Tags[0].Value' --output text) || ASG=""
  if [ -z "${ASG}" ] || [ "${ASG}" = None ]; then
    echo "no aws:autoscaling:groupName tag: ${QUEUE_METRIC} not published" >&2
  else
    # Scrape only the queue gauge, labelled with the group (the metric's one dimension).
    cat > "${CWA}/etc/prometheus.yaml" <<YAML
global:
  scrape_interval: 15s
  scrape_timeout: 10s
scrape_configs:
  - job_name: model-server
    sample_limit: 1000
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:${PORT}"]
        labels:
          AutoScalingGroupName: "${ASG}"
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: "${QUEUE_METRIC}"
        action: keep
YAML
    LOGS=$(cat <<JSON
,
  "logs": {
    "metrics_collected": {
      "prometheus": {
        "log_group_name": "/ai-fleet/${ASG}/prometheus",
        "prometheus_config_path": "${CWA}/etc/prometheus.yaml",
        "emf_processor": {
          "metric_declaration_dedup": true,
          "metric_namespace": "${FLEET_QUEUE_METRIC_NAMESPACE}",
          "metric_unit": {"${QUEUE_METRIC}": "Count"},
          "metric_declaration": [{
            "source_labels": ["job"],
            "label_matcher": "^model-server$",
            "dimensions": [["AutoScalingGroupName"]],
            "metric_selectors": ["^${QUEUE_METRIC}$"]
          }]
        }
      }
    }
  }
JSON
)
    # The log events only carry the metric: keep them a week (the agent creates the group).
    aws logs create-log-group --log-group-name "/ai-fleet/${ASG}/prometheus" 2>/dev/null || true
    aws logs put-retention-policy --log-group-name "/ai-fleet/${ASG}/prometheus" --retention-in-days 7 || true
  fi
fi
cat > "${CWA}/etc/amazon-cloudwatch-agent.json" <<JSON
{
  "agent": {"metrics_collection_interval": 60},
  "metrics": {
    "namespace": "CWAgent",
    "append_dimensions": {"AutoScalingGroupName": "\${aws:AutoScalingGroupName}"},
    "aggregation_dimensions": [["AutoScalingGroupName"]],
    "metrics_collected": {
      "nvidia_gpu": {"measurement": ["utilization_gpu", "memory_used", "memory_total"]}
    }
  }${LOGS}
}
JSON
"${CWA}/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:${CWA}/etc/amazon-cloudwatch-agent.json"

# 2. The model server, restarted by Docker on every boot.
docker run -d --restart=always --gpus all --ipc=host -p "${PORT}:8000" \
  -v /opt/models:/root/.cache/huggingface --name vllm vllm/vllm-openai:latest \
  --model "${MODEL}" --port 8000

# Helpers the systemd units below run (quoted here documents: written as they are).
# complete-hook HOOK: complete lifecycle hook HOOK of this instance's group (IMDSv2).
cat > /usr/local/bin/complete-hook <<'SCRIPT'
#!/bin/bash
set -euo pipefail
TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)
ASG=$(aws autoscaling describe-auto-scaling-instances --instance-ids "$ID" \
  --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
aws autoscaling complete-lifecycle-action --lifecycle-hook-name "$1" \
  --auto-scaling-group-name "$ASG" --instance-id "$ID" --lifecycle-action-result CONTINUE
SCRIPT
# serve-then-complete PORT HOOK: wait until the model answers /health, then complete HOOK.
cat > /usr/local/bin/serve-then-complete <<'SCRIPT'
#!/bin/bash
set -euo pipefail
until curl -fsS "http://127.0.0.1:$1/health" >/dev/null; do sleep 5; done
exec /usr/local/bin/complete-hook "$2"
SCRIPT
# stop-then-complete HOOK: wait until Auto Scaling terminates this instance (its target
# lifecycle state in instance metadata turns Terminated), stop the model server cleanly
# (docker stop: SIGTERM, then SIGKILL after 30 s), flush the CloudWatch agent, complete HOOK.
cat > /usr/local/bin/stop-then-complete <<'SCRIPT'
#!/bin/bash
set -euo pipefail
state() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
  curl -fsS -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/autoscaling/target-lifecycle-state || true
}
until [ "$(state)" = Terminated ]; do sleep 5; done
docker stop --time 30 vllm || true
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a stop || true
exec /usr/local/bin/complete-hook "$1"
SCRIPT
chmod +x /usr/local/bin/complete-hook /usr/local/bin/serve-then-complete /usr/local/bin/stop-then-complete

# 3. On every boot: wait until the model answers /health, then complete the launch
#    hook so Auto Scaling puts the instance in service (or back in the warm pool).
if [ -n "${LAUNCH_HOOK}" ]; then
  cat > /etc/systemd/system/complete-launch-hook.service <<UNIT
[Unit]
Description=Complete the Auto Scaling launch hook once the model serves
After=docker.service network-online.target
[Service]
Type=oneshot
ExecStart=/usr/local/bin/serve-then-complete ${PORT} ${LAUNCH_HOOK}
TimeoutStartSec=7200
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now complete-launch-hook.service
fi

# 4. On termination: Auto Scaling has already deregistered the instance from the target
#    group and waited out the deregistration delay (in-flight requests are done), then
#    holds it in Terminating:Wait for the termination hook. Shut the server down cleanly
#    and complete the hook at once instead of idling out its heartbeat timeout (Auto
#    Scaling user guide, "Retrieve the target lifecycle state through instance metadata").
if [ -n "${TERMINATION_HOOK}" ]; then
  cat > /etc/systemd/system/complete-termination-hook.service <<UNIT
[Unit]
Description=Stop the model server and complete the Auto Scaling termination hook
After=docker.service network-online.target
[Service]
Type=simple
ExecStart=/usr/local/bin/stop-then-complete ${TERMINATION_HOOK}
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now complete-termination-hook.service
fi
