"""The examples of the gateway guide: the app behind Pushpin, and the chart."""

from __future__ import annotations

import threading
import time
import typing as t

import jwt
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from support.loopback import LoopbackServer

KEY = "a-key-of-32-characters-or-more-xyz"


class Publishing:
    """Pushpin's publishing endpoint, recording what it gets."""

    def __init__(self) -> None:
        self.items: list[dict[str, t.Any]] = []
        self.got = threading.Event()

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        self.items.extend(Request(environ).get_json()["items"])
        self.got.set()
        return Response("Published\n")(environ, start_response)


def test_the_app_hands_held_streams_to_pushpin(load_example, redis_server) -> None:
    publishing = Publishing()
    with LoopbackServer(publishing) as pushpin:
        example = load_example(
            "gateway",
            env={
                "REDIS_URL": redis_server.url,
                "GRIP_KEY": KEY,
                "GRIP_URL": pushpin.url,
            },
        )
        client = example.app.test_client()
        listen = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "subscriptions/listen",
            "params": {
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {"name": "d", "version": "1"},
                },
                "notifications": {"resourceSubscriptions": ["tickets://1"]},
            },
        }
        signature = jwt.encode(
            {"iss": "pushpin", "exp": int(time.time()) + 60}, KEY, algorithm="HS256"
        )
        response = client.post(
            "/mcp",
            json=listen,
            headers={
                "Host": "tools.example.com",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2026-07-28",
                "Mcp-Method": "subscriptions/listen",
                "Grip-Sig": signature,  # as Pushpin sends it
            },
        )
        assert response.headers["Grip-Hold"] == "stream"
        with example.app.app_context():
            assert example.close_ticket(1) == "closed"
        assert publishing.got.wait(5)
        relay = example.app.extensions["mcp_gateway"]["mcp"]
        assert relay.publisher.flush(5)
    contents = [item["http-stream"]["content"] for item in publishing.items]
    assert any('"uri":"tickets://1"' in content for content in contents)
