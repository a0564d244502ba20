#!/bin/bash
# Boot script for a vLLM fleet instance (runs once, as root, via cloud-init).
# Expects an AMI with the NVIDIA driver and Docker with the NVIDIA container toolkit,
# for example the AWS Deep Learning Base GPU AMI. The instance role needs nothing more
# than AmazonSSMManagedInstanceCore for this script; add policies for S3 model buckets.
# FLEET_PORT (the target group port) is set above this line by the generator
# (stacks/user_data.py); 8000 is vLLM's default when the script runs elsewhere.
set -euo pipefail

MODEL="${MODEL:-Qwen/Qwen2.5-7B-Instruct}"
PORT="${FLEET_PORT:-8000}"

# Serve the OpenAI-compatible API on the port the target group checks (GET /health).
docker run -d --restart=always --gpus all --ipc=host \
  -p "${PORT}:8000" \
  -v /opt/models:/root/.cache/huggingface \
  --name vllm vllm/vllm-openai:latest \
  --model "${MODEL}" --port 8000
