"""Raw HTTP on the 2026-07-28 path: every validation rule, error code and
result field, multi-round requests, cancellation and listen streams.

The app: the example app, no authentication, file store, plus a tool that
works until its client goes away, and ``MCP_LISTEN_HOLD`` of 2 s. Requests
whose answer is complete when the response is (validation, errors, results,
multi-round requests) go to it in the test's process through Flask's test
client (``url``); what needs a real connection (closing a stream to cancel,
listen streams held by one worker while another serves) goes to the same app
on gunicorn with 2 sync workers (``served_url``). ``keyed_server``: the example
app's API-key mode (two keys, two users), on Redis, on gunicorn.

Step-up authorization needs a tool the example app does not have: those
tests run a small app through the Flask test client.

Every request is built from its body the way a conforming client builds it
(``_meta``, ``MCP-Protocol-Version``, ``Mcp-Method``, ``Mcp-Name``,
``Mcp-Param-*``); each test then breaks exactly one thing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import threading
import time
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_scopes
from flask_mcp.config import MCP_REQUEST_STATE_TTL
from support import GunicornServer
from support.app_http import AppHTTP
from support.app_http import Reply
from support.clock import Clock

E2E_DIR = Path(__file__).resolve().parent
TESTS_DIR = E2E_DIR.parent
MODERN = "2026-07-28"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"
LISTEN_HOLD = 2.0
ALICE, BOB = "key-alice", "key-bob"
ALL_CAPABILITIES = {"sampling": {}, "elicitation": {}, "roots": {}}
SERVER_INFO = {"name": "flask-mcp-example", "version": "0.1.0"}
#: The tool whose arguments are mirrored into Mcp-Param-* headers.
HEADER_TOOL = "test_header_params"
HEADER_PARAMS = {"region": "Region", "shard": "Shard", "dry_run": "Dry-Run"}
ELICIT = "test_input_required_result_elicitation"
MULTIPLE = "test_input_required_result_multiple_inputs"


def create_app_with_work_tool() -> Flask:
    """The example app plus a tool that works until it is cancelled."""
    from example_app import everyday
    from example_app import fixtures
    from example_app import modern_fixtures

    app = Flask("example_app", instance_path=os.environ["EXAMPLE_INSTANCE_PATH"])
    app.config["MCP_LISTEN_HOLD"] = LISTEN_HOLD
    mcp = FlaskMCP(
        name="flask-mcp-example",
        version="0.1.0",
        instructions="Conformance fixtures and a few small everyday tools.",
    )
    fixtures.register(mcp)
    modern_fixtures.register(mcp)
    everyday.register(mcp)

    @mcp.tool()
    def work_until_cancelled(marker: str, ctx: Context) -> str:
        """Reports progress every 50 ms until the client goes away (or 30 s)."""
        path = Path(marker)
        ticks = 0
        try:
            while not ctx.cancelled and ticks < 600:
                ticks += 1
                path.write_text(f"working {ticks}")
                ctx.report_progress(ticks)
                time.sleep(0.05)
        finally:
            path.write_text(f"stopped {ticks} cancelled={ctx.cancelled}")
        return "finished"

    @mcp.tool()
    def work_without_looking(marker: str, ctx: Context) -> str:
        """Reports progress every 50 ms, never asking whether to go on: its
        next report after the client left raises instead."""
        path = Path(marker)
        ticks = 0
        try:
            while ticks < 600:
                ticks += 1
                path.write_text(f"working {ticks}")
                ctx.report_progress(ticks)
                time.sleep(0.05)
        finally:
            path.write_text(f"stopped {ticks} cancelled={ctx.cancelled}")
        return "finished"

    mcp.init_app(app)
    return app


# ---------------------------------------------------------------------------
# servers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    env = {
        "EXAMPLE_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "MCP_STORE_URL": None,
    }
    with GunicornServer(
        app="test_modern_http:create_app_with_work_tool()",
        env=env,
        workers=2,
        args=["--pythonpath", f"{E2E_DIR},{TESTS_DIR}"],
        clean_log=True,  # no traceback in the server's log
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def keyed_server(request: pytest.FixtureRequest):
    redis_server = request.getfixturevalue("redis_server")
    env = {
        "EXAMPLE_API_KEYS": f"{ALICE}=alice:admin,{BOB}=bob:user",
        "MCP_STORE_URL": redis_server.url.rsplit("/", 1)[0] + "/2",
    }
    with GunicornServer(app="example_app:create_app()", env=env, workers=2) as srv:
        yield srv


@pytest.fixture(scope="module")
def app_http(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[AppHTTP]:
    """The app of ``server``, in this process."""
    with pytest.MonkeyPatch.context() as env:
        instance = tmp_path_factory.mktemp("instance-in-process")
        env.setenv("EXAMPLE_INSTANCE_PATH", str(instance))
        yield AppHTTP(create_app_with_work_tool())


@pytest.fixture
def url(app_http: AppHTTP) -> AppHTTP:
    return app_http


@pytest.fixture
def served_url(server: GunicornServer) -> str:
    return server.url + "/mcp"


@pytest.fixture
def keyed_url(keyed_server: GunicornServer) -> str:
    return keyed_server.url + "/mcp"


# ---------------------------------------------------------------------------
# building requests as a conforming client does


def meta(capabilities: dict | None = None, **extra: t.Any) -> dict:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": (
            ALL_CAPABILITIES if capabilities is None else capabilities
        ),
        "io.modelcontextprotocol/clientInfo": {"name": "raw-http", "version": "1"},
        **extra,
    }


def rpc(method: str, params: dict | None = None, *, id: t.Any = 1, **m: t.Any) -> dict:
    """A modern request: ``params`` with a valid ``_meta`` (``m`` adds to it)."""
    return {
        "jsonrpc": "2.0",
        "id": id,
        "method": method,
        "params": {"_meta": meta(**m), **(params or {})},
    }


def call(name: str, arguments: dict | None = None, **params: t.Any) -> dict:
    return rpc("tools/call", {"name": name, "arguments": arguments or {}, **params})


def header_value(value: t.Any) -> str:
    """The spec's encoding of a value for Mcp-Name and Mcp-Param-* headers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    safe = text.isascii() and text.isprintable() and text == text.strip()
    if safe and not (text.startswith("=?base64?") and text.endswith("?=")):
        return text
    return f"=?base64?{base64.b64encode(text.encode()).decode()}?="


