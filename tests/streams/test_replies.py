"""Replies to the server's own requests (2025 sessions): one per question.

A response the client posts must answer a request this session was sent and
has not yet answered; anything else is a 400 with a JSON-RPC error body
(issue 15 item 13), never a silent 202.
"""

from __future__ import annotations

import json
import typing as t

import pytest
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP

from .inprocess import open_session


@pytest.fixture
def app(tmp_path: t.Any) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path))
    mcp = FlaskMCP(app)

    @mcp.tool()
    def ask(ctx: Context) -> str:
        """Asks the client's model, then answers what it said."""
        reply = ctx.sample("hello?", max_tokens=10)
        return f"model said {reply['content']['text']}"

    return app


def session(client: t.Any) -> dict[str, str]:
    return open_session(client, capabilities={"sampling": {}})


def events(response: t.Any) -> t.Iterator[dict[str, t.Any]]:
    buffer = b""
    for chunk in response.iter_encoded():
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if line.startswith(b"data: {"):
                    yield json.loads(line[6:])


def reply(request_id: t.Any, text: str) -> str:
    result = {"role": "assistant", "content": {"type": "text", "text": text}}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result})


def test_one_reply_per_question(app: Flask) -> None:
    client = app.test_client()
    headers = session(client)
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "ask", "arguments": {}},
    }
    response = client.post("/mcp", data=json.dumps(call), headers=headers)
    stream = events(response)
    question = next(stream)
    assert question["method"] == "sampling/createMessage"

    first = client.post("/mcp", data=reply(question["id"], "yes"), headers=headers)
    assert first.status_code == 202
    again = client.post("/mcp", data=reply(question["id"], "no"), headers=headers)
    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == -32600
    assert again.get_json()["id"] == question["id"]

    final = next(stream)
    assert final["result"]["content"][0]["text"] == "model said yes"
    response.close()


def test_a_question_of_another_session_cannot_be_answered(app: Flask) -> None:
    client = app.test_client()
    asker, other = session(client), session(client)
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "ask", "arguments": {}},
    }
    response = client.post("/mcp", data=json.dumps(call), headers=asker)
    stream = events(response)
    question = next(stream)
    stolen = client.post("/mcp", data=reply(question["id"], "forged"), headers=other)
    assert stolen.status_code == 400
    answered = client.post("/mcp", data=reply(question["id"], "real"), headers=asker)
    assert answered.status_code == 202
    assert next(stream)["result"]["content"][0]["text"] == "model said real"
    response.close()


def test_an_unawaited_reply_in_a_batch_gets_an_error_item(app: Flask) -> None:
    client = app.test_client()
    headers = open_session(client, "2025-03-26")  # batches exist there
    batch = [
        json.loads(reply("srv-nobody-asked", "x")),
        {"jsonrpc": "2.0", "id": 5, "method": "ping"},
    ]
    answered = client.post("/mcp", data=json.dumps(batch), headers=headers)
    assert answered.status_code == 200
    items = answered.get_json()
    assert {"jsonrpc": "2.0", "id": 5, "result": {}} in items
    errors = [item for item in items if "error" in item]
    assert len(errors) == 1 and errors[0]["error"]["code"] == -32600
