"""Raw HTTP against the example app: every bad input gets JSON.

Each refusal is checked for its HTTP status, a JSON (never HTML) body, the
JSON-RPC error code and the id (echoed when it can be read, absent when not).
Two apps for the module, both on the file store, answered in the test's
process through Flask's test client (the same WSGI stack gunicorn runs): the
example app as shipped, and the example app plus two tools that fail with an
unexpected exception, with ``MCP_MAX_BODY=1024`` (the example app itself has
no tool that raises anything but :class:`~flask_mcp.ToolError`). What needs a
real server (worker processes, a chunked body on the wire) is in
``test_http_workers.py``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import typing as t

import pytest
from e2e.apps.failing_app import MAX_BODY
from e2e.apps.failing_app import SECRET
from e2e.apps.failing_app import create_app as create_app_with_failing_tools

import example_app
from support.app_http import AppHTTP
from support.app_http import Reply

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"
BOTH = "application/json, text/event-stream"
NO_ID = object()


# ---------------------------------------------------------------------------
# apps


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[AppHTTP]:
    """The example app as shipped: default settings, file store."""
    with pytest.MonkeyPatch.context() as env:
        for name in [k for k in os.environ if k.startswith("MCP_")]:
            env.delenv(name)
        env.setenv("EXAMPLE_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        yield AppHTTP(example_app.create_app())


@pytest.fixture(scope="module")
def limited_url(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[AppHTTP]:
    """The example app with failing tools and a 1 KiB body limit."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(
            "EXAMPLE_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance-limited"))
        )
        yield AppHTTP(create_app_with_failing_tools())


# ---------------------------------------------------------------------------
# helpers


def post(
    url: AppHTTP,
    body: t.Any,
    *,
    session: str | None = None,
    version: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """POST ``body`` (a dict or list is JSON-encoded, the rest sent as is)."""
    all_headers = {"Accept": BOTH, "Content-Type": JSON_TYPE}
    if session is not None:
        all_headers["Mcp-Session-Id"] = session
    if version is not None:
        all_headers["MCP-Protocol-Version"] = version
    all_headers.update(headers or {})
    data = json.dumps(body) if isinstance(body, (dict, list)) else body
    return url.post(data, headers=all_headers)


def get(url: AppHTTP, headers: dict[str, str]) -> Reply:
    return url.get(headers)


def open_session(url: AppHTTP, version: str = "2025-11-25") -> str:
    response = post(
        url,
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "raw-http-test", "version": "1"},
            },
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["protocolVersion"] == version
    session_id = response.headers["Mcp-Session-Id"]
    assert (
        post(
            url,
            notification("notifications/initialized"),
            session=session_id,
            version=version,
        ).status_code
        == 202
    )
    return session_id


def request(
    request_id: t.Any, method: str, params: dict[str, t.Any] | None = None
) -> dict:
    message: dict[str, t.Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method: str) -> dict:
    return {"jsonrpc": "2.0", "method": method}


def json_of(response: Reply) -> t.Any:
    """The body, which must be JSON whatever the status."""
    assert response.headers.get("Content-Type", "").startswith(JSON_TYPE), (
        response.status_code,
        response.headers,
        response.text[:500],
    )
    assert "<html" not in response.text.lower()
    return response.json()


def assert_error(
    response: Reply, status: int, code: int, request_id: t.Any = NO_ID
) -> dict:
    """A JSON-RPC error with this HTTP status and code; the id only when readable."""
    body = json_of(response)
    assert response.status_code == status, body
    assert body["jsonrpc"] == "2.0"
    assert "result" not in body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if request_id is NO_ID:
        assert "id" not in body, body
    else:
        assert body["id"] == request_id, body
    return body


def assert_result(response: Reply, request_id: t.Any) -> dict:
    body = json_of(response)
    assert response.status_code == 200, body
    assert body["jsonrpc"] == "2.0"
    assert body["id"] == request_id
    assert "error" not in body, body
    return body["result"]


