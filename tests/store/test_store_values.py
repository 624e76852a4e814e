"""Every value the library stores is JSON data that reads back equal: no
tuple that comes back a list, no set, no bytes, no integer key turned into a
string. A backend that checks each write serves a server through sessions,
subscriptions, log levels, streamed calls, notifications and JWT keys."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth
from flask_mcp.store import Store
from flask_mcp.store.backends import FileStoreBackend
from flask_mcp.store.codec import dumps
from flask_mcp.store.codec import loads
from support.counting_issuer import CountingIssuer

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}


def same(a: t.Any, b: t.Any) -> bool:
    """Equal, and of the same types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


class Strict(FileStoreBackend):
    """Refuses (by failing the test) a value that would not read back equal."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.written: list[str] = []

    def _check(self, key: str, value: t.Any) -> None:
        assert same(loads(dumps(value)), value), f"{key}: {value!r}"
        self.written.append(key)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self._check(key, value)
        super().set(key, value, ttl)

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        self._check(key, value)
        return super().add(key, value, ttl)


def post(
    client: t.Any, headers: dict[str, str], id_: int, method: str, **params: t.Any
) -> t.Any:
    body = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}
    return client.post("/mcp", data=json.dumps(body), headers=headers)


def test_every_value_written_reads_back_equal(tmp_path: Path) -> None:
    backend = Strict(str(tmp_path / "strict"))
    with CountingIssuer() as issuer:
        app = Flask("values", instance_path=str(tmp_path / "instance"))
        app.config["MCP_STREAM_HOLD"] = 0.2
        verifier = JWTVerifier(issuer.url, "values")
        mcp = FlaskMCP(
            app, store=Store(backend, "v:"), authenticate=bearer_auth(verifier)
        )

        @mcp.resource("notes://today")
        def today() -> str:
            """Today's note."""
            return "note"

        @mcp.tool
        def steps(ctx: Context) -> dict[str, t.Any]:
            """Progress, then a structured answer with a tuple in it."""
            ctx.report_progress(1, 2, message="half")
            ctx.report_progress(2, 2)
            return {"pair": (1, 2), "nested": {"ok": True}}

        client = app.test_client()
        auth = {**HEADERS, "Authorization": f"Bearer {issuer.mint('ann', 'values')}"}
        opened = post(
            client,
            auth,
            1,
            "initialize",
            protocolVersion="2025-11-25",
            capabilities={"roots": {}},
            clientInfo={"name": "t", "version": "0"},
        )
        assert opened.status_code == 200, opened.text
        headers = {**auth, "Mcp-Session-Id": opened.headers["Mcp-Session-Id"]}
        assert (
            post(
                client, headers, 2, "resources/subscribe", uri="notes://today"
            ).status_code
            == 200
        )
        assert (
            post(client, headers, 3, "logging/setLevel", level="debug").status_code
            == 200
        )
        streamed = post(
            client,
            headers,
            4,
            "tools/call",
            name="steps",
            arguments={},
            _meta={"progressToken": "p"},
        )
        assert streamed.status_code == 200 and "half" in streamed.get_data(as_text=True)
        with app.app_context():
            mcp.notify_resource_updated("notes://today")
            mcp.notify_list_changed("tools")
        stream = client.get(
            "/mcp",
            headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": "_.0"},
        )
        assert "notifications/resources/updated" in stream.get_data(as_text=True)
    kinds = {key.split(":")[1] for key in backend.written}
    # Sessions, events and their counters, leases, the notification log,
    # the discovery documents, their index and the key set were all written.
    assert {"session", "ev", "lease", "auth"} <= kinds, kinds
