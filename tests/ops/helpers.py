"""Requests and scrapes the operations tests share.

* ``scrape(client, path)``: the samples of a ``/metrics`` answer;
  ``value(samples, name, **labels)`` sums some of them.
* ``post(client, message, **headers)``: one JSON-RPC POST to ``/mcp``;
  ``call(name, arguments)`` a ``tools/call`` message.
* ``modern(method, params)``: a 2026-07-28 request and its headers.
* ``register(mcp)``: tools ``add``, ``fails`` (a tool error), ``crashes`` (a
  bug), a resource template ``notes://{id}`` and a prompt ``greet``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t

from prometheus_client.parser import text_string_to_metric_families

from flask_mcp import FlaskMCP
from flask_mcp import ToolError
from flask_mcp.protocol.envelope import NAMED_METHODS

ACCEPT = "application/json, text/event-stream"
MODERN = "2026-07-28"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """``{(name, sorted labels): value}`` of an exposition."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, metric: str, /, **labels: str) -> float:
    """The sum of the samples ``metric`` whose labels include ``labels``."""
    return sum(
        v
        for (n, have), v in found.items()
        if n == metric and set(labels.items()) <= set(have)
    )


def scrape(client: t.Any, path: str = "/metrics", **headers: str) -> Samples:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(True)
    return samples(response.get_data(True))


def post(client: t.Any, message: dict[str, t.Any], **headers: str) -> t.Any:
    return client.post("/mcp", json=message, headers={"Accept": ACCEPT, **headers})


def call(
    name: str, arguments: dict[str, t.Any] | None = None, id: int = 1
) -> dict[str, t.Any]:
    params: dict[str, t.Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}


def modern(
    method: str, params: dict[str, t.Any], id: int = 1
) -> tuple[dict[str, t.Any], dict[str, str]]:
    """A 2026-07-28 request and the routing headers it needs."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        **params.pop("_meta", {}),
    }
    message = {
        "jsonrpc": "2.0",
        "id": id,
        "method": method,
        "params": {**params, "_meta": meta},
    }
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    field = NAMED_METHODS.get(method)
    if field is not None and field in params:
        headers["Mcp-Name"] = params[field]
    return message, headers


def register(mcp: FlaskMCP) -> None:
    @mcp.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    @mcp.tool
    def fails() -> str:
        """Reports an error to the model."""
        raise ToolError("no luck")

    @mcp.tool
    def crashes() -> str:
        """A bug."""
        raise RuntimeError("bug")

    @mcp.resource("notes://{id}")
    def note(id: str) -> str:
        return f"note {id}"

    @mcp.prompt
    def greet(name: str) -> str:
        return f"Hello {name}"


def run_python(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter, without this process's metrics folder."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done