def sse_events(text: str) -> list[dict[str, str]]:
    """Parse an SSE body into events (field -> value; data lines joined)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data" and "data" in event:
                event["data"] += "\n" + value
            else:
                event[name] = value
        events.append(event)
    return events


def tool_call(request_id: t.Any, name: str, arguments: dict | None = None) -> dict:
    params: dict[str, t.Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return request(request_id, "tools/call", params)


# ---------------------------------------------------------------------------
# malformed messages


@pytest.mark.parametrize(
    "body", [b"not json", b"{", b'{"jsonrpc": "2.0",', b"\xff\xfe", b""]
)
def test_body_not_json_is_parse_error(url: AppHTTP, body: bytes) -> None:
    session = open_session(url)
    assert_error(post(url, body, session=session), 400, -32700)
    # Refused before any session check, too.
    assert_error(post(url, body), 400, -32700)


@pytest.mark.parametrize(
    ("body", "request_id"),
    [
        ({"foo": 1}, NO_ID),
        ('"just a string"', NO_ID),
        ("42", NO_ID),
        ("null", NO_ID),
        ({"jsonrpc": "2.0", "id": 4}, 4),
        ({"jsonrpc": "2.0", "id": "x", "params": {}}, "x"),
        ({"jsonrpc": "1.0", "id": 5, "method": "ping"}, 5),
        ({"id": 6, "method": "ping"}, 6),
        ({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": [1, 2]}, 7),
        ({"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": "x"}, 8),
    ],
    ids=[
        "no-jsonrpc",
        "string",
        "number",
        "null",
        "id-only",
        "no-method",
        "jsonrpc-1.0",
        "jsonrpc-missing",
        "params-array",
        "params-string",
    ],
)
def test_json_but_not_a_request_is_invalid_request(
    url: AppHTTP, body: t.Any, request_id: t.Any
) -> None:
    session = open_session(url)
    assert_error(
        post(url, body, session=session, version="2025-11-25"), 400, -32600, request_id
    )


@pytest.mark.parametrize("method", ["ping", "tools/list", "tools/call"])
def test_null_id_is_invalid_request(url: AppHTTP, method: str) -> None:
    session = open_session(url)
    response = post(url, request(None, method), session=session, version="2025-11-25")
    assert_error(response, 400, -32600)


def test_null_id_on_initialize_is_invalid_request(url: AppHTTP) -> None:
    response = post(url, request(None, "initialize", {"protocolVersion": "2025-11-25"}))
    assert_error(response, 400, -32600)
    assert "Mcp-Session-Id" not in response.headers


@pytest.mark.parametrize(
    ("body", "request_id"),
    [
        (request(None, "server/discover"), NO_ID),
        (request(None, "no/such/method"), NO_ID),
        (request(True, "no/such/method"), NO_ID),
        (request({"a": 1}, "no/such/method"), NO_ID),
        ({"jsonrpc": "2.0", "id": 9, "method": 42}, 9),
        ({"jsonrpc": "1.0", "id": 9, "method": "no/such/method"}, 9),
        ({"jsonrpc": "2.0", "id": 9, "method": "no/such/method", "params": [1]}, 9),
    ],
    ids=[
        "null-id-discover",
        "null-id",
        "bool-id",
        "object-id",
        "number-method",
        "jsonrpc-1.0",
        "params-array",
    ],
)
def test_invalid_request_is_invalid_even_when_the_method_is_unknown(
    url: AppHTTP, body: dict, request_id: t.Any
) -> None:
    """Validity comes before dispatch: an unknown method does not excuse a bad message.

    Fails today: ``Endpoint.post`` answers any dict with ``id`` and an unknown
    ``method`` with 200 -32601 before ``jsonrpc.parse_message`` validates it.
    """
    session = open_session(url)
    assert_error(
        post(url, body, session=session, version="2025-11-25"), 400, -32600, request_id
    )


# ---------------------------------------------------------------------------
# batches


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_batch_is_refused_after_2025_03_26(url: AppHTTP, version: str) -> None:
    session = open_session(url, version)
    batch = [request(1, "ping"), request(2, "tools/list")]
    assert_error(post(url, batch, session=session, version=version), 400, -32600)


def test_batch_is_answered_under_2025_03_26(url: AppHTTP) -> None:
    session = open_session(url, "2025-03-26")
    batch = [
        request(1, "ping"),
        notification("notifications/initialized"),
        tool_call("two", "add", {"a": 2, "b": 3}),
        request(3, "no/such/method"),
        request(4, "tools/call", {"name": "no_such_tool"}),
        {"jsonrpc": "2.0", "id": None, "method": "ping"},
    ]
    # Without MCP-Protocol-Version a request is taken as 2025-03-26 anyway.
    response = post(url, batch, session=session)
    answers = json_of(response)
    assert response.status_code == 200
    assert isinstance(answers, list)
    assert len(answers) == 5  # the notification gets no answer
    by_id = {a.get("id"): a for a in answers}
    assert by_id[1]["result"] == {}
    assert by_id["two"]["result"]["content"] == [{"type": "text", "text": "5"}]
    assert by_id[3]["error"]["code"] == -32601
    assert by_id[4]["error"]["code"] == -32602
    assert by_id[None]["error"]["code"] == -32600
    assert "id" not in by_id[None]


def test_empty_batch_is_invalid_request(url: AppHTTP) -> None:
    session = open_session(url, "2025-03-26")
    assert_error(post(url, [], session=session), 400, -32600)


def test_batch_follows_the_session_version_not_the_header(url: AppHTTP) -> None:
    session = open_session(url, "2025-06-18")
    batch = [request(1, "ping")]
    assert_error(post(url, batch, session=session, version="2025-03-26"), 400, -32600)


# ---------------------------------------------------------------------------
# methods, tools and arguments


def test_unknown_method_is_method_not_found(url: AppHTTP) -> None:
    session = open_session(url)
    response = post(
        url, request(7, "no/such/method"), session=session, version="2025-11-25"
    )
    assert_error(response, 200, -32601, 7)


def test_discover_without_the_meta_claim_is_invalid_params(url: AppHTTP) -> None:
    """A 2026-07-28 header on a body without ``_meta`` is a malformed request
    (the body decides the era), not a legacy probe."""
    response = post(url, request("probe", "server/discover", {}), version="2026-07-28")
    assert_error(response, 400, -32602, "probe")


def test_discover_probe_of_a_legacy_client_is_method_not_found(url: AppHTTP) -> None:
    """Without header or claim it is legacy traffic: an unknown method there."""
    response = post(url, request("probe", "server/discover", {}))
    assert_error(response, 200, -32601, "probe")


def test_unknown_tool_is_invalid_params(url: AppHTTP) -> None:
    session = open_session(url)
    response = post(
        url, tool_call(8, "no_such_tool", {}), session=session, version="2025-11-25"
    )
    body = assert_error(response, 200, -32602, 8)
    assert "no_such_tool" in body["error"]["message"]


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18"])
def test_wrong_argument_types_before_2025_11_25_are_invalid_params(
    url: AppHTTP, version: str
) -> None:
    session = open_session(url, version)
    response = post(
        url, tool_call(9, "add", {"a": "one", "b": 2}), session=session, version=version
    )
    body = assert_error(response, 200, -32602, 9)
    assert "a" in body["error"]["message"]
    assert body["error"]["data"]["errors"]


def test_wrong_argument_types_in_2025_11_25_are_a_tool_error(url: AppHTTP) -> None:
    session = open_session(url, "2025-11-25")
    response = post(
        url,
        tool_call(9, "add", {"a": "one", "b": 2}),
        session=session,
        version="2025-11-25",
    )
    result = assert_result(response, 9)
    assert result["isError"] is True
    assert "'one' is not of type 'integer'" in result["content"][0]["text"]


def test_tool_error_is_an_is_error_result(url: AppHTTP) -> None:
    session = open_session(url)
    response = post(
        url, tool_call(10, "test_error_handling"), session=session, version="2025-11-25"
    )
    result = assert_result(response, 10)
    assert result["isError"] is True
    assert result["content"] == [
        {"type": "text", "text": "This tool intentionally returns an error for testing"}
    ]


@pytest.mark.parametrize("tool", ["explode", "explode_while_streaming"])
def test_unexpected_exception_is_an_is_error_result_and_logged(
    limited_url: AppHTTP, tool: str, caplog: pytest.LogCaptureFixture
) -> None:
    session = open_session(limited_url)
    with caplog.at_level(logging.ERROR):
        response = post(
            limited_url, tool_call(11, tool, {}), session=session, version="2025-11-25"
        )
    assert_masked_tool_error(response, tool)
    assert f"tool '{tool}' raised" in caplog.text
    assert f"RuntimeError: {SECRET}" in caplog.text
    assert_result(
        post(limited_url, request(12, "ping"), session=session, version="2025-11-25"),
        12,
    )


def assert_masked_tool_error(response: Reply, tool: str) -> None:
    """A tool's unexpected exception: an ``isError`` result without its text."""
    assert response.status_code == 200
    if tool == "explode":
        result = assert_result(response, 11)
    else:
        assert response.headers["Content-Type"].startswith(SSE_TYPE)
        messages = [
            json.loads(e["data"]) for e in sse_events(response.text) if e.get("data")
        ]
        assert messages[0]["method"] == "notifications/message"
        assert messages[-1]["id"] == 11
        result = messages[-1]["result"]
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert tool in text
    assert SECRET not in text  # MCP_MASK_ERRORS hides the exception text


