"""Fuzz the MCP endpoint of the example app: any body, any field, odd headers.

Every answer must be JSON (a JSON-RPC error when it is an error), an SSE
stream of JSON, or empty (202/204); never a 5xx, never a logged traceback.
"""

from __future__ import annotations

import json
import re
import typing as t

from flask.testing import FlaskClient
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st

from .harness import FUZZ
from .harness import check_mcp
from .harness import send
from .strategies import any_json
from .strategies import encode
from .strategies import header_text
from .strategies import mutated

VERSION = "2025-11-25"
#: A Host header werkzeug accepts: a name of labels up to 63, or an IP, a port.
HOST = re.compile(
    r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?)"
    r"(:[0-9]{1,5})?"
)
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
}
#: A well-formed request of each method with parameters, to mutate.
TEMPLATES: list[dict[str, t.Any]] = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": VERSION,
            "capabilities": {"sampling": {}, "elicitation": {}},
            "clientInfo": {"name": "fuzz", "version": "1"},
        },
    },
    *(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments, "_meta": {}},
        }
        for name, arguments in [
            ("add", {"a": 1, "b": 2}),
            ("convert_temperature", {"value": 20.5, "to": "fahrenheit"}),
            ("create_ticket", {"title": "t", "priority": 1, "tags": ["a"]}),
            ("json_schema_2020_12_tool", {"name": "n", "address": {"city": "c"}}),
            ("test_simple_text", {}),
            ("test_tool_with_progress", {}),
            ("test_elicitation", {"message": "m"}),
        ]
    ),
    {
        "jsonrpc": "2.0",
        "id": "r",
        "method": "resources/read",
        "params": {"uri": "test://template/42/data"},
    },
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "prompts/get",
        "params": {
            "name": "test_prompt_with_arguments",
            "arguments": {"arg1": "a", "arg2": "b"},
        },
    },
    {
        "jsonrpc": "2.0",
        "id": 4,
        "method": "completion/complete",
        "params": {
            "ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
            "argument": {"name": "arg1", "value": "te"},
            "context": {"arguments": {}},
        },
    },
    {"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {"cursor": "x"}},
    {
        "jsonrpc": "2.0",
        "id": 6,
        "method": "resources/subscribe",
        "params": {"uri": "u"},
    },
    {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "logging/setLevel",
        "params": {"level": "info"},
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": "s-1", "result": {"action": "accept", "content": {}}},
]


def open_session(client: FlaskClient) -> dict[str, str]:
    """A fresh session: the headers of its later requests."""
    response = client.post("/mcp", data=json.dumps(TEMPLATES[0]), headers=HEADERS)
    assert response.status_code == 200, response.get_data()
    return {
        **HEADERS,
        "Mcp-Session-Id": response.headers["Mcp-Session-Id"],
        "MCP-Protocol-Version": VERSION,
    }


def post(
    client: FlaskClient, message: t.Any, headers: dict[str, str], ascii_only: bool
) -> None:
    """POST one JSON value to the endpoint and check the answer."""
    body = encode(message, ascii_only)
    answer = send(client, "mcp", "POST", "/mcp", data=body, headers=headers)
    check_mcp(answer, f"POST /mcp {encode(message)[:300]!r}")


@FUZZ
@given(body=any_json, ascii_only=st.booleans())
def test_any_json_value_as_the_body(
    example_client: FlaskClient, body: t.Any, ascii_only: bool
) -> None:
    post(example_client, body, open_session(example_client), ascii_only)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.builds(lambda n, c: c * n, st.integers(1, 5000), st.sampled_from("[{")),
        st.sampled_from(
            [b"", b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b"{" * 3, b'{"a":1e99999}']
        ),
    )
)
def test_any_bytes_as_the_body(example_client: FlaskClient, body: bytes) -> None:
    answer = send(example_client, "mcp", "POST", "/mcp", data=body, headers=HEADERS)
    check_mcp(answer, f"POST /mcp {body[:200]!r}")


