"""Why the dev lifecycle once failed with ``DeleteTargetGroup ... TargetGroupNotFound``
(issue #16, item 6), and that the emulator workaround for it holds.

A proxy between Terraform and moto carries out the first DeleteTargetGroup and then
closes the connection without an answer, as a response lost under load would. The AWS
SDK retries a request that got no response (a connection error is retryable), so the
target group is deleted twice:

- with moto as it is, the second delete fails with ``TargetGroupNotFound`` and so does
  ``terraform destroy``: the error of the flaky run;
- with the emulator's server (stacks/moto_server.py: deleting a deleted target group
  succeeds, as the ELB API Reference documents no not-found error for DeleteTargetGroup)
  the destroy succeeds, after the same two deletes.

The proxy and the Terraform configuration are this test's own: a VPC and one target
group, which is all a target group delete needs.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from emulator import MotoServer, override
from helpers import terraform, terraform_env

pytestmark = pytest.mark.e2e


class DroppingProxy(ThreadingHTTPServer):
    """HTTP proxy on 127.0.0.1 to ``upstream`` (host, port). While ``armed``, the first
    request whose body holds ``Action=<drop_action>`` is forwarded and carried out, and
    its response is dropped (the client's connection closed). ``actions`` counts every
    forwarded request per action."""

    daemon_threads = True

    def __init__(self, upstream: tuple[str, int], drop_action: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream, self.drop_action = upstream, drop_action
        self.armed, self.dropped = False, 0
        self.actions: dict[str, int] = {}
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DroppingProxy

    def log_message(self, *args) -> None:  # quiet
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        action = next((p[7:] for p in body.decode(errors="replace").split("&") if p.startswith("Action=")), "")
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        upstream.close()
        with self.server.lock:
            self.server.actions[action] = self.server.actions.get(action, 0) + 1
            drop = self.server.armed and action == self.server.drop_action and not self.server.dropped
            if drop:
                self.server.dropped += 1
        if drop:  # carried out upstream; the client never hears back
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = _forward


def configuration(endpoint: str) -> dict:
    """A VPC and a target group, the AWS provider pointed at ``endpoint`` as the
    emulator override points every stack's (:func:`stacks.emulator.override`)."""
    provider = override({}, endpoint)["provider"]["aws"]
    return {
        "provider": {"aws": {"region": "us-east-1", **provider}},
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
        "resource": {
            "aws_vpc": {"main": {"cidr_block": "10.40.0.0/16"}},
            "aws_lb_target_group": {
                "model": {"name": "lost-response", "port": 8000, "protocol": "HTTP", "vpc_id": "${aws_vpc.main.id}"}
            },
        },
    }


@pytest.mark.parametrize("patched", [False, True], ids=["moto-as-is", "emulator-server"])
def test_a_delete_whose_response_is_lost(tmp_path: Path, patched: bool):
    server = MotoServer(tmp_path / "moto.log", patched=patched).start()
    proxy = DroppingProxy(("127.0.0.1", server.port), "DeleteTargetGroup")
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        work = tmp_path / "stack"
        work.mkdir()
        (work / "main.tf.json").write_text(json.dumps(configuration(proxy.endpoint), indent=2))
        tf_env = terraform_env(tmp_path)
        for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
            result = terraform(args, work, tf_env, timeout=600)
            assert result.returncode == 0, result.stdout + result.stderr
        proxy.armed = True
        result = terraform(["destroy", "-auto-approve", "-input=false"], work, tf_env, timeout=600)
        output = result.stdout + result.stderr
        assert proxy.dropped == 1, f"no DeleteTargetGroup response was dropped: {proxy.actions}\n{output}"
        assert proxy.actions.get("DeleteTargetGroup") == 2, f"the SDK did not retry the delete: {proxy.actions}"
        if patched:
            assert result.returncode == 0, output
            assert "Destroy complete" in result.stdout
        else:
            assert result.returncode != 0, output
            assert "TargetGroupNotFound" in output, output
    finally:
        proxy.shutdown()
        proxy.server_close()
        server.stop()