def standard_headers(body: dict) -> dict[str, str]:
    """The headers a conforming client derives from ``body``."""
    headers = {"Accept": f"{JSON_TYPE}, {SSE_TYPE}", "Content-Type": JSON_TYPE}
    params = body.get("params") or {}
    claimed_meta = params.get("_meta")
    claimed = (
        claimed_meta.get("io.modelcontextprotocol/protocolVersion")
        if isinstance(claimed_meta, dict)
        else None
    )
    if isinstance(claimed, str):
        headers["MCP-Protocol-Version"] = claimed
    headers["Mcp-Method"] = body["method"]
    target = params.get("uri" if body["method"] == "resources/read" else "name")
    if body["method"] in ("tools/call", "prompts/get", "resources/read"):
        headers["Mcp-Name"] = header_value(target)
    if body["method"] == "tools/call" and target == HEADER_TOOL:
        for argument, name in HEADER_PARAMS.items():
            if argument in params.get("arguments", {}):
                value = params["arguments"][argument]
                headers[f"Mcp-Param-{name}"] = header_value(value)
    return headers


Target = str | AppHTTP
Answer = requests.Response | Reply


def send(
    url: Target,
    body: t.Any,
    *,
    headers: dict[str, str] | None = None,
    drop: t.Iterable[str] = (),
    key: str | None = None,
    stream: bool = False,
) -> t.Any:
    """POST ``body`` with the standard headers, ``headers`` set over them and
    ``drop`` removed (names compared without case)."""
    all_headers = standard_headers(body) if isinstance(body, dict) else {}
    for name, value in (headers or {}).items():
        all_headers = {
            k: v for k, v in all_headers.items() if k.lower() != name.lower()
        }
        all_headers[name] = value
    gone = {name.lower() for name in drop}
    all_headers = {k: v for k, v in all_headers.items() if k.lower() not in gone}
    if key is not None:
        all_headers["X-API-Key"] = key
    data = json.dumps(body) if not isinstance(body, (str, bytes)) else body
    if isinstance(url, AppHTTP):
        assert not stream, "a stream read as it comes needs served_url"
        return url.post(data, all_headers)
    return requests.post(url, data=data, headers=all_headers, timeout=30, stream=stream)


def sse_messages(text: str) -> list[dict]:
    """The JSON-RPC messages of an SSE body, in order."""
    messages = []
    for block in text.split("\n\n"):
        data = [
            line[5:].lstrip() for line in block.splitlines() if line.startswith("data:")
        ]
        if data and data[0]:
            messages.append(json.loads("\n".join(data)))
    return messages


def final_message(response: Answer) -> dict:
    """The response message, whether answered as JSON or as a stream."""
    assert "Mcp-Session-Id" not in response.headers
    kind = response.headers.get("Content-Type", "")
    if kind.startswith(SSE_TYPE):
        messages = sse_messages(response.text)
        assert messages and "id" in messages[-1], response.text
        return messages[-1]
    assert kind.startswith(JSON_TYPE), (response.status_code, kind, response.text)
    return t.cast(dict, response.json())


def result_of(response: Answer, request_id: t.Any = 1) -> dict:
    message = final_message(response)
    assert response.status_code == 200, (response.status_code, message)
    assert message.get("id") == request_id, message
    assert "error" not in message, message
    result = t.cast(dict, message["result"])
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"] == SERVER_INFO
    return result


def assert_error(
    response: Answer,
    status: int,
    code: int,
    request_id: t.Any = 1,
    text: str | None = None,
) -> dict:
    message = final_message(response)
    assert (response.status_code, message.get("error", {}).get("code")) == (
        status,
        code,
    ), message
    assert message["id"] == request_id
    assert "result" not in message
    if text is not None:
        assert text in message["error"]["message"], message
    return t.cast(dict, message["error"])


def text_of(result: dict) -> str:
    return "\n".join(c["text"] for c in result["content"] if c["type"] == "text")


