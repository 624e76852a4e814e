"""One policy for every access check (``run_check``): tools, resources,
prompts, step-up tools and protected routes answer a broken check alike, by
denying, never with a 500 and never by letting the caller in."""

from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp._check_policy import is_check_factory
from flask_mcp._check_policy import required_scopes
from flask_mcp.auth import AccessCheck
from flask_mcp.auth import CheckFactory
from flask_mcp.auth import ScopedCheck
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_any
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes
from flask_mcp.auth import run_check
from flask_mcp.testing import MCPError


def boom(session: t.Any) -> bool:
    raise RuntimeError("the directory is down")


async def late_yes(session: t.Any) -> bool:
    return True


async def doubly_async(session: t.Any) -> t.Any:
    return late_yes(session)


@pytest.mark.parametrize(
    ("check", "allowed", "broken"),
    [
        (lambda session: True, True, False),
        (lambda session: 0, False, False),
        (late_yes, True, False),
        (boom, False, True),
        (lambda session: require_role, False, True),  # a factory answered
        (lambda session: require_role("x"), False, True),  # a check answered
        (doubly_async, False, True),  # still awaitable after awaiting
    ],
)
def test_run_check(check, allowed, broken, caplog):
    caplog.set_level(logging.ERROR)
    assert run_check(check, {"sub": "u"}, guarding="tool 'x'") is allowed
    assert bool(caplog.records) is broken  # a broken check is logged
    if check is boom:
        assert "can_access of tool 'x' raised; access denied" in caplog.text
        assert "the directory is down" in caplog.text  # the traceback


def test_a_combination_with_a_broken_part_is_one_broken_check(caplog):
    either = require_any(AccessCheck(boom, "boom"), require_role("admin"))
    with pytest.raises(RuntimeError):
        either({"role": "admin"})  # called directly, it raises
    assert run_check(either, {"role": "admin"}, guarding="tool 't'") is False
    assert "can_access of tool 't' raised" in caplog.text
    with pytest.raises(TypeError):
        AccessCheck(lambda session: require_role, "confused")({})


def test_the_named_contracts():
    assert isinstance(require_scopes("a"), ScopedCheck)
    assert required_scopes(require_scopes("a", "b")) == ("a", "b")
    assert required_scopes(lambda session: True) == ()
    assert not isinstance(lambda session: True, ScopedCheck)
    assert isinstance(require_role, CheckFactory) and is_check_factory(require_role)
    assert not is_check_factory(require_role("x"))


@pytest.fixture
def served(tmp_path) -> tuple[Flask, FlaskMCP]:
    app = Flask("policy", instance_path=str(tmp_path / "instance"))
    mcp = FlaskMCP(app, authenticate=api_key_auth({"k": {"sub": "u", "role": "user"}}))
    broken = AccessCheck(boom, "broken", required_scopes=["deploy"])

    @mcp.tool(can_access=broken)
    def hidden() -> str:
        return "never"

    @mcp.tool(can_access=broken, step_up=True)
    def deploy() -> str:
        return "never"

    @mcp.route("/admin", can_access=broken)
    def admin() -> str:
        return "never"

    return app, mcp


def test_a_broken_check_hides_a_tool_and_refuses_a_step_up_call(served, caplog):
    app, mcp = served
    with mcp.test_client(app, headers={"X-API-Key": "k"}) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["deploy"]
        with pytest.raises(MCPError) as refused:
            client.call_tool("deploy")
        assert refused.value.status == 403
    assert "can_access of tool 'deploy' raised" in caplog.text


def test_a_broken_check_makes_a_route_answer_403_not_500(served, caplog):
    app, _ = served
    reply = app.test_client().get("/admin", headers={"X-API-Key": "k"})
    assert reply.status_code == 403
    assert reply.json == {
        "error": "insufficient_scope",
        "error_description": "access denied",
    }
    assert "can_access of route /admin raised" in caplog.text
