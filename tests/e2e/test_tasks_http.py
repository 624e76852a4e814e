"""Tasks on gunicorn (2 sync workers, legs in their threads), over raw HTTP:
status notifications on listen streams and 2025 sessions, records found at
once on any worker, cancellation across workers, a web worker killed
mid-leg, and the store frozen during a leg.

The servers use API keys (two users) and a 2 s lease, so a lost leg is
found out within seconds.
"""

from __future__ import annotations

import json
import os
import signal
import time
import typing as t
from pathlib import Path

import pytest
from task_wire import APPS_DIR
from task_wire import LegacySession
from task_wire import error
from task_wire import get
from task_wire import modern
from task_wire import result
from task_wire import sse
from task_wire import start
from task_wire import wait
from task_wire import wait_for_file

from support import REPO_ROOT
from support import GunicornServer
from support import RedisServer

ALICE, BOB = "key-alice", "key-bob"
LEASE = 2.0


def task_server(env: dict[str, str | None], instance: Path) -> GunicornServer:
    return GunicornServer(
        app="task_app:create_app()",
        env={
            "EXAMPLE_INSTANCE_PATH": str(instance),
            "EXAMPLE_API_KEYS": f"{ALICE}=alice:admin,{BOB}=bob:user",
            "EXAMPLE_CELERY_BROKER": None,
            "MCP_TASKS_LEASE": str(LEASE),
            "MCP_TASKS_POLL_INTERVAL_MS": "100",
            "MCP_LISTEN_HOLD": "8",
            **env,
        },
        workers=2,
        args=["--pythonpath", f"{REPO_ROOT},{APPS_DIR}"],
    )