def accepted(answer: dict | None = None) -> dict:
    return {"action": "accept", "content": answer or {}}


SAMPLED = {
    "role": "assistant",
    "content": {"type": "text", "text": "Hello there!"},
    "model": "test-model",
    "stopReason": "endTurn",
}
ROOTS = {"roots": [{"uri": "file:///work", "name": "work"}]}


# ---------------------------------------------------------------------------
# the per-request _meta: -32602 and 400


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        ({"io.modelcontextprotocol/protocolVersion": MODERN}, "clientCapabilities"),
        (
            {
                "io.modelcontextprotocol/protocolVersion": 20260728,
                "io.modelcontextprotocol/clientCapabilities": {},
            },
            "protocolVersion",
        ),
        (
            {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": ["sampling"],
            },
            "clientCapabilities",
        ),
        (
            {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/logLevel": "loud",
            },
            "log level",
        ),
    ],
)
def test_malformed_meta_is_invalid_params(url: Target, broken: dict, why: str) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/list",
        "params": {"_meta": broken},
    }
    response = send(url, body, headers={"MCP-Protocol-Version": MODERN})
    assert_error(response, 400, -32602, 7, why)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"_meta": {"progressToken": 1}},
        {"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}},
        {"_meta": "2026-07-28"},
    ],
)
def test_modern_header_without_the_meta_claim_is_invalid_params(
    url: Target, params: dict
) -> None:
    body = {"jsonrpc": "2.0", "id": "x", "method": "tools/list", "params": params}
    response = send(url, body, headers={"MCP-Protocol-Version": MODERN})
    assert_error(response, 400, -32602, "x", "_meta")


def test_client_info_is_optional(url: Target) -> None:
    body = rpc("tools/list")
    del body["params"]["_meta"]["io.modelcontextprotocol/clientInfo"]
    assert result_of(send(url, body))["tools"]


def test_a_modern_request_is_never_part_of_a_batch(url: Target) -> None:
    response = send(
        url, [rpc("tools/list")], headers=standard_headers(rpc("tools/list"))
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600


# ---------------------------------------------------------------------------
# standard headers: -32020 and 400


@pytest.mark.parametrize(
    "body",
    [rpc("tools/list"), call("test_simple_text"), rpc("server/discover")],
    ids=["tools/list", "tools/call", "server/discover"],
)
@pytest.mark.parametrize("header", ["MCP-Protocol-Version", "Mcp-Method"])
def test_missing_standard_header_is_header_mismatch(
    url: Target, body: dict, header: str
) -> None:
    assert_error(send(url, body, drop=[header]), 400, -32020, text=header)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("MCP-Protocol-Version", "2025-11-25"),
        ("Mcp-Method", "tools/list"),
        ("Mcp-Method", "Tools/Call"),  # values are case-sensitive
        ("Mcp-Name", "test_error_handling"),
        ("Mcp-Name", "TEST_SIMPLE_TEXT"),
    ],
)
def test_mismatched_standard_header_is_header_mismatch(
    url: Target, header: str, value: str
) -> None:
    response = send(url, call("test_simple_text"), headers={header: value})
    assert_error(response, 400, -32020, text=header)


@pytest.mark.parametrize(
    "body",
    [
        call("test_simple_text"),
        rpc("prompts/get", {"name": "test_simple_prompt"}),
        rpc("resources/read", {"uri": "test://static-text"}),
    ],
    ids=["tools/call", "prompts/get", "resources/read"],
)
def test_missing_name_header_is_header_mismatch(url: Target, body: dict) -> None:
    assert_error(send(url, body, drop=["Mcp-Name"]), 400, -32020, text="Mcp-Name")


def test_header_names_ignore_case(served_url: str) -> None:
    body = call("test_simple_text")
    headers = {k.lower(): v for k, v in standard_headers(body).items()}
    response = requests.post(
        served_url, data=json.dumps(body), headers=headers, timeout=30
    )
    assert text_of(result_of(response)) == "This is a simple text response for testing."


def test_base64_name_header_is_decoded(url: Target) -> None:
    """A URI that is not header-safe travels base64-encoded, and is compared
    decoded; the same URI in plain text would be refused."""
    uri = "test://template/Zürich 1/data"
    body = rpc("resources/read", {"uri": uri})
    assert standard_headers(body)["Mcp-Name"].startswith("=?base64?")
    (content,) = result_of(send(url, body))["contents"]
    assert json.loads(content["text"])["id"] == "Zürich 1"
    # A sentinel-looking plain value is base64-encoded too, and decoded back.
    tricky = "=?base64?bm9wZQ==?="
    assert header_value(tricky) != tricky
    assert_error(
        send(url, call(tricky)), 400, -32602, text="Unknown tool"
    )  # name matched, tool unknown


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("=?base64?dGVzdF9zaW1wbGVfdGV4dA?=", "base64"),  # missing padding
        ("=?base64?dGVzd!9zaW1wbGVfdGV4dA==?=", "test_simple_text"),  # bad alphabet
        ("=?base64?//79?=", "base64"),  # not UTF-8
        ("test_simple_t\xe9xt", "invalid characters"),  # raw non-ASCII byte
        ("dGVzdF9zaW1wbGVfdGV4dA==", "test_simple_text"),  # no sentinel: literal
    ],
)
def test_bad_name_header_values_are_header_mismatch(
    url: Target, value: str, why: str
) -> None:
    response = send(url, call("test_simple_text"), headers={"Mcp-Name": value})
    assert_error(response, 400, -32020, text=why)


