"""Choosing and configuring the executor: threads by default, Celery by URL,
app or import string, another queue through the Executor interface; the
settings refused at ``init_app``; ``flask mcp worker``."""

from __future__ import annotations

import threading
import typing as t

import pytest
from celery import Celery
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.tasks import Executor
from flask_mcp.tasks import TaskService
from flask_mcp.tasks import ThreadExecutor
from flask_mcp.tasks.celery_executor import CeleryExecutor

#: Named by import string in a test below.
celery_app = Celery("flask_mcp_tests", broker="memory://", set_as_current=False)


def make(config: dict[str, t.Any], tmp_path: t.Any) -> tuple[FlaskMCP, Flask]:
    mcp = FlaskMCP(name="settings")

    @mcp.tool(task="optional")
    def job(x: int) -> int:
        return x * 2

    app = Flask("settings", instance_path=str(tmp_path))
    app.config.update(config)
    mcp.init_app(app)
    return mcp, app


def executor(config: dict[str, t.Any], tmp_path: t.Any) -> Executor:
    mcp, app = make(config, tmp_path)
    return mcp.state(app).tasks.executor


def test_threads_by_default(tmp_path: t.Any) -> None:
    chosen = executor({"MCP_TASKS_THREADS": 2}, tmp_path)
    assert isinstance(chosen, ThreadExecutor)
    assert (chosen.name, chosen.holds_leases, chosen.threads) == ("thread", True, 2)


def test_celery_from_a_broker_url(tmp_path: t.Any) -> None:
    chosen = executor(
        {"MCP_TASKS_CELERY": "redis://127.0.0.1:1/0", "MCP_TASKS_CELERY_QUEUE": "mcp"},
        tmp_path,
    )
    assert isinstance(chosen, CeleryExecutor)
    assert (chosen.name, chosen.holds_leases, chosen.queue) == ("celery", False, "mcp")
    conf = chosen.app.conf
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.broker_transport_options == {
        "visibility_timeout": 3600.0,
        "socket_timeout": 2.0,  # a frozen broker fails a task call, not hangs it
        "socket_connect_timeout": 2.0,
    }
    task = chosen.app.tasks[chosen.task_name]
    assert (task.acks_late, task.reject_on_worker_lost, task.max_retries) == (
        True,
        True,
        0,
    )


@pytest.mark.parametrize("given", [celery_app, f"{__name__}:celery_app"])
def test_celery_from_an_app_or_its_import_string(given: t.Any, tmp_path: t.Any) -> None:
    chosen = executor({"MCP_TASKS_CELERY": given}, tmp_path)
    assert isinstance(chosen, CeleryExecutor) and chosen.app is celery_app
    assert "flask_mcp.leg.mcp" in celery_app.tasks


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"MCP_TASKS_CELERY": 42}, "MCP_TASKS_CELERY must be"),
        ({"MCP_TASKS_CELERY": f"{__name__}:make"}, "MCP_TASKS_CELERY must be"),
        ({"MCP_TASKS_TTL": "soon"}, "MCP_TASKS_TTL must be a number"),
        ({"MCP_TASKS_THREADS": 0}, "MCP_TASKS_THREADS must be at least 1"),
        ({"MCP_TASKS_LEASE": 60, "MCP_TASKS_VISIBILITY_TIMEOUT": 30}, "at least"),
        ({"MCP_TASKS_EXECUTOR": lambda service: object()}, "not an Executor"),
    ],
)
def test_unusable_settings_are_refused_at_init_app(
    config: dict[str, t.Any], message: str, tmp_path: t.Any
) -> None:
    with pytest.raises(ValueError, match=message):
        make(config, tmp_path)


class InlineQueue(Executor):
    """Another queue, as RQ would plug in: its worker calls service.work."""

    name = "inline"

    def __init__(self, service: TaskService) -> None:
        self.service = service
        self.sent: list[tuple[str, int]] = []

    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        self.sent.append((task_id, leg))
        threading.Thread(target=self.service.work, args=(task_id, leg)).start()


def test_another_queue_plugs_in_as_an_executor(tmp_path: t.Any) -> None:
    mcp, app = make({"MCP_TASKS_EXECUTOR": InlineQueue}, tmp_path)
    queue = t.cast(InlineQueue, mcp.state(app).tasks.executor)
    with app.app_context(), mcp.test_client(app, protocol_version="2026-07-28") as c:
        task = c.call_tool_as_task("job", {"x": 21})
        done = c.wait_for_task(task["taskId"])
    assert done["result"]["content"] == [{"type": "text", "text": "42"}]
    assert queue.sent == [(task["taskId"], 1)]


def test_the_worker_command_needs_celery(tmp_path: t.Any) -> None:
    mcp, app = make({}, tmp_path)
    answer = app.test_cli_runner().invoke(args=["mcp", "worker"])
    assert answer.exit_code == 1
    assert "runs its tasks in threads: set MCP_TASKS_CELERY" in answer.output
    answer = app.test_cli_runner().invoke(args=["mcp", "worker", "--server", "nope"])
    assert answer.exit_code == 2 and "no MCP server named 'nope'" in answer.output


def _sessions() -> list[t.Any]:
    from flask_mcp.auth import TokenSession
    from flask_mcp.auth.keyring import ManagedKeySession

    token = TokenSession.from_claims(
        {"sub": "ada", "scope": "read write", "iss": "https://idp"}, token="secret"
    )
    key = ManagedKeySession(name="ci", roles=frozenset({"deploy"}), key_id="k1")
    return [token, key, {"sub": "bob", "roles": ["admin"]}, "carol", None]


@pytest.mark.parametrize("session", _sessions(), ids=lambda s: type(s).__name__)
def test_auth_sessions_travel_sealed(session: t.Any, tmp_path: t.Any) -> None:
    from flask_mcp.tasks.credentials import SessionSeal

    seal = SessionSeal("secret key", str(tmp_path), "mcp")
    sealed = seal.seal(session, "task-1")
    if session is None:
        assert sealed is None
    else:
        assert "secret" not in sealed and "ada" not in sealed  # encrypted
        with pytest.raises(Exception, match="does not open"):
            seal.open(sealed, "task-2")  # bound to its task
        other = SessionSeal("another key", str(tmp_path), "mcp")
        with pytest.raises(Exception, match="does not open"):
            other.open(sealed, "task-1")
    assert seal.open(sealed, "task-1") == session


def test_without_a_secret_key_the_key_is_kept_in_the_instance_folder(
    tmp_path: t.Any,
) -> None:
    from flask_mcp.tasks.credentials import SessionSeal

    first = SessionSeal(None, str(tmp_path), "mcp").seal({"sub": "x"}, "t")
    assert SessionSeal(None, str(tmp_path), "mcp").open(first, "t") == {"sub": "x"}
    assert list((tmp_path / "flask_mcp_keys").iterdir())
