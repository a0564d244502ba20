#!/bin/bash
# Boot script of the example's fleet: vLLM's OpenAI-compatible server in a container on
# the target group port (FLEET_PORT, set above this line by the generator).
set -euo pipefail
docker run -d --restart=always --gpus all --ipc=host -p "${FLEET_PORT}:8000" \
  --name vllm vllm/vllm-openai:latest --model "${MODEL:-Qwen/Qwen2.5-7B-Instruct}" --port 8000
