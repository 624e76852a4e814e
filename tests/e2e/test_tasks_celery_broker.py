"""A Celery broker that freezes (a Redis stopped with SIGSTOP) under
gunicorn: a task call fails with the task-queue error within seconds,
instead of holding the web worker until gunicorn kills it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from task_wire import error
from task_wire import modern
from task_wire import start

from support import REPO_ROOT
from support import GunicornServer
from support import RedisServer

ALICE = "key-alice"


def test_a_frozen_broker_fails_task_calls_within_seconds(tmp_path: Path) -> None:
    with RedisServer() as broker:
        env = {
            "EXAMPLE_INSTANCE_PATH": str(tmp_path),
            "EXAMPLE_API_KEYS": f"{ALICE}=alice:admin",
            "EXAMPLE_CELERY_BROKER": broker.url,
            "MCP_STORE_URL": None,  # the file store: only the broker freezes
            "SECRET_KEY": "test",
            "PYTHONPATH": str(REPO_ROOT),
        }
        with GunicornServer(env=env, workers=1) as web:
            arguments = {"name": "slow_compute", "arguments": {"seconds": 0}}
            start(web.mcp_url, "slow_compute", {"seconds": 0}, key=ALICE)
            assert broker.pid is not None
            os.kill(broker.pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                response = modern(web.mcp_url, "tools/call", arguments, key=ALICE)
                elapsed = time.monotonic() - started
            finally:
                os.kill(broker.pid, signal.SIGCONT)
            status, refused = error(response)
            assert (status, refused["code"]) == (200, -32603)
            assert "task queue is unavailable" in refused["message"]
            # A few broker timeouts (2 s) across Celery's retries; the
            # request would wait for gunicorn's timeout (120 s) without them.
            assert elapsed < 20
            assert "Traceback" not in web.log()
