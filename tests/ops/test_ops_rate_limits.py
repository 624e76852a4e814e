"""Rate limits in one process: per caller, per tool and by default, both
eras, user mistakes at registration, and the counters' storage failing.
(Across workers and hosts on one Redis: test_ops_flood.py.)"""

from __future__ import annotations

import logging
import os
import signal
import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.components.component import RegistrationError
from flask_mcp.ops import rate_limits
from support import RedisServer

from .helpers import call
from .helpers import modern
from .helpers import post

RATE_LIMITED = -32029


def authenticate(request: t.Any) -> t.Any:
    key = request.headers.get("X-Key")
    return {"sub": key} if key else None


def make_app(
    tmp_path: Path, auth: t.Any = authenticate, **config: t.Any
) -> tuple[Flask, FlaskMCP]:
    app = Flask("limits", instance_path=str(tmp_path / "instance"))
    app.config.update({"MCP_STATELESS": True, **config})
    mcp = FlaskMCP(app, authenticate=auth)

    @mcp.tool(rate_limit="2/minute")
    def expensive() -> str:
        return "ok"

    @mcp.tool
    def cheap() -> str:
        return "ok"

    return app, mcp


def statuses(client: t.Any, name: str, times: int, **headers: str) -> list[int]:
    return [post(client, call(name, id=i), **headers).status_code for i in range(times)]