# ---------------------------------------------------------------------------
# Mcp-Param-* headers of x-mcp-header arguments


def test_param_headers_that_match_are_accepted(url: Target) -> None:
    body = call(HEADER_TOOL, {"region": "Zürich", "shard": 7, "dry_run": True})
    headers = standard_headers(body)
    assert headers["Mcp-Param-Region"].startswith("=?base64?")
    assert text_of(result_of(send(url, body))) == "region=Zürich shard=7 dry_run=true"
    # Optional arguments left out: no headers for them.
    plain = call(HEADER_TOOL, {"region": "eu"})
    assert "Mcp-Param-Shard" not in standard_headers(plain)
    assert text_of(result_of(send(url, plain))) == "region=eu shard=0 dry_run=false"


@pytest.mark.parametrize("value", ["7", "7.0", "07", "7e0"])
def test_integer_param_headers_compare_numerically(url: Target, value: str) -> None:
    body = call(HEADER_TOOL, {"region": "eu", "shard": 7})
    response = send(url, body, headers={"mcp-param-shard": value})
    assert text_of(result_of(response)) == "region=eu shard=7 dry_run=false"


@pytest.mark.parametrize(
    ("arguments", "headers", "drop"),
    [
        # the argument is sent, its header is not
        ({"region": "eu"}, {}, ["Mcp-Param-Region"]),
        ({"region": "eu", "shard": 3}, {}, ["Mcp-Param-Shard"]),
        # a header for an argument that is not sent
        ({"region": "eu"}, {"Mcp-Param-Shard": "3"}, []),
        # values that differ
        ({"region": "eu"}, {"Mcp-Param-Region": "us"}, []),
        ({"region": "eu"}, {"Mcp-Param-Region": "EU"}, []),
        ({"region": "eu", "shard": 3}, {"Mcp-Param-Shard": "4"}, []),
        ({"region": "eu", "shard": 3}, {"Mcp-Param-Shard": "3.5"}, []),
        ({"region": "eu", "shard": 3}, {"Mcp-Param-Shard": "three"}, []),
        # equal as floats, not as integers
        ({"region": "eu", "shard": 2**53}, {"Mcp-Param-Shard": str(2**53 + 1)}, []),
        ({"region": "eu", "dry_run": True}, {"Mcp-Param-Dry-Run": "True"}, []),
        ({"region": "eu", "dry_run": False}, {"Mcp-Param-Dry-Run": "0"}, []),
        # encodings that are not valid
        ({"region": "Hello"}, {"Mcp-Param-Region": "=?base64?SGVsbG8?="}, []),
        ({"region": "Hello"}, {"Mcp-Param-Region": "=?base64?SGVs!!!bG8=?="}, []),
        ({"region": "h\xe9"}, {"Mcp-Param-Region": "h\xe9"}, []),
    ],
)
def test_param_header_mismatch_is_refused(
    url: Target, arguments: dict, headers: dict, drop: list
) -> None:
    response = send(url, call(HEADER_TOOL, arguments), headers=headers, drop=drop)
    assert_error(response, 400, -32020, text="Mcp-Param-")


def test_unknown_param_headers_are_ignored(url: Target) -> None:
    """Only the tool's own ``x-mcp-header`` names are checked (Mcp-Param-*
    headers of other tools pass through proxies and are ignored)."""
    body = call(HEADER_TOOL, {"region": "eu"})
    response = send(url, body, headers={"Mcp-Param-Tenant": "acme"})
    assert text_of(result_of(response)) == "region=eu shard=0 dry_run=false"


# ---------------------------------------------------------------------------
# versions, methods and capabilities


@pytest.mark.parametrize("version", ["2099-01-01", "2025-11-25", "latest"])
def test_unsupported_version_lists_the_supported_ones(
    url: Target, version: str
) -> None:
    discovered = result_of(send(url, rpc("server/discover")))["supportedVersions"]
    body = rpc("tools/list", id=9)
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = version
    error = assert_error(send(url, body), 400, -32022, 9)
    assert error["data"] == {"supported": discovered, "requested": version}
    assert discovered == [MODERN]


@pytest.mark.parametrize(
    "method",
    [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "tasks/get",
        "unknown/method",
    ],
)
def test_removed_and_unknown_methods_are_not_found(url: Target, method: str) -> None:
    params = {"uri": "test://watched-resource", "level": "info", "taskId": "t"}
    assert_error(send(url, rpc(method, params, id="m")), 404, -32601, "m", method)


def test_missing_client_capability_is_refused(url: Target) -> None:
    """A tool that samples, asked by a client that declared no sampling."""
    for capabilities in ({}, {"elicitation": {}, "roots": {}}):
        body = call("test_missing_capability")
        body["params"]["_meta"] = meta(capabilities)
        error = assert_error(send(url, body), 400, -32021, text="sampling")
        assert error["data"] == {"requiredCapabilities": {"sampling": {}}}