@pytest.fixture(scope="module")
def server(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[GunicornServer]:
    store = redis_server.url.rsplit("/", 1)[0] + "/3"
    with task_server({"MCP_STORE_URL": store}, tmp_path_factory.mktemp("i")) as srv:
        yield srv


@pytest.fixture
def url(server: GunicornServer) -> str:
    return server.mcp_url


def listen(url: str, notifications: dict, key: str = ALICE, **kwargs: t.Any) -> t.Any:
    return modern(
        url,
        "subscriptions/listen",
        {"notifications": notifications},
        key=key,
        request_id="listen-1",
        stream=True,
        **kwargs,
    )


def test_a_task_is_found_at_once_on_every_worker(url: str) -> None:
    for _ in range(10):
        task_id = start(url, "slow_compute", {"seconds": 0}, key=ALICE)
        # Each request may reach either worker; none may say "not found".
        assert all(get(url, task_id, key=ALICE)["taskId"] == task_id for _ in range(4))


def test_listen_delivers_the_status_of_ones_own_tasks(url: str, tmp_path: Path) -> None:
    path = tmp_path / "go"
    mine = start(url, "hold_until", {"path": str(path)}, key=ALICE)
    theirs = start(url, "slow_compute", {"seconds": 30}, key=BOB)
    with listen(url, {"taskIds": [mine, theirs, "unknown"]}) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines(decode_unicode=True)
        ack = _next_message(lines)
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["notifications"] == {"taskIds": [mine]}
        seen: list[dict] = []
        while not seen or seen[-1]["params"]["status"] != "completed":
            if seen and "tick" in seen[-1]["params"].get("statusMessage", ""):
                path.write_text("go")  # progress was seen: let it finish
            message = _next_message(lines)
            assert message["method"] == "notifications/tasks", message
            assert message["params"]["taskId"] == mine
            assert message["params"]["_meta"] == {
                "io.modelcontextprotocol/subscriptionId": "listen-1"
            }
            seen.append(message)
    final = seen[-1]["params"]
    assert final["result"]["structuredContent"]["cancelled"] is False
    # The notification is the DetailedTask tasks/get answers.
    polled = get(url, mine, key=ALICE)
    for field in ("taskId", "status", "createdAt", "result", "ttlMs"):
        assert final[field] == polled[field]
    assert any("tick" in m["params"].get("statusMessage", "") for m in seen)
    modern(url, "tasks/cancel", {"taskId": theirs}, key=BOB)


def test_another_principal_cannot_listen_to_a_task(url: str) -> None:
    mine = start(url, "slow_compute", {"seconds": 1}, key=ALICE)
    with listen(url, {"taskIds": [mine]}, key=BOB) as stream:
        ack = _next_message(stream.iter_lines(decode_unicode=True))
    assert ack["params"]["notifications"] == {"taskIds": []}


def test_listening_to_tasks_needs_the_extension(url: str) -> None:
    response = listen(url, {"taskIds": ["x"]}, capabilities={})
    status, refused = error(response)
    assert (status, refused["code"]) == (400, -32021)
    response = listen(url, {"taskIds": "x"})
    assert error(response)[0] == 400


def test_a_2025_session_is_told_of_its_tasks(url: str, tmp_path: Path) -> None:
    path = tmp_path / "go"
    session = LegacySession(url, key=ALICE)
    created = session.call(
        "tools/call",
        {"name": "hold_until", "arguments": {"path": str(path)}, "task": {}},
    )
    task_id = created["task"]["taskId"]
    stream = session.stream()
    try:
        path.write_text("go")
        statuses = []
        for message in sse(stream, 20):
            if message.get("method") == "notifications/tasks/status":
                assert message["params"]["taskId"] == task_id
                statuses.append(message["params"]["status"])
                if message["params"]["status"] == "completed":
                    break
    finally:
        stream.close()
    assert statuses[-1] == "completed"
    listed = session.call("tasks/list", {})["tasks"]
    assert [t["taskId"] for t in listed] == [task_id]
    final = session.call("tasks/result", {"taskId": task_id})
    assert final["structuredContent"]["cancelled"] is False


def test_cancellation_reaches_the_leg_on_any_worker(url: str, tmp_path: Path) -> None:
    path = tmp_path / "never"
    task_id = start(url, "hold_until", {"path": str(path)}, key=ALICE)
    wait_for_file(Path(str(path) + ".pid"))
    for _ in range(3):  # whichever worker gets it
        assert result(modern(url, "tasks/cancel", {"taskId": task_id}, key=ALICE)) == {
            "resultType": "complete",
            "_meta": {
                "io.modelcontextprotocol/serverInfo": {
                    "name": "flask-mcp-example",
                    "version": "0.1.0",
                }
            },
        }
    started = time.monotonic()
    wait_for_file(Path(str(path) + ".cancelled"))
    assert time.monotonic() - started < 3
    assert get(url, task_id, key=ALICE)["status"] == "cancelled"


def test_a_killed_web_worker_fails_the_tasks_it_ran(
    url: str, server: GunicornServer, tmp_path: Path
) -> None:
    """Threads die with their process: the lease lapses and the task is
    failed with an error that says so, not left working."""
    path = tmp_path / "never"
    task_id = start(url, "hold_until", {"path": str(path)}, key=ALICE)
    pid = int(wait_for_file(Path(str(path) + ".pid")))
    assert pid in server.pids()
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    failed = wait(url, task_id, timeout=LEASE * 5 + 5, key=ALICE)
    assert failed["status"] == "failed"
    assert "stopped" in failed["error"]["message"]
    assert time.monotonic() - killed < LEASE * 5 + 5


# -- the store frozen during a leg --------------------------------------------


@pytest.fixture
def frozen_store_server(
    tmp_path: Path,
) -> t.Iterator[tuple[GunicornServer, RedisServer]]:
    with RedisServer() as redis:
        env = {"MCP_STORE_URL": redis.url, "MCP_TASKS_LEASE": "4"}
        with task_server(env, tmp_path / "instance") as srv:
            yield srv, redis


@pytest.mark.parametrize(
    ("frozen", "endings"),
    [
        # Shorter than the lease: the leg's end is recorded once the store
        # is back (after any lock taken during the freeze expired).
        (1.5, {"completed"}),
        # Longer: its lease lapsed meanwhile. Whichever comes first after the
        # thaw wins: the leg recording its end, or a reader failing it.
        (10.0, {"completed", "failed"}),
    ],
)
def test_the_store_frozen_during_a_leg(
    frozen_store_server: tuple[GunicornServer, RedisServer],
    tmp_path: Path,
    frozen: float,
    endings: set[str],
) -> None:
    server, redis = frozen_store_server
    url = server.mcp_url
    path = tmp_path / "go"
    task_id = start(url, "hold_until", {"path": str(path)}, key=ALICE)
    wait_for_file(Path(str(path) + ".pid"))
    os.kill(t.cast(int, redis.pid), signal.SIGSTOP)
    try:
        path.write_text("go")  # the leg ends while nothing can be recorded
        refused = modern(url, "tasks/get", {"taskId": task_id}, key=ALICE)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"]
        time.sleep(frozen)
    finally:
        os.kill(t.cast(int, redis.pid), signal.SIGCONT)
    # A lock taken while Redis was frozen may be held until it expires (the
    # store's lock hold, 60 s): 503 "try again" meanwhile.
    ended = wait(url, task_id, timeout=90, unavailable_ok=True, key=ALICE)
    assert ended["status"] in endings, ended
    if ended["status"] == "completed":
        assert ended["result"]["structuredContent"]["cancelled"] is False
    else:
        assert "stopped" in ended["error"]["message"]
    assert "Traceback" not in server.log()


def _next_message(lines: t.Iterator[str]) -> dict:
    for line in lines:
        if line and line.startswith("data:") and line[5:].strip():
            return t.cast(dict, json.loads(line[5:]))
    raise AssertionError("the stream ended")
