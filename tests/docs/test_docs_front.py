"""deployment.rst, "A Buffering Front": sync workers need a front that reads
request bodies before a worker sees them.

A client that sends its body one byte at a time holds a sync worker until
the body is complete (or gunicorn's timeout kills the worker). The tests show
it on bare gunicorn, then the nginx block of the page, as written, reading
such bodies itself while other clients are served at once. Pushpin does so
only for the first 10,000 bytes of a body (its inspection prefetch; the rest
streams to the worker), which is why the page puts nginx in front of it.
"""

from __future__ import annotations

import json
import re
import socket
import textwrap
import threading
import time
import typing as t
from collections.abc import Iterator

import pytest
import requests
from docs_helpers import DOCS

from support import GunicornServer
from support.nginx import NginxServer
from support.pushpin import PushpinServer

MODERN = "2026-07-28"
#: Seconds between two bytes of a slow client's body.
DRIP = 0.3
#: The bytes of a slow body sent one at a time: they take DRIP * SLOW_BYTES
#: seconds; the bytes before them go at once.
SLOW_BYTES = 12
#: More slow clients than workers: without a front they take every worker.
SLOW_CLIENTS = 4
#: Pushpin reads this much of a body before a worker sees the request.
PUSHPIN_PREFETCH = 10_000
SMALL, LARGE = SLOW_BYTES, 3 * PUSHPIN_PREFETCH


def documented_nginx_location() -> str:
    """The nginx block of deployment.rst, exactly as a reader copies it."""
    text = (DOCS / "deployment.rst").read_text()
    found = re.search(r"\.\. code-block:: nginx\n\n((?:[ ]{4}.*\n|\n)+)", text)
    assert found is not None, "deployment.rst lost its nginx block"
    return textwrap.dedent(found.group(1))


def nginx_server_block(location: str, origin_port: int) -> str:
    """``location`` in a server of ours, its upstream our gunicorn."""
    proxied = re.sub(
        r"proxy_pass http://[^/;\s]+",
        f"proxy_pass http://127.0.0.1:{origin_port}",
        location,
    )
    assert proxied != location, "the nginx block has no proxy_pass http://host:port"
    inner = textwrap.indent(proxied, "    ")
    return "server {\n    listen 127.0.0.1:{port};\n" + inner + "}\n"


def documented_path() -> str:
    """Where the page's block serves the endpoint (its location, then mcp)."""
    found = re.search(r"location (\S+) \{", documented_nginx_location())
    assert found is not None
    return found.group(1) + "mcp"


def add_call() -> bytes:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "add",
            "arguments": {"a": 2, "b": 3},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "front", "version": "1"},
            },
        },
    }
    return json.dumps(body).encode()


def call_add(url: str, timeout: float) -> requests.Response:
    return requests.post(
        url,
        data=add_call(),
        headers={
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "MCP-Protocol-Version": MODERN,
            "Mcp-Method": "tools/call",
            "Mcp-Name": "add",
        },
        timeout=timeout,
    )


class SlowClient:
    """Sends a POST whose body arrives one byte every :data:`DRIP` seconds."""

    def __init__(self, port: int, path: str, size: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        body = b"{" + b" " * (size - 2) + b"}"
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: application/json, text/event-stream\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.sock.sendall(head.encode() + body[:-SLOW_BYTES])
        self.body = body[-SLOW_BYTES:]
        self.answer = b""
        #: Why the drip stopped early (the front or the worker hung up).
        self.error: OSError | None = None
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        try:
            for byte in self.body:
                time.sleep(DRIP)
                self.sock.sendall(bytes([byte]))
            while b"\r\n" not in self.answer:  # at least the status line
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                self.answer += chunk
        except OSError as exc:
            self.error = exc

    def close(self) -> None:
        self.sock.close()
        self.thread.join(10)


@pytest.fixture
def slow_clients() -> Iterator[t.Callable[[int, str, int], list[SlowClient]]]:
    started: list[SlowClient] = []

    def start(port: int, path: str, size: int) -> list[SlowClient]:
        clients = [SlowClient(port, path, size) for _ in range(SLOW_CLIENTS)]
        started.extend(clients)
        time.sleep(DRIP)  # their headers are in: a worker (or the front) has each
        return clients

    yield start
    for client in started:
        client.close()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    instance = tmp_path_factory.mktemp("front-instance")
    with GunicornServer(env={"EXAMPLE_INSTANCE_PATH": str(instance)}) as server:
        yield server


def served_promptly(url: str) -> list[float]:
    """Seconds each of a few calls took while the slow clients drip."""
    took = []
    for _ in range(5):
        started = time.monotonic()
        response = call_add(url, timeout=DRIP * SLOW_BYTES + 10)
        took.append(time.monotonic() - started)
        assert response.status_code == 200, response.text
        assert response.json()["result"]["content"][0]["text"] == "5"
    return took


def answered(clients: list[SlowClient]) -> None:
    """The slow clients get their answer in the end (the body is not JSON-RPC)."""
    for client in clients:
        client.thread.join(DRIP * SLOW_BYTES + 10)
        assert client.answer.startswith(b"HTTP/1.1 400"), (client.answer, client.error)


def test_slow_bodies_take_every_bare_sync_worker(origin, slow_clients):
    """Why the page asks for a front: two workers, four slow clients."""
    slow_clients(origin.port, "/mcp", SMALL)
    with pytest.raises(requests.Timeout):
        call_add(origin.mcp_url, timeout=DRIP * 3)


@pytest.fixture
def nginx(origin, tmp_path):
    """The page's nginx block in front of ``origin``."""
    block = nginx_server_block(documented_nginx_location(), origin.port)
    assert "proxy_request_buffering on;" in block
    with NginxServer(block, tmp_path / "nginx") as server:
        yield server


def test_the_documented_nginx_front_reads_slow_bodies(nginx, slow_clients):
    clients = slow_clients(nginx.port, documented_path(), LARGE)
    took = served_promptly(nginx.url + documented_path())
    assert max(took) < 1.0, took
    answered(clients)


def test_pushpin_reads_the_first_10_kb_of_a_body_itself(origin, slow_clients):
    with PushpinServer([origin.port]) as pushpin:
        clients = slow_clients(pushpin.port, "/mcp", PUSHPIN_PREFETCH)
        took = served_promptly(pushpin.mcp_url)
        assert max(took) < 1.0, took
        answered(clients)
        # Past its prefetch, the body streams to a worker as it comes.
        slow_clients(pushpin.port, "/mcp", PUSHPIN_PREFETCH + SLOW_BYTES + 1)
        with pytest.raises(requests.Timeout):
            call_add(pushpin.mcp_url, timeout=DRIP * 3)


def test_nginx_in_front_of_pushpin_reads_slow_bodies(origin, slow_clients, tmp_path):
    """The page's gateway deployment: nginx, then Pushpin, then gunicorn."""
    with PushpinServer([origin.port]) as pushpin:
        block = nginx_server_block(documented_nginx_location(), pushpin.port)
        with NginxServer(block, tmp_path / "nginx") as nginx:
            clients = slow_clients(nginx.port, documented_path(), LARGE)
            took = served_promptly(nginx.url + documented_path())
            assert max(took) < 1.0, took
            answered(clients)
