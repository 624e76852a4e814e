"""The tiers the conftest gives tests, and the Flask-style fixtures.

Each test here checks the markers of its own item (``request.node``), so the
inference is tested on real collected tests.
"""

from __future__ import annotations

import typing as t

import pytest
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from flask_mcp import FlaskMCP
from support import GunicornServer
from support import tiers

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
}


def tiers_of(request: pytest.FixtureRequest) -> set[str]:
    return {
        mark.name for mark in request.node.iter_markers() if mark.name in tiers.TIERS
    }


def start_a_server() -> None:
    """Never called: referring to GunicornServer is what counts."""
    with GunicornServer():
        pass


@pytest.fixture
def server_starter() -> t.Callable[[], None]:
    return start_a_server


def test_plain_code_is_unit(request: pytest.FixtureRequest) -> None:
    assert tiers_of(request) == {"unit"}


def test_the_client_fixture_is_http(
    request: pytest.FixtureRequest, client: FlaskClient
) -> None:
    assert tiers_of(request) == {"http"}


def test_a_fixture_that_starts_gunicorn_puts_its_tests_there(
    request: pytest.FixtureRequest, server_starter: t.Callable[[], None]
) -> None:
    assert tiers_of(request) == {"gunicorn"}


def test_a_helper_named_in_the_test_counts(request: pytest.FixtureRequest) -> None:
    if request.node is None:  # never true: only the reference to the helper counts
        start_a_server()
    assert tiers_of(request) == {"gunicorn"}


def test_a_fixture_named_in_a_string_counts(request: pytest.FixtureRequest) -> None:
    if request.node is None:  # never true, as above
        request.getfixturevalue("redis_server")
    assert tiers_of(request) == {"redis"}


@pytest.mark.node
def test_an_explicit_mark_is_kept(request: pytest.FixtureRequest) -> None:
    assert tiers_of(request) == {"node"}


def test_a_process_outside_the_tests_tiers_is_refused(
    request: pytest.FixtureRequest,
) -> None:
    with pytest.raises(tiers.TierError, match=r"@pytest\.mark\.redis"):
        tiers.require("redis")
    tiers.require("unit")


def test_needs_refuses_unknown_tiers() -> None:
    with pytest.raises(ValueError, match="docker"):
        tiers.needs("docker")


@pytest.mark.parametrize("mcp_config", [{}, {"MCP_STATELESS": True}])
def test_mcp_config_configures_the_app(
    mcp: FlaskMCP, client: FlaskClient, mcp_config: dict[str, t.Any]
) -> None:
    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}},
    }
    response = client.post("/mcp", json=initialize, headers=HEADERS)
    assert response.status_code == 200
    stateless = mcp_config.get("MCP_STATELESS", False)
    assert ("Mcp-Session-Id" in response.headers) is not stateless


def test_the_runner_runs_flask_mcp_commands(
    mcp: FlaskMCP, runner: FlaskCliRunner
) -> None:
    @mcp.prompt()
    def hello() -> str:
        """Say hello."""
        return "hello"

    result = runner.invoke(args=["mcp", "list"])
    assert result.exit_code == 0, result.output
    assert "prompt    hello" in result.output


@pytest.mark.parametrize(
    "variant", ["served", pytest.param("in-process", marks=pytest.mark.tiers("http"))]
)
def test_the_tiers_mark_states_a_variant_s_tiers_outright(
    request: pytest.FixtureRequest,
    server_starter: t.Callable[[], None],
    variant: str,
) -> None:
    """The in-process variant is ``http`` only although its fixture refers to
    gunicorn; its sibling keeps what inference finds."""
    expected = {"http"} if variant == "in-process" else {"gunicorn"}
    assert tiers_of(request) == expected
    assert request.node.stash[tiers.STASH_KEY] == expected