@pytest.mark.parametrize(
    "method", ["notifications/initialized", "notifications/cancelled", "unknown/note"]
)
def test_notifications_are_accepted_and_dropped(url: Target, method: str) -> None:
    body = {"jsonrpc": "2.0", "method": method, "params": {"_meta": meta()}}
    response = send(url, body)
    assert (response.status_code, response.content) == (202, b"")
    assert "Mcp-Session-Id" not in response.headers


def test_a_session_id_is_ignored_and_none_is_issued(url: Target) -> None:
    response = send(url, rpc("tools/list"), headers={"Mcp-Session-Id": "not-a-session"})
    assert result_of(response)["tools"]


# ---------------------------------------------------------------------------
# results


def test_discover_describes_the_server(url: Target) -> None:
    result = result_of(send(url, rpc("server/discover")))
    assert result["resultType"] == "complete"
    assert result["supportedVersions"] == [MODERN]
    assert result["capabilities"]["tools"] == {"listChanged": True}
    assert result["capabilities"]["resources"]["subscribe"] is True
    assert result["instructions"] == (
        "Conformance fixtures and a few small everyday tools."
    )
    assert (result["ttlMs"], result["cacheScope"]) == (60_000, "public")


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("tools/list", "tools"),
        ("prompts/list", "prompts"),
        ("resources/list", "resources"),
        ("resources/templates/list", "resourceTemplates"),
    ],
)
def test_lists_carry_caching_hints_in_a_stable_order(
    url: Target, method: str, key: str
) -> None:
    first = result_of(send(url, rpc(method)))
    assert first["resultType"] == "complete"
    assert (first["ttlMs"], first["cacheScope"]) == (60_000, "public")
    # The same order from either worker, and sorted.
    names = [item.get("name") or item.get("uri") for item in first[key]]
    for _ in range(3):
        again = result_of(send(url, rpc(method)))
        assert [i.get("name") or i.get("uri") for i in again[key]] == names


def test_other_results_have_a_result_type_and_no_caching_hints(url: Target) -> None:
    ref = {"type": "ref/prompt", "name": "test_prompt_with_arguments"}
    for body in (
        call("test_simple_text"),
        rpc("prompts/get", {"name": "test_simple_prompt"}),
        rpc(
            "completion/complete",
            {"ref": ref, "argument": {"name": "arg1", "value": "t"}},
        ),
    ):
        result = result_of(send(url, body))
        assert result["resultType"] == "complete"
        assert "ttlMs" not in result and "cacheScope" not in result


def test_read_carries_caching_hints(url: Target) -> None:
    result = result_of(send(url, rpc("resources/read", {"uri": "test://static-text"})))
    assert (result["resultType"], result["ttlMs"], result["cacheScope"]) == (
        "complete",
        0,
        "public",
    )


def test_resource_not_found_is_invalid_params(url: Target) -> None:
    body = rpc("resources/read", {"uri": "test://nowhere"})
    error = assert_error(send(url, body), 400, -32602, text="not found")
    assert error["data"] == {"uri": "test://nowhere"}


def test_errors_carry_no_result_type(url: Target) -> None:
    message = final_message(send(url, call("no_such_tool")))
    assert set(message) == {"jsonrpc", "id", "error"}


# ---------------------------------------------------------------------------
# input-required results (MRTR)


def first_round(url: Target, body: dict, **kwargs: t.Any) -> dict:
    result = result_of(send(url, body, **kwargs), body["id"])
    assert result["resultType"] == "input_required", result
    assert isinstance(result["requestState"], str) and result["requestState"]
    assert "ttlMs" not in result
    return result


def retry(body: dict, responses: dict, state: t.Any = None, id: t.Any = 2) -> dict:
    again = json.loads(json.dumps(body))
    again["id"] = id
    again["params"]["inputResponses"] = responses
    if state is not None:
        again["params"]["requestState"] = state
    return again


def test_input_required_round_trip(url: Target) -> None:
    body = call(ELICIT)
    asked = first_round(url, body)
    assert asked["inputRequests"] == {
        "user_name": {
            "method": "elicitation/create",
            "params": {
                "mode": "form",
                "message": "What is your name?",
                "requestedSchema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                },
            },
        }
    }
    answer = retry(
        body, {"user_name": accepted({"name": "Ada"})}, asked["requestState"]
    )
    assert text_of(result_of(send(url, answer), 2)) == "Hello, Ada!"


def test_missing_answers_are_asked_again(url: Target) -> None:
    """Answers given are kept; only the open questions come back."""
    body = call(MULTIPLE)
    asked = first_round(url, body)
    assert set(asked["inputRequests"]) == {"user_name", "greeting", "client_roots"}
    partial = retry(
        body, {"user_name": accepted({"name": "Ada"})}, asked["requestState"]
    )
    again = result_of(send(url, partial), 2)
    assert again["resultType"] == "input_required"
    assert set(again["inputRequests"]) == {"greeting", "client_roots"}
    assert again["inputRequests"]["greeting"] == asked["inputRequests"]["greeting"]
    rest = retry(
        body,
        {"greeting": SAMPLED, "client_roots": ROOTS, "ignored": accepted()},
        again["requestState"],
        id=3,
    )
    assert text_of(result_of(send(url, rest), 3)) == (
        "Name: Ada; Greeting: Hello there!; Roots: 1"
    )


