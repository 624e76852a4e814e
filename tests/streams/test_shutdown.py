"""SIGTERM with held streams: every stream ends at once with its graceful
end, running calls finish, the workers exit within a second or two of the
longest call, and requests arriving meanwhile are served, not reset."""

from __future__ import annotations

import concurrent.futures
import errno
import os
import signal
import time
from pathlib import Path

from .sse import Session
from .sse import call
from .sse import listen
from .test_holding import held_server

TOOL_SECONDS = 2.0


def arrivals(port: int, until: float) -> dict[str, int]:
    """New connections, one after another, until ``until``: what each got."""
    outcomes: dict[str, int] = {}
    while time.monotonic() < until:
        try:
            answer = call(port, "add", {"a": 1, "b": 1})
            key = str(answer.status)
        except ConnectionResetError:
            key = "reset"
        except ConnectionRefusedError:
            key = "refused"
            time.sleep(0.05)
        except OSError as exc:
            key = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        outcomes[key] = outcomes.get(key, 0) + 1
        time.sleep(0.02)
    return outcomes


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(") ", 1)[1][0] != "Z"


def test_sigterm_ends_held_streams_at_once(tmp_path: Path) -> None:
    server = held_server(tmp_path, threads=32, workers=2)
    server.stop_timeout = 30
    with server:
        listens = [listen(server.port, f"s{n}", f"127.0.13.{n + 1}") for n in range(8)]
        gets = []
        for n in range(4):
            session = Session(server.port, f"127.0.14.{n + 1}")
            gets.append(session.get())
        for stream in listens:
            stream.wait_for(lambda s: len(s.events) >= 1)
        for stream in gets:
            stream.wait_for(lambda s: len(s.events) >= 1)
        workers = server.pids()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            running = pool.submit(call, server.port, "sleep", {"seconds": TOOL_SECONDS})
            time.sleep(0.3)  # the call is running
            assert server.proc is not None
            signalled = time.monotonic()
            os.kill(server.proc.pid, signal.SIGTERM)
            late = pool.submit(arrivals, server.port, signalled + TOOL_SECONDS + 1)
            for stream in [*listens, *gets]:
                assert stream.wait_end(timeout=3) < 2
            ended = time.monotonic() - signalled
            answer = running.result(timeout=30)
            server.proc.wait(timeout=30)
            gone = time.monotonic() - signalled
            outcomes = late.result()
    assert ended < 1.5, ended
    for stream in listens:
        final = stream.messages()[-1]
        assert final["result"]["resultType"] == "complete"
    for stream in gets:
        assert stream.events[-1].data is None and stream.events[-1].id
    assert answer.status == 200 and answer.json()["result"]["content"][0]["text"]
    assert not any(alive(pid) for pid in workers), server.log()
    assert gone < TOOL_SECONDS - 0.3 + 2, gone
    # Served while the workers drained, refused once they were gone.
    assert outcomes.get("200", 0) >= 1, outcomes
    assert "reset" not in outcomes, outcomes