# ---------------------------------------------------------------------------
# sessions and versions


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_missing_session_is_bad_request(url: AppHTTP, method: str) -> None:
    headers = {
        "Accept": BOTH if method != "GET" else SSE_TYPE,
        "Content-Type": JSON_TYPE,
    }
    data = json.dumps(request(1, "ping")) if method == "POST" else None
    response = url.request(method, headers=headers, data=data)
    body = assert_error(response, 400, -32600, 1 if method == "POST" else NO_ID)
    assert "Mcp-Session-Id" in body["error"]["message"]


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_unknown_session_is_not_found(url: AppHTTP, method: str) -> None:
    headers = {
        "Accept": BOTH if method != "GET" else SSE_TYPE,
        "Content-Type": JSON_TYPE,
        "Mcp-Session-Id": "no-such-session",
    }
    data = json.dumps(request(1, "ping")) if method == "POST" else None
    response = url.request(method, headers=headers, data=data)
    assert_error(response, 404, -32001, 1 if method == "POST" else NO_ID)


def test_deleted_session_is_not_found(url: AppHTTP) -> None:
    session = open_session(url)
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    assert_result(post(url, request(1, "ping"), session=session), 1)
    deleted = url.request("DELETE", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    # Gone on every worker, for every method.
    for i in range(4):
        assert_error(post(url, request(i, "ping"), session=session), 404, -32001, i)
    assert_error(get(url, {**headers, "Accept": SSE_TYPE}), 404, -32001)
    assert_error(url.request("DELETE", headers=headers), 404, -32001)


@pytest.mark.parametrize("version", ["1999-01-01", "2026-13-45", "latest", ""])
def test_unsupported_protocol_version_header_is_bad_request(
    url: AppHTTP, version: str
) -> None:
    session = open_session(url)
    response = get(
        url,
        {
            "Accept": SSE_TYPE,
            "Mcp-Session-Id": session,
            "MCP-Protocol-Version": version,
        },
    )
    body = assert_error(response, 400, -32600)
    assert "MCP-Protocol-Version" in body["error"]["message"]
    response = post(url, request(1, "ping"), session=session, version=version)
    assert_error(response, 400, -32600, request_id=1)


@pytest.mark.parametrize("version", ["1999-01-01", "latest"])
def test_unsupported_protocol_version_error_echoes_the_request_id(
    url: AppHTTP, version: str
) -> None:
    """Like every other refusal of a readable request, this one should carry its id.

    Fails today: ``Endpoint._header_version`` raises ``HTTPError`` without the
    request id, while the session errors right after it do echo it.
    """
    session = open_session(url)
    response = post(url, request(12, "ping"), session=session, version=version)
    assert_error(response, 400, -32600, 12)


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18", "2025-11-25"])
def test_supported_protocol_version_headers_are_accepted(
    url: AppHTTP, version: str
) -> None:
    session = open_session(url)
    assert_result(post(url, request(1, "ping"), session=session, version=version), 1)


# ---------------------------------------------------------------------------
# DNS rebinding


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example.com"},
        {"Host": "evil.example.com:8000"},
        {"Host": "localhost.evil.example.com"},
        {"Origin": "http://evil.example.com"},
        {"Origin": "https://evil.example.com:443"},
        {"Origin": "http://localhost.evil.example.com"},
        {"Origin": "null"},
        {"Host": "localhost", "Origin": "http://evil.example.com"},
    ],
    ids=lambda h: " ".join(f"{k}={v}" for k, v in h.items()),
)
@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_foreign_host_or_origin_is_forbidden(
    url: AppHTTP, method: str, headers: dict[str, str]
) -> None:
    session = open_session(url)
    all_headers = {
        "Accept": BOTH if method != "GET" else SSE_TYPE,
        "Content-Type": JSON_TYPE,
        "Mcp-Session-Id": session,
        **headers,
    }
    data = json.dumps(request(1, "ping")) if method == "POST" else None
    response = url.request(method, headers=all_headers, data=data)
    assert_error(response, 403, -32600)
    # The session was not touched.
    assert_result(post(url, request(2, "ping"), session=session), 2)