def test_answers_for_questions_never_asked_are_ignored(url: Target) -> None:
    body = call(ELICIT)
    asked = first_round(url, body)
    wrong = retry(body, {"other": accepted({"name": "Eve"})}, asked["requestState"])
    again = result_of(send(url, wrong), 2)
    assert again["resultType"] == "input_required"
    assert set(again["inputRequests"]) == {"user_name"}


def test_only_declared_capabilities_are_asked(url: Target) -> None:
    body = call("test_input_required_result_capabilities")
    body["params"]["_meta"] = meta({"sampling": {}})
    asked = first_round(url, body)
    assert [r["method"] for r in asked["inputRequests"].values()] == [
        "sampling/createMessage"
    ]
    body["params"]["_meta"] = meta({})
    assert text_of(result_of(send(url, body))) == "No supported capabilities declared"


def tampered(state: str) -> list[str]:
    body, mac = state.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    forged = base64.urlsafe_b64encode(
        json.dumps({"a": {}, "exp": 2**40}).encode()
    ).decode()
    return [
        state + "-TAMPERED",
        f"{flipped}.{mac}",
        f"{body}.{mac[::-1]}",
        f"{forged}.{mac}",
    ]


@pytest.mark.parametrize("case", range(4))
def test_tampered_state_is_refused(url: Target, case: int) -> None:
    body = call("test_input_required_result_tampered_state")
    state = first_round(url, body)["requestState"]
    forged = retry(body, {"confirm": accepted({"ok": True})}, tampered(state)[case])
    assert_error(send(url, forged), 400, -32602, 2, "requestState")


@pytest.mark.parametrize("state", [42, "", "no-dot", {"a": 1}, "x.y.z"])
def test_malformed_state_is_refused(url: Target, state: t.Any) -> None:
    body = retry(call(ELICIT), {"user_name": accepted({"name": "x"})}, state)
    assert_error(send(url, body), 400, -32602, 2, "requestState")


def test_malformed_input_responses_are_refused(url: Target) -> None:
    for responses in ({"user_name": 12345}, ["user_name"], "yes"):
        body = retry(call(ELICIT), responses)
        assert_error(send(url, body), 400, -32602, 2, "inputResponses")


def test_state_replayed_on_another_call_is_refused(url: Target) -> None:
    """A state is bound to the method, the target and the arguments."""
    asked = first_round(url, call("test_elicitation", {"message": "Who are you?"}))
    state = asked["requestState"]
    (key,) = asked["inputRequests"]
    answer = {key: accepted({"username": "a", "email": "a@example.com"})}
    for other in (
        call("test_elicitation", {"message": "Who am I?"}),  # other arguments
        call(ELICIT),  # other tool
        rpc("prompts/get", {"name": "test_input_required_result_prompt"}),  # method
    ):
        assert_error(
            send(url, retry(other, answer, state)), 400, -32602, 2, "another request"
        )
    # ...and accepted where it belongs.
    same = retry(call("test_elicitation", {"message": "Who are you?"}), answer, state)
    assert "action=accept" in text_of(result_of(send(url, same), 2))


def test_state_of_one_user_is_refused_for_another(keyed_url: str) -> None:
    body = call(ELICIT)
    state = first_round(keyed_url, body, key=ALICE)["requestState"]
    answer = retry(body, {"user_name": accepted({"name": "Mallory"})}, state)
    error = assert_error(send(keyed_url, answer, key=BOB), 400, -32602, 2)
    assert "another request or user" in error["message"]
    # The retry is authenticated like any request.
    assert send(keyed_url, answer).status_code == 401
    assert send(keyed_url, answer, key="key-nobody").status_code == 401
    assert (
        text_of(result_of(send(keyed_url, answer, key=ALICE), 2)) == "Hello, Mallory!"
    )


def test_expired_state_is_refused(url: Target, clock: Clock) -> None:
    body = call(ELICIT)
    state = first_round(url, body)["requestState"]
    clock.advance(MCP_REQUEST_STATE_TTL + 1)
    answer = retry(body, {"user_name": accepted({"name": "Late"})}, state)
    assert_error(send(url, answer), 400, -32602, 2, "expired")


# ---------------------------------------------------------------------------
# streams: logging, cancellation


def test_logs_only_on_request_with_a_level(url: Target) -> None:
    quiet = send(url, call("test_logging_tool"))
    assert quiet.headers["Content-Type"].startswith(JSON_TYPE)
    assert text_of(result_of(quiet)) == "Logging evaluated"
    body = call("test_logging_tool")
    body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = "error"
    chatty = send(url, body)
    assert chatty.headers["Content-Type"].startswith(SSE_TYPE)
    assert chatty.headers["X-Accel-Buffering"] == "no"
    *notes, final = sse_messages(chatty.text)
    assert notes == [
        {
            "jsonrpc": "2.0",
            "method": "notifications/message",
            "params": {
                "level": "error",
                "data": "Diagnostic trace at error",
                "logger": "test_logging_tool",
            },
        }
    ]
    assert text_of(final["result"]) == "Logging evaluated"
    assert "Mcp-Session-Id" not in chatty.headers


