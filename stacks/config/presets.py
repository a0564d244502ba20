"""Serving presets: what each inference server implies for the load balancer and timings."""

from __future__ import annotations

from typing import Any, Literal

Preset = Literal["vllm", "tgi", "triton", "torchserve", "ray-serve", "custom"]

#: Per inference server, from each server's docs: application port and readiness path
#: (vLLM OpenAI server: 8000, GET /health; Hugging Face TGI: container port 80, commonly
#: published as 8080, GET /health; NVIDIA Triton: HTTP 8000 GET /v2/health/ready, gRPC
#: 8001 with the standard grpc.health.v1 service; TorchServe: inference 8080, GET /ping;
#: Ray Serve: 8000, GET /-/healthz), and the timing defaults that drive grace periods,
#: warm-up, draining and idle timeouts: ``model_load_seconds`` (boot to ready: model
#: download plus load; LLM weights take minutes) and ``max_request_seconds`` (the longest
#: request, streamed generations included). ``custom`` assumes port 8080 and GET /health.
#: Every value can be overridden per fleet.
#:
#: ``paths``: the GET paths the server answers with 200 once it serves (its health and
#: readiness endpoints, and the model list where it has one); a health check on any other
#: path fails on every target, which the group then replaces in a loop (vLLM: /health,
#: /ping, /v1/models, /version, docs.vllm.ai "OpenAI-Compatible Server"; TGI: /health,
#: /info; Triton: /v2/health/ready, /v2/health/live, KServe v2 protocol; TorchServe:
#: /ping; Ray Serve: /-/healthz, /-/routes). ``custom`` allows any path.
#: ``grpc_port``/``grpc_path``: only Triton serves gRPC (standard health service).
#: ``container``: the server is normally run from a container image (TGI, Triton), which
#: needs an IMDS hop limit of 2 to reach instance metadata.
#: ``queue_metric``: the Prometheus gauge of requests waiting for a batch slot that the
#: server serves at ``GET /metrics`` on its port, for ``scaling.queue_depth`` (vLLM
#: ``vllm:num_requests_waiting``, docs.vllm.ai "Production Metrics"; TGI
#: ``tgi_queue_size``, huggingface.co/docs/text-generation-inference/reference/metrics).
#: The other servers have none on their serving port.
PRESETS: dict[str, dict[str, Any]] = {
    "vllm": {
        "port": 8000,
        "path": "/health",
        "paths": ("/health", "/ping", "/v1/models", "/version"),
        "queue_metric": "vllm:num_requests_waiting",
        "model_load_seconds": 600,
        "max_request_seconds": 600,
    },
    "tgi": {
        "port": 8080,
        "path": "/health",
        "paths": ("/health", "/info"),
        "queue_metric": "tgi_queue_size",
        "container": True,
        "model_load_seconds": 600,
        "max_request_seconds": 600,
    },
    "triton": {
        "port": 8000,
        "path": "/v2/health/ready",
        "paths": ("/v2/health/ready", "/v2/health/live"),
        "grpc_port": 8001,
        "grpc_path": "/grpc.health.v1.Health/Check",
        "container": True,
        "model_load_seconds": 300,
        "max_request_seconds": 120,
    },
    "torchserve": {
        "port": 8080,
        "path": "/ping",
        "paths": ("/ping",),
        "model_load_seconds": 300,
        "max_request_seconds": 120,
    },
    "ray-serve": {
        "port": 8000,
        "path": "/-/healthz",
        "paths": ("/-/healthz", "/-/routes"),
        "model_load_seconds": 300,
        "max_request_seconds": 300,
    },
    "custom": {"port": 8080, "path": "/health", "model_load_seconds": 300, "max_request_seconds": 300},
}

#: CloudWatch namespace of the queue metrics the CloudWatch agent publishes from the
#: server's Prometheus endpoint (``emf_processor.metric_namespace``, the namespace of the
#: CloudWatch agent guide's example, "Set up and configure Prometheus metrics collection
#: on Amazon EC2 instances").
QUEUE_METRIC_NAMESPACE = "CWAgent-Prometheus"

#: ALB's own gRPC health-check path; an unimplemented method answers gRPC status 12,
#: which proves the server is up when it has no standard health service.
ALB_GRPC_DEFAULT_PATH = "/AWS.ALB/healthcheck"