def test_a_tools_own_limit_per_caller(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = app.test_client()
    assert statuses(client, "expensive", 3, **{"X-Key": "ann"}) == [200, 200, 429]
    # Another caller has a budget of their own; other tools are not limited.
    assert statuses(client, "expensive", 2, **{"X-Key": "bob"}) == [200, 200]
    assert statuses(client, "cheap", 5, **{"X-Key": "ann"}) == [200] * 5


def test_the_answer_over_a_limit(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = app.test_client()
    statuses(client, "expensive", 2, **{"X-Key": "ann"})
    refused = post(client, call("expensive", id=41), **{"X-Key": "ann"})
    assert refused.status_code == 429
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 60
    body = refused.get_json()
    assert body["id"] == 41
    assert body["error"]["code"] == RATE_LIMITED
    assert body["error"]["data"] == {"retryAfter": retry}
    assert "expensive" in body["error"]["message"]


def test_the_default_limit_counts_every_message(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, MCP_RATE_LIMIT="3/minute;100/hour")
    client = app.test_client()
    codes = [
        post(client, call("cheap", id=1), **{"X-Key": "ann"}).status_code,
        post(
            client,
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            **{"X-Key": "ann"},
        ).status_code,
        post(client, call("expensive", id=3), **{"X-Key": "ann"}).status_code,
        post(client, call("cheap", id=4), **{"X-Key": "ann"}).status_code,
    ]
    assert codes == [200, 200, 200, 429]


def test_anonymous_callers_are_counted_by_address(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, auth=None)
    client = app.test_client()

    def from_(address: str) -> list[int]:
        return [
            client.post(
                "/mcp",
                json=call("expensive", id=i),
                headers={"Accept": "application/json, text/event-stream"},
                environ_base={"REMOTE_ADDR": address},
            ).status_code
            for i in range(3)
        ]

    assert from_("2001:db8::1") == [200, 200, 429]
    assert from_("2001:db8::2")[0] == 429  # the same /64
    assert from_("2001:db8:1::1") == [200, 200, 429]


def test_the_same_answer_on_2026_07_28(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    client = app.test_client()
    codes = []
    for i in range(3):
        message, headers = modern("tools/call", {"name": "expensive"}, id=i)
        response = post(client, message, **headers, **{"X-Key": "ann"})
        codes.append(response.status_code)
    assert codes == [200, 200, 429]
    assert response.get_json()["error"]["code"] == RATE_LIMITED
    assert "Retry-After" in response.headers


def test_a_batch_refuses_the_items_over_the_limit(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    batch = [call("expensive", id=i) for i in range(3)]
    response = post(
        app.test_client(),
        batch,
        **{"X-Key": "ann", "MCP-Protocol-Version": "2025-03-26"},
    )
    assert response.status_code == 200
    answers = response.get_json()
    assert ["result" in a for a in answers] == [True, True, False]
    assert answers[2]["error"]["code"] == RATE_LIMITED


class TestMistakes:
    @pytest.mark.parametrize(
        "bad", ["10/minit", "ten per minute", "", "10", 10, "/minute", "-1/second"]
    )
    def test_a_limit_that_does_not_parse_fails_registration(self, bad: t.Any) -> None:
        mcp = FlaskMCP()
        with pytest.raises(RegistrationError, match="tool 'f'.*rate_limit"):

            @mcp.tool(rate_limit=bad)
            def f() -> str:
                return "x"

        assert "f" not in mcp.registry.tools

    def test_a_default_that_does_not_parse_fails_the_start(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(ValueError, match="MCP_RATE_LIMIT '20/sec0nd'"):
            make_app(tmp_path, MCP_RATE_LIMIT="20/sec0nd")

    def test_an_unknown_strategy_fails_the_start(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="rate limits:.*strategy"):
            make_app(
                tmp_path, MCP_RATE_LIMIT="1/second", MCP_RATE_LIMIT_STRATEGY="leaky"
            )

    def test_a_storage_it_does_not_know_fails_the_start(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="rate limits"):
            make_app(
                tmp_path,
                MCP_RATE_LIMIT="1/second",
                MCP_RATE_LIMIT_STORAGE_URI="bogus://x",
            )

    def test_a_limited_tool_added_after_init_app_is_limited(
        self, tmp_path: Path
    ) -> None:
        app = Flask("late", instance_path=str(tmp_path))
        app.config["MCP_STATELESS"] = True
        mcp = FlaskMCP(app)  # no limit at all yet

        @mcp.tool(rate_limit="1/minute")
        def late() -> str:
            return "x"

        assert statuses(app.test_client(), "late", 2) == [200, 429]

    def test_flask_limiters_switch_turns_them_off(self, tmp_path: Path) -> None:
        app, _ = make_app(tmp_path, RATELIMIT_ENABLED=False)
        assert (
            statuses(app.test_client(), "expensive", 4, **{"X-Key": "a"}) == [200] * 4
        )

    def test_memory_counters_are_called_what_they_are(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, "flask_mcp.ops"):
            make_app(tmp_path)
        assert "counted in each process's memory" in caplog.text


def test_when_the_counters_storage_fails_requests_go_through(
    tmp_path: Path,
    own_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fail open: one warning when the limits stop working, one line when
    they work again; a frozen Redis costs one timeout per retry interval,
    not one per request."""
    monkeypatch.setattr(rate_limits, "RETRY_INTERVAL", 1.0)
    app, _ = make_app(
        tmp_path,
        MCP_RATE_LIMIT="1000/minute",
        MCP_RATE_LIMIT_STORAGE_URI=own_redis.url,
        MCP_STORE_TIMEOUT=0.5,
    )
    client = app.test_client()
    ann = {"X-Key": "ann"}
    with caplog.at_level(logging.INFO, "flask_mcp.ops.rate_limits"):
        assert statuses(client, "expensive", 3, **ann) == [200, 200, 429]
        own_redis.stop()
        assert statuses(client, "expensive", 5, **ann) == [200] * 5
        assert caplog.text.count("rate limits are not enforced") == 1
        own_redis.start()
        time.sleep(1.1)  # the retry interval (patched to 1 s) passes
        codes = statuses(client, "expensive", 3, **ann)
        assert codes[-1] == 429  # counted again (a fresh Redis: a new window)
        assert caplog.text.count("rate limits are enforced again") == 1

        assert own_redis.pid is not None
        os.kill(own_redis.pid, signal.SIGSTOP)
        started = time.monotonic()
        assert statuses(client, "cheap", 6, **ann) == [200] * 6
        elapsed = time.monotonic() - started
        os.kill(own_redis.pid, signal.SIGCONT)
    assert elapsed < 2.0  # one 0.5 s timeout, then the calls pass at once
    assert caplog.text.count("rate limits are not enforced") == 2


def test_no_route_pays_for_the_limits(tmp_path: Path) -> None:
    """Flask-Limiter's per-route hooks would run on every request of the app
    for no limit at all: they are not left on it."""
    app, _ = make_app(tmp_path, MCP_RATE_LIMIT="5/second")
    for hooks in (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
    ):
        assert not any("limit" in repr(hook).lower() for hook in hooks.get(None, []))
    assert app.extensions["mcp"]["mcp"].endpoint.limiter is not None
