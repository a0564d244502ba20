#!/bin/bash
# Boot script for a CPU embeddings fleet instance (Hugging Face text-embeddings-inference).
# Serves on port 8080 with GET /health, the target group's port and path.
set -euo pipefail
MODEL="${MODEL:-BAAI/bge-small-en-v1.5}"
docker run -d --restart=always -p 8080:80 -v /opt/models:/data --name tei \
  ghcr.io/huggingface/text-embeddings-inference:cpu-latest --model-id "${MODEL}"
