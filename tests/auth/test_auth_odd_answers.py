"""What ``authenticate`` functions and access checks answer by mistake.

A response returned instead of raised (FastMCP code *throws* one), ``False``
for "no", a view's ``(body, 401)``, a check written as a generator: each is
truthy, and read as a session or a yes it lets everyone in. Each is answered
as its author meant, or refused; never a pass and never a 500."""

from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Flask
from flask import Response
from flask import jsonify

from flask_mcp import FlaskMCP
from flask_mcp.auth import any_of
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_all
from flask_mcp.auth import require_any
from flask_mcp.auth import run_check
from support.mcp_post import INIT
from support.mcp_post import post

KEYS = api_key_auth({"ci-key": {"sub": "ci", "roles": ["ci"]}})


def refusing_with(answer: t.Callable[[], t.Any]) -> t.Callable[[t.Any], t.Any]:
    def authenticate(request: t.Any) -> t.Any:
        return answer()

    return authenticate


RETURNED = {
    "False": lambda: False,
    "a 401 response": lambda: Response("go away", 401),
    "a 403 response": lambda: Response("suspended", 403),
    "a view's (body, status)": lambda: (jsonify(error="no key"), 401),
    "a view's (text, status, headers)": lambda: ("no", 401, {"X-Why": "key"}),
}
#: The status each answer gets: what its author meant.
STATUS = {
    "False": 401,
    "a 401 response": 401,
    "a 403 response": 403,
    "a view's (body, status)": 401,
    "a view's (text, status, headers)": 401,
}


def make_app(tmp_path: t.Any, authenticate: t.Any) -> tuple[Flask, list[str]]:
    app = Flask("odd", instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    mcp = FlaskMCP(app, authenticate=authenticate)
    calls: list[str] = []

    @mcp.tool()
    def whoami() -> str:
        calls.append("whoami")
        return "ok"

    @mcp.route("/api/me")
    def me() -> t.Any:
        calls.append("me")
        return {"ok": True}

    return app, calls


@pytest.mark.parametrize("name", list(RETURNED))
@pytest.mark.parametrize("alone", [True, False], ids=["alone", "in-a-list"])
def test_a_returned_refusal_is_no_session(tmp_path, name, alone):
    mistaken = refusing_with(RETURNED[name])
    app, calls = make_app(tmp_path, mistaken if alone else [mistaken, KEYS])
    started = post(app, INIT)
    assert started.status_code == STATUS[name]
    assert "Mcp-Session-Id" not in started.headers
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call"}
    call["params"] = {"name": "whoami", "arguments": {}}  # type: ignore[assignment]
    assert post(app, call).status_code == STATUS[name]
    assert app.test_client().get("/api/me").status_code == STATUS[name]
    assert calls == []
    if STATUS[name] == 401:
        assert "WWW-Authenticate" in started.headers


def test_a_returned_response_is_answered_as_raised(tmp_path):
    app, _ = make_app(tmp_path, refusing_with(RETURNED["a 403 response"]))
    refused = app.test_client().get("/api/me")
    assert refused.status_code == 403 and refused.text == "suspended"


@pytest.mark.parametrize("name", ["False", "a 401 response", "a view's (body, status)"])
def test_the_next_way_in_still_lets_its_callers_in(tmp_path, name):
    app, calls = make_app(tmp_path, [refusing_with(RETURNED[name]), KEYS])
    started = post(app, INIT, **{"X-API-Key": "ci-key"})
    assert started.status_code == 200 and "Mcp-Session-Id" in started.headers
    both = any_of(refusing_with(RETURNED[name]), KEYS)
    with app.test_request_context(headers={"X-API-Key": "ci-key"}) as ctx:
        found = both.identify(ctx.request)
    assert found is not None and found.source == "api-key:X-API-Key"


def test_a_view_tuple_is_logged_as_a_mistake(tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    app, _ = make_app(tmp_path, refusing_with(RETURNED["a view's (body, status)"]))
    assert post(app, INIT).status_code == 401
    assert "returned a view's return value" in caplog.text
    assert "abort(" in caplog.text  # what to write instead


# -- access checks -----------------------------------------------------------


def generator_check(session: t.Any) -> t.Any:
    yield False


async def async_generator_check(session: t.Any) -> t.Any:
    yield False


class Ambiguous:
    """An answer whose truth cannot be told (a numpy array of several)."""

    def __bool__(self) -> bool:
        raise ValueError("the truth value of an array is ambiguous")


@pytest.mark.parametrize(
    "check",
    [
        generator_check,
        async_generator_check,
        lambda session: Ambiguous(),
        lambda session: NotImplemented,
    ],
    ids=["generator", "async-generator", "ambiguous", "NotImplemented"],
)
def test_a_check_that_answers_no_yes_or_no_denies(check, caplog):
    caplog.set_level(logging.ERROR)
    assert run_check(check, {"sub": "u"}, guarding="tool 'x'") is False
    assert "tool 'x'" in caplog.text and "access denied" in caplog.text
    for combined in (require_all(check), require_any(check)):
        assert run_check(combined, {"sub": "u"}, guarding="tool 'y'") is False


@pytest.mark.parametrize(
    "check",
    [generator_check, lambda session: Ambiguous()],
    ids=["generator", "ambiguous"],
)
def test_a_route_guarded_by_such_a_check_answers_403(tmp_path, check):
    app = Flask("odd-check", instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    mcp = FlaskMCP(app, authenticate=KEYS)
    ran = []

    @mcp.tool(can_access=check)
    def secret() -> str:
        ran.append(1)
        return "secret"

    @mcp.route("/api/secret", can_access=check)
    def route() -> t.Any:
        ran.append(1)
        return {"secret": True}

    refused = app.test_client().get("/api/secret", headers={"X-API-Key": "ci-key"})
    assert refused.status_code == 403
    with mcp.test_client(app, headers={"X-API-Key": "ci-key"}) as client:
        assert client.list_tools() == []
    assert ran == []