def test_streamed_answer_has_no_event_ids_and_no_requests(url: Target) -> None:
    body = call("test_streaming_elicitation")
    body["params"]["_meta"]["progressToken"] = "p1"
    response = send(url, body)
    assert response.headers["Content-Type"].startswith(SSE_TYPE)
    assert "\nid:" not in "\n" + response.text
    progress, final = sse_messages(response.text)
    assert progress["method"] == "notifications/progress"
    assert final["result"]["resultType"] == "input_required"
    assert set(final["result"]["inputRequests"]) == {"continue"}


@pytest.mark.parametrize("tool", ["work_until_cancelled", "work_without_looking"])
def test_closing_the_stream_cancels_the_tool(
    served_url: str, tool: str, tmp_path: Path
) -> None:
    """Closing a 2026-07-28 response is the cancellation: the tool sees
    ``ctx.cancelled`` (or its next report raises) and stops, quietly: the
    module's servers must log no traceback."""
    marker = tmp_path / "work"
    body = call(tool, {"marker": str(marker)})
    body["params"]["_meta"]["progressToken"] = "w"
    response = send(served_url, body, stream=True)
    assert response.headers["Content-Type"].startswith(SSE_TYPE)
    lines = response.iter_lines()
    seen = 0
    for line in lines:
        if line.startswith(b"data:") and b"notifications/progress" in line:
            seen += 1
            if seen == 3:
                break
    response.close()
    deadline = time.monotonic() + 10
    while not marker.read_text().startswith("stopped"):
        assert time.monotonic() < deadline, marker.read_text()
        time.sleep(0.05)
    ticks = int(marker.read_text().split()[1])
    assert 3 <= ticks < 100, marker.read_text()
    time.sleep(0.3)
    assert marker.read_text() == f"stopped {ticks} cancelled=True"


# ---------------------------------------------------------------------------
# subscriptions/listen


class Listener:
    """A subscriptions/listen stream read in a thread."""

    def __init__(self, url: Target, body: dict, key: str | None = None) -> None:
        # Before the request: the server's hold starts before its headers
        # reach us, so a later start would make the hold look short.
        self.opened = time.monotonic()
        self.response = send(url, body, stream=True, key=key)
        self.messages: list[dict] = []
        self.closed_after: float | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        data: list[str] = []
        with contextlib.suppress(requests.RequestException, AttributeError):
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw.startswith("data:"):
                    data.append(raw[5:].lstrip())
                elif raw == "" and data:
                    with self._lock:
                        self.messages.append(json.loads("\n".join(data)))
                    data = []
        self.closed_after = time.monotonic() - self.opened

    def wait_for(self, count: int, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"wanted {count} messages, got {self.messages}")

    def wait_closed(self, timeout: float) -> None:
        """Wait until the server ends the stream."""
        self._thread.join(timeout)

    def close(self) -> None:
        self.response.close()
        self._thread.join(5)


def listen(notifications: dict, id: t.Any = "sub-1") -> dict:
    return rpc("subscriptions/listen", {"notifications": notifications}, id=id)


def test_listen_acknowledges_tags_and_filters(served_url: str) -> None:
    listener = Listener(served_url, listen({"toolsListChanged": True, "bogus": True}))
    try:
        assert listener.response.status_code == 200
        assert listener.response.headers["Content-Type"].startswith(SSE_TYPE)
        assert "Mcp-Session-Id" not in listener.response.headers
        (ack,) = listener.wait_for(1)
        assert ack == {
            "jsonrpc": "2.0",
            "method": "notifications/subscriptions/acknowledged",
            "params": {
                "_meta": {"io.modelcontextprotocol/subscriptionId": "sub-1"},
                "notifications": {"toolsListChanged": True},
            },
        }
        # The listen stream holds one of the two workers: these are served
        # by the other, and reach the stream through the store.
        result_of(send(served_url, call("test_trigger_prompt_change")))  # not asked for
        result_of(send(served_url, call("test_trigger_tool_change")))
        _, change = listener.wait_for(2)
    finally:
        listener.close()
    assert change == {
        "jsonrpc": "2.0",
        "method": "notifications/tools/list_changed",
        "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": "sub-1"}},
    }
    assert len(listener.messages) == 2


def test_listen_ends_gracefully_after_the_hold(served_url: str) -> None:
    listener = Listener(served_url, listen({"promptsListChanged": True}, id=77))
    try:
        ack, done = listener.wait_for(2, timeout=LISTEN_HOLD + 10)
        listener.wait_closed(5)
    finally:
        listener.close()
    assert ack["method"] == "notifications/subscriptions/acknowledged"
    assert done == {
        "jsonrpc": "2.0",
        "id": 77,
        "result": {
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/subscriptionId": 77},
        },
    }
    assert listener.closed_after is not None
    assert LISTEN_HOLD <= listener.closed_after < LISTEN_HOLD + 5


