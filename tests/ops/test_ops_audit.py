"""The audit trail: one JSON line per audited event, every documented field
in every line, and argument values only when the operator asks."""

from __future__ import annotations

import hashlib
import json
import logging
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp import ToolError
from flask_mcp.auth import TokenSession
from flask_mcp.ops.audit import FIELDS
from flask_mcp.ops.audit_line import arguments_digest

from .helpers import call
from .helpers import modern
from .helpers import post

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


class Lines(logging.Handler):
    """The audit lines, parsed."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict[str, t.Any]] = []
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(record.getMessage())
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def trail() -> t.Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("flask_mcp.audit")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def authenticate(request: t.Any) -> t.Any:
    key = request.headers.get("X-Key")
    if key == "ann":
        return {"sub": "ann", "client_id": "laptop"}
    if key == "bot":
        return TokenSession(subject="svc-7", client_id="ci", scopes=frozenset())
    return None


def make_app(tmp_path: Path, **config: t.Any) -> Flask:
    app = Flask("audit", instance_path=str(tmp_path))
    app.config.update({"MCP_AUDIT": True, "MCP_STATELESS": True, **config})
    mcp = FlaskMCP(authenticate=authenticate)

    @mcp.tool(rate_limit="1/minute")
    def transfer(amount: int, to: str) -> str:
        return "done"

    @mcp.tool
    def fails() -> str:
        raise ToolError("nope")

    @mcp.resource("notes://{id}")
    def note(id: str) -> str:
        return id

    @mcp.prompt
    def greet(name: str) -> str:
        return f"hi {name}"

    mcp.init_app(app)
    return app


def test_a_line_per_call_read_prompt_and_refusal(tmp_path: Path, trail: Lines) -> None:
    client = make_app(tmp_path).test_client()
    args = {"to": "bob", "amount": 5}
    ann = {"X-Key": "ann", "traceparent": PARENT}
    assert post(client, call("transfer", args), **ann).status_code == 200
    assert post(client, call("transfer", args), **ann).status_code == 429
    post(client, call("fails"), **{"X-Key": "bot"})
    assert post(client, call("transfer", args)).status_code == 401
    message, headers = modern("resources/read", {"uri": "notes://3"})
    post(client, message, **headers, **{"X-Key": "ann"})
    message, headers = modern(
        "prompts/get", {"name": "greet", "arguments": {"name": "Z"}}
    )
    post(client, message, **headers, **{"X-Key": "ann"})
    post(
        client, {"jsonrpc": "2.0", "id": 5, "method": "tools/list"}, **{"X-Key": "ann"}
    )

    events = [(line["event"], line["outcome"]) for line in trail.lines]
    assert events == [
        ("tools/call", "ok"),
        ("limit_refused", "limited"),
        ("tools/call", "tool_error"),
        ("auth_refused", "refused"),
        ("resources/read", "ok"),
        ("prompts/get", "ok"),
    ]
    for line in trail.lines:
        assert tuple(line) == FIELDS  # every field, in the documented order
    first = trail.lines[0]
    assert first["principal_source"] == "custom"
    assert first["principal_subject"] == "ann"
    assert first["client_id"] == "laptop"
    assert first["method"] == "tools/call" and first["name"] == "transfer"
    assert first["arguments"] is None
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"))
    assert first["arguments_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert first["trace_id"] == TRACE
    assert first["request_id"] == 1 and first["client_address"] == "127.0.0.1"
    assert first["duration_ms"] > 0
    assert first["time"].endswith("Z")
    limited = trail.lines[1]
    assert limited["reason"] == "tool" and limited["error_code"] == 429
    assert limited["principal_subject"] == "ann" and limited["name"] == "transfer"
    assert limited["trace_id"] == TRACE  # from the HTTP header
    bot = trail.lines[2]
    assert (bot["principal_source"], bot["principal_subject"]) == ("token", "svc-7")
    refused = trail.lines[3]
    assert refused["reason"] == "unauthenticated" and refused["error_code"] == 401
    assert refused["principal_subject"] is None
    assert trail.lines[4]["name"] == "notes://3"
    assert trail.lines[5]["arguments_sha256"] == arguments_digest({"name": "Z"})
    # One physical line each, whatever the arguments hold.
    assert all("\n" not in raw for raw in trail.raw)


def test_argument_values_only_when_configured(tmp_path: Path, trail: Lines) -> None:
    client = make_app(tmp_path, MCP_AUDIT_ARGUMENTS=True).test_client()
    tricky = {"to": 'line\nbreak \u2028 \U0001f600 "quoted"', "amount": 1}
    post(client, call("transfer", tricky), **{"X-Key": "ann"})
    assert trail.lines[0]["arguments"] == tricky
    assert "\n" not in trail.raw[0]


def test_digest_is_of_canonical_json() -> None:
    assert arguments_digest(None) is None
    assert arguments_digest({"b": 1, "a": [1, "é"]}) == arguments_digest(
        {"a": [1, "é"], "b": 1}
    )
    expected = hashlib.sha256('{"a":[1,"é"],"b":1}'.encode()).hexdigest()
    assert arguments_digest({"b": 1, "a": [1, "é"]}) == expected


def test_off_by_default_and_silent_when_the_logger_is(tmp_path: Path) -> None:
    app = Flask("quiet", instance_path=str(tmp_path))
    app.config["MCP_STATELESS"] = True
    mcp = FlaskMCP(app)

    @mcp.tool
    def echo(text: str) -> str:
        return text

    handler = Lines()
    logging.getLogger("flask_mcp.audit").addHandler(handler)
    try:
        post(app.test_client(), call("echo", {"text": "x"}))
    finally:
        logging.getLogger("flask_mcp.audit").removeHandler(handler)
    assert handler.lines == []


def test_a_broken_handler_never_fails_the_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise OSError("disk full")

        def handleError(self, record: logging.LogRecord) -> None:
            raise  # what a handler with raiseExceptions does at worst

    logger = logging.getLogger("flask_mcp.audit")
    broken = Broken()
    logger.addHandler(broken)
    logger.setLevel(logging.INFO)
    try:
        client = make_app(tmp_path).test_client()
        with caplog.at_level(logging.ERROR, "flask_mcp.ops.receivers"):
            for _ in range(2):
                response = post(client, call("fails"), **{"X-Key": "ann"})
                assert response.status_code == 200
    finally:
        logger.removeHandler(broken)
        logger.setLevel(logging.NOTSET)
    assert caplog.text.count("the request goes on without it") <= 1
