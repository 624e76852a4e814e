"""A minimal reproducer of every failure class the fuzz found.

A reproducer whose signature is still in :data:`known.KNOWN` is a strict
``xfail``: when the library is fixed it passes, the xfail fails the run,
and the entry goes from ``KNOWN``. The reproducer then stays here as the
regression test of the fix.
"""

from __future__ import annotations

import base64
import json
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from . import harness
from .known import KNOWN
from .test_fuzz_mcp import TEMPLATES
from .test_fuzz_mcp import open_session
from .test_fuzz_oauth import REGISTRATION
from .test_fuzz_oauth import attack
from .test_fuzz_oauth import pending_consent

Reproducer = t.Callable[[FlaskClient, Flask], None]
REPRODUCERS: dict[str, Reproducer] = {}


def reproduces(signature: str) -> t.Callable[[Reproducer], Reproducer]:
    def register(function: Reproducer) -> Reproducer:
        REPRODUCERS[signature] = function
        return function

    return register


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def rpc(client: FlaskClient, message: t.Any, headers: dict[str, str]) -> None:
    body = json.dumps(message)
    answer = harness.send(client, "mcp", "POST", "/mcp", data=body, headers=headers)
    harness.check_mcp(answer, f"POST /mcp {body[:200]}")


@reproduces("RecursionError in jsonrpc.decode")
def deep_json_on_mcp(client: FlaskClient, proxy: Flask) -> None:
    body = deep(1000)
    answer = harness.send(
        client, "mcp", "POST", "/mcp", data=body, headers=open_session(client)
    )
    harness.check_mcp(answer, "POST /mcp [[[...]]] 1,000 deep")


@reproduces("RecursionError in base.set")
def deep_capabilities(client: FlaskClient, proxy: Flask) -> None:
    message = json.loads(json.dumps(TEMPLATES[0]))
    message["params"]["capabilities"] = {"sampling": json.loads(deep(600))}
    rpc(client, message, open_session(client))


@reproduces("not-json-405 on OPTIONS")
def options(client: FlaskClient, proxy: Flask) -> None:
    harness.check_mcp(harness.send(client, "mcp", "OPTIONS", "/mcp"), "OPTIONS /mcp")


@reproduces("not-json-400 (invalid Host)")
def long_host_label(client: FlaskClient, proxy: Flask) -> None:
    answer = harness.send(client, "mcp", "GET", "/mcp", headers={"Host": "a" * 64})
    answer.note = "invalid Host"
    harness.check_mcp(answer, "GET /mcp Host: a*64")


@reproduces("ValueError in events.parse_event_id")
def superscript_event_id(client: FlaskClient, proxy: Flask) -> None:
    headers = open_session(client)
    headers.update({"Accept": "text/event-stream", "Last-Event-ID": "x.²"})
    answer = harness.send(client, "mcp", "GET", "/mcp", headers=headers)
    harness.check_mcp(answer, "GET /mcp Last-Event-ID: x.²")


@reproduces("TypeError in server._complete")
def completion_with_a_list_as_name(client: FlaskClient, proxy: Flask) -> None:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "completion/complete",
        "params": {
            "ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
            "argument": {"name": [], "value": "te"},
        },
    }
    rpc(client, message, open_session(client))


@reproduces("JsonRpcError in streaming.request")
def unanswered_elicitation(client: FlaskClient, proxy: Flask) -> None:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "test_elicitation", "arguments": {"message": "m"}},
    }
    rpc(client, message, open_session(client))


def register(proxy: Flask, **request: t.Any) -> None:
    attack(proxy, "register", "POST", "/oauth/register", browser=False, **request)


@reproduces("RecursionError in server.data")
def deep_json_on_registration(client: FlaskClient, proxy: Flask) -> None:
    register(proxy, data=deep(1000), headers={"Content-Type": "application/json"})


@reproduces("TypeError in registration.extract_client_metadata")
def list_in_grant_types(client: FlaskClient, proxy: Flask) -> None:
    register(proxy, json={**REGISTRATION, "grant_types": [[]]})


@reproduces("AttributeError in registration.extract_client_metadata")
def null_in_response_types(client: FlaskClient, proxy: Flask) -> None:
    register(proxy, json={**REGISTRATION, "response_types": [None]})


@reproduces("AttributeError in client_metadata.check_client_metadata")
def object_as_scope(client: FlaskClient, proxy: Flask) -> None:
    register(proxy, json={**REGISTRATION, "scope": {"a": None}})


@reproduces("AttributeError in context.progress_token")
def meta_that_is_a_list(client: FlaskClient, proxy: Flask) -> None:
    message = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "test_tool_with_progress", "arguments": {}, "_meta": [None]},
    }
    rpc(client, message, open_session(client))


@reproduces("ValueError in authorize.authorize")
def control_character_in_response_type(client: FlaskClient, proxy: Flask) -> None:
    attack(
        proxy,
        "authorize",
        "GET",
        "/oauth/authorize",
        browser=True,
        query_string={"response_type": "\x00"},
    )


@reproduces("ValueError in server.authenticate_client")
def blank_authorization(client: FlaskClient, proxy: Flask) -> None:
    attack(
        proxy,
        "token",
        "POST",
        "/oauth/token",
        browser=False,
        data={"grant_type": "authorization_code"},
        headers={"Authorization": " "},
    )


@reproduces("UnicodeDecodeError in server.authenticate_client")
def basic_credentials_not_utf8(client: FlaskClient, proxy: Flask) -> None:
    credentials = base64.b64encode(b"\xff:x").decode()
    attack(
        proxy,
        "revoke",
        "POST",
        "/oauth/revoke",
        browser=False,
        data={"token": "t"},
        headers={"Authorization": f"Basic {credentials}"},
    )


@reproduces("TypeError in consent.check_csrf")
def non_ascii_csrf_token(client: FlaskClient, proxy: Flask) -> None:
    browser, txn, _ = pending_consent(proxy)
    form = {"action": "approve", "txn": txn, "csrf_token": "\ufeff"}
    answer = harness.send(browser, "consent", "POST", "/oauth/consent", data=form)
    harness.check_oauth(answer, f"POST /oauth/consent {form}", browser=True)


def test_every_known_failure_has_a_reproducer() -> None:
    assert set(KNOWN) <= set(REPRODUCERS)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(
            signature,
            marks=pytest.mark.xfail(
                signature in KNOWN and not harness.SHOW_KNOWN,
                reason=KNOWN.get(signature, ""),
                raises=harness.Failure,
                strict=True,
            ),
        )
        for signature in REPRODUCERS
    ],
)
def test_reproducer(
    example_client: FlaskClient, proxy_app: Flask, signature: str
) -> None:
    with harness.raising_known():
        try:
            REPRODUCERS[signature](example_client, proxy_app)
        except harness.Failure as failure:
            assert failure.signature == signature, failure
            raise