def test_foreign_host_cannot_initialize(url: AppHTTP) -> None:
    response = post(
        url,
        request(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}}),
        headers={"Host": "evil.example.com"},
    )
    assert_error(response, 403, -32600)
    assert "Mcp-Session-Id" not in response.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "localhost"},
        {"Host": "localhost:1"},
        {"Host": "LOCALHOST:65535"},
        {"Host": "127.0.0.1:8080"},
        {"Host": "[::1]:3000"},
        {"Host": "[::1]"},
        {"Origin": "http://localhost"},
        {"Origin": "http://localhost:5173"},
        {"Origin": "https://127.0.0.1:9"},
        {"Origin": "http://[::1]:8000"},
        {"Host": "localhost:4000", "Origin": "http://127.0.0.1:3000"},
    ],
    ids=lambda h: " ".join(f"{k}={v}" for k, v in h.items()),
)
def test_localhost_host_and_origin_on_any_port_are_allowed(
    url: AppHTTP, headers: dict[str, str]
) -> None:
    session = open_session(url)
    response = post(
        url, request(1, "ping"), session=session, version="2025-11-25", headers=headers
    )
    assert_result(response, 1)


# ---------------------------------------------------------------------------
# HTTP-level refusals


def test_body_over_the_limit_is_payload_too_large(limited_url: AppHTTP) -> None:
    session = open_session(limited_url)
    padding = " " * MAX_BODY
    body = json.dumps(request(1, "ping")) + padding
    assert_error(post(limited_url, body, session=session), 413, -32600)