def open_raw_listen(url: Target, request_id: int) -> socket.socket:
    """A listen stream on a bare socket, read up to its acknowledgment."""
    parts = urlsplit(url)
    body = json.dumps(listen({"toolsListChanged": True}, id=request_id)).encode()
    headers = standard_headers(listen({}))
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(head.encode() + body)
    received = b""
    while b"subscriptions/acknowledged" not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    return sock


def test_closing_a_listen_stream_frees_its_worker(served_url: str) -> None:
    """Two abandoned listen streams must not keep both workers busy until
    their hold ends: a closed connection is noticed while nothing is sent."""
    # The second stream goes to the other worker: the first one holds its own.
    sockets = [open_raw_listen(served_url, i) for i in range(2)]
    started = time.monotonic()
    for sock in sockets:
        sock.close()
    for _ in range(4):
        result_of(send(served_url, rpc("tools/list")))
    elapsed = time.monotonic() - started
    assert elapsed < LISTEN_HOLD / 2, elapsed


def test_listen_filter_names_only_visible_resources(keyed_url: str) -> None:
    """``data://me/profile`` needs a scope these keys lack: not honoured, and
    its updates are not delivered; other resources' updates are."""
    body = listen(
        {
            "resourceSubscriptions": [
                "data://me/profile",
                "test://watched-resource",
                "test://nowhere",
            ]
        }
    )
    listener = Listener(keyed_url, body, key=ALICE)
    try:
        (ack,) = listener.wait_for(1)
        assert ack["params"]["notifications"] == {
            "resourceSubscriptions": ["test://watched-resource"]
        }
        for uri in (
            "data://me/profile",
            "test://static-text",
            "test://watched-resource",
        ):
            update = call("test_trigger_resource_update", {"uri": uri})
            result_of(send(keyed_url, update, key=BOB))
        _, update = listener.wait_for(2)
        time.sleep(0.3)
    finally:
        listener.close()
    assert update["params"] == {
        "uri": "test://watched-resource",
        "_meta": {"io.modelcontextprotocol/subscriptionId": "sub-1"},
    }
    assert len(listener.messages) == 2


def test_listen_with_a_bad_filter_is_invalid_params(url: Target) -> None:
    for notifications in ([], {"resourceSubscriptions": "test://x"}):
        response = send(url, listen(notifications))
        assert_error(response, 400, -32602, "sub-1")


# ---------------------------------------------------------------------------
# authentication on the modern path


def test_unauthenticated_modern_request_gets_a_challenge(keyed_url: str) -> None:
    for key in (None, "key-nobody"):
        response = send(keyed_url, call(ELICIT), key=key)
        assert response.status_code == 401
        # api_key_auth without OAuth: the challenge names the key's header.
        assert response.headers["WWW-Authenticate"].startswith(
            'ApiKey header="X-API-Key"'
        )
        assert response.json()["id"] == 1
        assert "Mcp-Session-Id" not in response.headers


def test_hidden_tools_are_unknown_to_those_who_may_not_use_them(keyed_url: str) -> None:
    assert text_of(result_of(send(keyed_url, call("admin_only"), key=ALICE))) == (
        "Welcome, admin!"
    )
    assert_error(send(keyed_url, call("admin_only"), key=BOB), 400, -32602)
    names = {
        t["name"]
        for t in result_of(send(keyed_url, rpc("tools/list"), key=BOB))["tools"]
    }
    assert "whoami" in names and "admin_only" not in names


def create_step_up_app(instance: Path) -> Flask:
    keys = {
        "reader": {"sub": "rita", "scopes": ["data:read"]},
        "writer": {"sub": "wanda", "scopes": ["data:read", "data:write"]},
    }
    app = Flask(__name__, instance_path=str(instance))
    mcp = FlaskMCP(
        name="flask-mcp-example", version="0.1.0", authenticate=api_key_auth(keys)
    )

    @mcp.tool(can_access=require_scopes("data:write"), step_up=True)
    def write_note(text: str, ctx: Context) -> str:
        """Write a note, after the user confirmed it."""
        answer = ctx.elicit(
            "Write it?", {"type": "object", "properties": {"ok": {"type": "boolean"}}}
        )
        return f"wrote {text!r}: {answer['action']}"

    mcp.init_app(app)
    return app


def test_step_up_on_the_modern_path(tmp_path: Path) -> None:
    client = create_step_up_app(tmp_path).test_client()

    def post(body: dict, key: str) -> t.Any:
        return client.post(
            "/mcp",
            data=json.dumps(body),
            headers={**standard_headers(body), "X-API-Key": key},
        )

    body = call("write_note", {"text": "hi"})
    listed = post(rpc("tools/list"), "reader").get_json()["result"]["tools"]
    assert [tool["name"] for tool in listed] == ["write_note"]
    refused = post(body, "reader")
    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert (
        'error="insufficient_scope"' in challenge and 'scope="data:write"' in challenge
    )
    assert refused.get_json()["id"] == 1
    asked = post(body, "writer").get_json()["result"]
    assert asked["resultType"] == "input_required"
    (key,) = asked["inputRequests"]
    again = retry(body, {key: accepted({"ok": True})}, asked["requestState"])
    assert post(again, "reader").status_code == 403  # checked again on the retry
    done = post(again, "writer").get_json()["result"]
    assert text_of(done) == "wrote 'hi': accept"
