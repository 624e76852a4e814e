"""Redis Sentinel under gunicorn: the primary is killed while clients work.

Every answer is a success or a 503 with ``Retry-After``, for at most the
failover time; then everything continues, and nothing that was acknowledged
is lost: sessions, the events of streamed calls (replayed with
``Last-Event-ID``), OAuth client registrations. The store waits for one
replica on each write (``WAIT``, the Sentinel default) and the primary
refuses writes without a replica (``min-replicas-to-write 1``), so a write
that was answered is on the replica that Sentinel promotes.

The failover time and the count of 503s are printed (``pytest -s``) and
written to ``tests/artifacts/sentinel_failover.json``.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

import pytest
import requests

from flask_mcp.store import Store
from flask_mcp.store import StoreUnavailable
from flask_mcp.store import create_store
from support import ARTIFACTS_DIR
from support import GunicornServer
from support import free_port
from support.mcp_http import LegacySession
from support.redis_topologies import RedisNode
from support.redis_topologies import SentinelGroup

CLIENTS = 4
#: Seconds of traffic before the kill, and after everything works again.
BEFORE, AFTER = 1.5, 2.0


@dataclass
class Ledger:
    """What the clients were told, shared by their threads."""

    sessions: list[str] = field(default_factory=list)
    #: (session id, event ids of the stream) of every streamed call answered.
    streams: list[tuple[str, list[str]]] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    #: (monotonic time, status) of every answer.
    answers: list[tuple[float, int]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mutex: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, response: requests.Response, *expected: int) -> bool:
        """Record ``response``; whether it succeeded."""
        with self.mutex:
            self.answers.append((time.monotonic(), response.status_code))
            if response.status_code in expected:
                return True
            if (
                response.status_code != 503
                or not response.headers.get("Retry-After", "").isdigit()
            ):
                self.unexpected.append(
                    f"{response.request.method} {response.url}:"
                    f" {response.status_code} {response.text[:300]}"
                )
            return False


def event_ids(response: requests.Response) -> list[str]:
    return [
        line[3:].strip()
        for line in response.text.splitlines()
        if line.startswith("id:") and line[3:].strip()
    ]


def work(server: GunicornServer, ledger: Ledger, stop: threading.Event) -> None:
    """One client: sessions, streamed calls, registrations, until ``stop``."""
    http = requests.Session()
    while not stop.is_set():
        session = LegacySession(http, server.mcp_url, timeout=30)
        if not ledger.answered(session.open(), 200):
            time.sleep(0.05)
            continue
        assert session.id is not None
        with ledger.mutex:
            ledger.sessions.append(session.id)
        response, message = session.call("steps", {"count": 3}, progress=True)
        if ledger.answered(response, 200) and message and "result" in message:
            with ledger.mutex:
                ledger.streams.append((session.id, event_ids(response)))
        registered = http.post(
            server.url + "/oauth/register",
            json={"redirect_uris": ["http://127.0.0.1:9/cb"], "client_name": "t"},
            timeout=30,
        )
        if ledger.answered(registered, 201):
            with ledger.mutex:
                ledger.clients.append(registered.json()["client_id"])


@pytest.fixture
def group() -> t.Iterator[SentinelGroup]:
    with SentinelGroup() as group:
        yield group


def test_the_primary_dies_under_load(
    group: SentinelGroup, serve_store_app: t.Any
) -> None:
    port = free_port()
    env = {
        "STORE_APP_UPSTREAM": "http://127.0.0.1:9",  # never called
        "STORE_APP_BASE_URL": f"http://127.0.0.1:{port}",
        "MCP_STORE_URL": group.url,
        "MCP_STORE_TIMEOUT": "1",
        "MCP_STORE_PROBE_INTERVAL": "0.2",
        "MCP_OAUTH_REGISTRATIONS": "0",  # every client is 127.0.0.1
    }
    with serve_store_app(env, port=port, clean_log=False) as server:
        ledger = Ledger()
        stop = threading.Event()
        threads = [
            threading.Thread(target=work, args=(server, ledger, stop))
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(BEFORE)
            old = group.kill_primary()
            killed = time.monotonic()
            new = group.wait_for_failover(old)
            promoted = time.monotonic() - killed
            # A supervisor brings the dead server back; Sentinel's primary
            # gets its replica again (and with it, the right to write).
            group.replica = RedisNode(
                "--replicaof",
                "127.0.0.1",
                str(new),
                "--min-replicas-to-write",
                "1",
                "--min-replicas-max-lag",
                "2",
                port=old,
            ).start()
            restarted = time.monotonic() - killed
            deadline = time.monotonic() + 60
            while True:
                with ledger.mutex:
                    recent = [s for at, s in ledger.answers if at > killed]
                if recent[-20:].count(200) + recent[-20:].count(201) == 20:
                    break
                assert time.monotonic() < deadline, "never recovered"
                time.sleep(0.1)
            time.sleep(AFTER)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
            if group.replica is not None and group.replica.port == old:
                group.replica.close()

        refused = [at for at, status in ledger.answers if status == 503]
        outage = max(refused) - killed if refused else 0.0
        result = {
            "sentinel_promotion_s": round(promoted, 2),
            "old_primary_back_as_replica_s": round(restarted, 2),
            "failover_s": round(outage, 2),
            "answers": len(ledger.answers),
            "answers_503": len(refused),
            "sessions": len(ledger.sessions),
            "streams": len(ledger.streams),
            "registrations": len(ledger.clients),
        }
        print("\nSentinel failover:", json.dumps(result))
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS_DIR / "sentinel_failover.json").write_text(json.dumps(result))

        assert not ledger.unexpected, ledger.unexpected[:5]
        assert refused and all(at > killed for at in refused)
        assert not [s for s in ledger.answers if s[1] == 500]
        assert "Traceback" not in server.log()

        # Nothing acknowledged was lost.
        http = requests.Session()
        for session_id in ledger.sessions:
            session = LegacySession(http, server.mcp_url)
            session.id = session_id
            response = served(lambda s=session: s.call("add", {"a": 1, "b": 2})[0])
            assert response.status_code == 200, (session_id, response.text)
        for session_id, ids in ledger.streams:
            assert len(ids) >= 4, ids  # the priming event, 3 steps and more
            headers = {
                "Accept": "text/event-stream",
                "Mcp-Session-Id": session_id,
                "MCP-Protocol-Version": "2025-11-25",
                "Last-Event-ID": ids[0],
            }
            replay = served(
                lambda h=headers: http.get(server.mcp_url, headers=h, timeout=30)
            )
            assert replay.status_code == 200, replay.text
            assert event_ids(replay)[-1] == ids[-1]  # up to the answer
        store = create_store(group.url, "/x", "mcp:secure:oauth:")
        for client_id in ledger.clients:
            assert read(store, f"client:{client_id}") is not None, client_id


def served(call: t.Callable[[], requests.Response]) -> requests.Response:
    """``call()`` again while it answers 503 (a loaded machine may see the
    sentinels fail over a second time), for 30 s at most."""
    deadline = time.monotonic() + 30
    while True:
        response = call()
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def read(store: Store, key: str) -> t.Any:
    deadline = time.monotonic() + 30
    while True:
        try:
            return store.get(key)
        except StoreUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.2)