def test_body_at_the_limit_is_accepted(limited_url: AppHTTP) -> None:
    session = open_session(limited_url)
    message = json.dumps(request(1, "ping"))
    body = message + " " * (MAX_BODY - len(message))
    assert len(body) == MAX_BODY
    assert_result(post(limited_url, body, session=session), 1)


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/json",
        "text/event-stream",
        "",
        "application/xml, text/*",
    ],
)
def test_post_without_both_accept_types_is_not_acceptable(
    url: AppHTTP, accept: str
) -> None:
    session = open_session(url)
    response = post(
        url, request(1, "ping"), session=session, headers={"Accept": accept}
    )
    assert_error(response, 406, -32600)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded"]
)
def test_post_with_other_content_type_is_unsupported_media_type(
    url: AppHTTP, content_type: str
) -> None:
    session = open_session(url)
    response = post(
        url, request(1, "ping"), session=session, headers={"Content-Type": content_type}
    )
    assert_error(response, 415, -32600)


@pytest.mark.parametrize(
    "message",
    [
        notification("notifications/initialized"),
        {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": 1},
        },
        {"jsonrpc": "2.0", "method": "notifications/whatever"},
    ],
    ids=["initialized", "cancelled", "unknown-notification"],
)
def test_notification_is_accepted_with_empty_body(url: AppHTTP, message: dict) -> None:
    session = open_session(url)
    response = post(url, message, session=session, version="2025-11-25")
    assert response.status_code == 202
    assert response.content == b""