@FUZZ
@given(
    message=st.sampled_from(TEMPLATES).flatmap(mutated),
    in_batch=st.booleans(),
    ascii_only=st.booleans(),
)
def test_wrong_types_in_every_field(
    example_client: FlaskClient, message: t.Any, in_batch: bool, ascii_only: bool
) -> None:
    headers = open_session(example_client)
    if in_batch:  # batches are refused in 2025-11-25, answered in 2025-03-26
        headers["MCP-Protocol-Version"] = "2025-03-26"
        message = [message, TEMPLATES[-4]]
    post(example_client, message, headers, ascii_only)


def header_values(valid: list[str]) -> st.SearchStrategy[str | None]:
    """Absent, a valid value, or any sendable text."""
    return st.one_of(st.none(), st.sampled_from(valid), header_text)


@FUZZ
@given(
    method=st.sampled_from(
        ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"]
    ),
    accept=header_values(
        [HEADERS["Accept"], "text/event-stream", "application/json", "*/*"]
    ),
    content_type=header_values(["application/json", "application/json; charset=x"]),
    version=header_values([VERSION, "2025-03-26", "2024-11-05"]),
    session=st.one_of(st.none(), st.just("valid"), header_text),
    last_event_id=header_values(["_standalone.0", "x.1"]),
    host=header_values(["localhost", "127.0.0.1:5000", "[::1]", "evil.example"]),
    origin=header_values(["http://localhost", "https://evil.example", "null"]),
    body=st.one_of(
        st.just(b""), st.sampled_from([encode(m, True) for m in TEMPLATES[1:]])
    ),
)
@example(  # a port that is no number (it broke werkzeug 3.1.0's test client)
    method="GET",
    accept=None,
    content_type=None,
    version=None,
    session=None,
    last_event_id=None,
    host=":A",
    origin=None,
    body=b"",
)
def test_odd_headers_and_methods(
    example_client: FlaskClient,
    method: str,
    accept: str | None,
    content_type: str | None,
    version: str | None,
    session: str | None,
    last_event_id: str | None,
    host: str | None,
    origin: str | None,
    body: bytes,
) -> None:
    valid = open_session(example_client)
    chosen = {
        "Accept": accept,
        "Content-Type": content_type,
        "MCP-Protocol-Version": version,
        "Mcp-Session-Id": valid["Mcp-Session-Id"] if session == "valid" else session,
        "Last-Event-ID": last_event_id,
        "Host": host,
        "Origin": origin,
    }
    headers = {name: value for name, value in chosen.items() if value is not None}
    answer = send(
        example_client, "mcp", method, "/mcp", data=body or None, headers=headers
    )
    if host is not None and not HOST.fullmatch(host):
        answer.note = "invalid Host"
    check_mcp(answer, f"{method} /mcp headers={headers!r} body={body[:100]!r}")


#: ``stream.sequence`` with odd sequences: superscript digits pass
#: ``str.isdigit``, 5,000 digits pass it too but not ``int``.
event_ids = st.one_of(
    header_text,
    st.builds(
        "{}.{}".format,
        st.sampled_from(["_standalone", "x", "", "a.b"]),
        st.one_of(
            st.sampled_from(["²", "³¹", "9" * 5000, "-1", "0x1", " 1", "1_000"]),
            st.integers(min_value=0).map(str),
            header_text,
        ),
    ),
)


@FUZZ
@given(last_event_id=event_ids, version=header_values([VERSION, "2025-03-26"]))
def test_resuming_a_stream_with_any_last_event_id(
    example_client: FlaskClient, last_event_id: str, version: str | None
) -> None:
    headers = open_session(example_client)
    headers["Accept"] = "text/event-stream"
    headers["Last-Event-ID"] = last_event_id
    if version is None:
        del headers["MCP-Protocol-Version"]
    else:
        headers["MCP-Protocol-Version"] = version
    answer = send(example_client, "mcp", "GET", "/mcp", headers=headers)
    check_mcp(answer, f"GET /mcp Last-Event-ID={last_event_id[:100]!r}")