@pytest.mark.parametrize("reply_id", ["srv-unknown", 7])
def test_reply_to_a_request_never_sent_is_refused(
    url: AppHTTP, reply_id: t.Any
) -> None:
    """A response to a request the server never sent is an error, not 202."""
    session = open_session(url)
    reply = {"jsonrpc": "2.0", "id": reply_id, "result": {}}
    response = post(url, reply, session=session, version="2025-11-25")
    assert response.status_code == 400
    body = response.json()
    assert body["id"] == reply_id
    assert body["error"]["code"] == -32600
    assert "no request of the server awaits" in body["error"]["message"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_other_http_methods_are_not_allowed(url: AppHTTP, method: str) -> None:
    response = url.request(
        method,
        data=json.dumps(request(1, "ping")),
        headers={"Accept": BOTH, "Content-Type": JSON_TYPE},
    )
    assert_error(response, 405, -32600)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {
        "GET",
        "POST",
        "DELETE",
    }


# ---------------------------------------------------------------------------
# GET stream


@pytest.mark.parametrize("accept", ["application/json", "text/html", ""])
def test_get_without_event_stream_accept_is_not_acceptable(
    url: AppHTTP, accept: str
) -> None:
    session = open_session(url)
    response = get(url, {"Accept": accept, "Mcp-Session-Id": session})
    assert_error(response, 406, -32600)


def test_get_with_session_opens_an_event_stream_with_a_priming_event(
    url: AppHTTP,
) -> None:
    session = open_session(url)
    started = time.monotonic()
    response = get(
        url,
        {
            "Accept": SSE_TYPE,
            "Mcp-Session-Id": session,
            "MCP-Protocol-Version": "2025-11-25",
        },
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(SSE_TYPE)
    assert response.headers["Cache-Control"] == "no-cache"
    events = sse_events(response.text)
    priming = events[0]
    assert priming["id"]
    assert priming["data"] == ""
    assert int(priming["retry"]) > 0
    # An idle stream is closed after MCP_STREAM_HOLD (1 s), not held forever.
    assert elapsed < 10


def test_get_with_malformed_last_event_id_is_bad_request(url: AppHTTP) -> None:
    session = open_session(url)
    response = get(
        url,
        {
            "Accept": SSE_TYPE,
            "Mcp-Session-Id": session,
            "Last-Event-ID": "no-sequence-number",
        },
    )
    assert_error(response, 400, -32600)


# ---------------------------------------------------------------------------
# resumability (SEP-1699)


def test_stream_closed_mid_call_resumes_with_last_event_id(url: AppHTTP) -> None:
    session = open_session(url, "2025-11-25")
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    response = post(
        url,
        tool_call("r1", "test_reconnection", {}),
        session=session,
        version="2025-11-25",
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(SSE_TYPE)
    (priming,) = sse_events(response.text)  # closed early: no result on this stream
    assert priming["id"]
    assert priming["data"] == ""
    assert int(priming["retry"]) > 0

    # A new connection (possibly another worker) gets the rest from the event store.
    for _ in range(2):  # and the log can be replayed
        resumed = get(
            url, {**headers, "Accept": SSE_TYPE, "Last-Event-ID": priming["id"]}
        )
        assert resumed.status_code == 200
        assert resumed.headers["Content-Type"].startswith(SSE_TYPE)
        events = [e for e in sse_events(resumed.text) if e.get("data")]
        (final,) = events
        assert final["id"] != priming["id"]
        message = json.loads(final["data"])
        assert message["id"] == "r1"
        assert message["result"]["content"] == [
            {"type": "text", "text": "Reconnection test completed successfully"}
        ]


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18"])
def test_stream_is_not_closed_mid_call_without_priming_events(
    url: AppHTTP, version: str
) -> None:
    """Before 2025-11-25 there is no priming event to resume from, so the result
    must come on the POST response (as the Python SDK does).

    Fails today: ``close_stream()`` ends the SSE body with no event at all, so
    the client has no event id to resume from and never gets the result.
    """
    session = open_session(url, version)
    response = post(
        url, tool_call("r2", "test_reconnection", {}), session=session, version=version
    )
    assert response.status_code == 200
    if response.headers["Content-Type"].startswith(SSE_TYPE):
        messages = [
            json.loads(e["data"]) for e in sse_events(response.text) if e.get("data")
        ]
        assert messages, "the stream ended without the result and without an event id"
        final = messages[-1]
    else:
        final = json_of(response)
    assert final["id"] == "r2"
    assert (
        final["result"]["content"][0]["text"]
        == "Reconnection test completed successfully"
    )
