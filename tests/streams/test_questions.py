"""A 2025 tool waiting for the client's answer holds no thread it is asked
for: on 2025-11-25 its stream yields (the client resumes it by GET and
``Last-Event-ID``, SEP-1699), and a stopping worker ends the wait at once."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
import typing as t
from pathlib import Path

import pytest

from support import GunicornServer

from .processes import running
from .sse import Session
from .sse import Stream
from .sse import call
from .sse import listen
from .test_holding import held_server

ASK = {
    "jsonrpc": "2.0",
    "id": 3,
    "method": "tools/call",
    "params": {"name": "ask", "arguments": {}},
}


def elicit_session(port: int) -> Session:
    return Session(port, capabilities={"elicitation": {}})


def asked(stream: Stream) -> bool:
    return "elicitation/create" in stream.methods()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[GunicornServer]:
    with held_server(tmp_path_factory.mktemp("questions"), threads=6) as srv:
        yield srv


def test_a_waiting_question_yields_and_is_resumed(server: GunicornServer) -> None:
    session = elicit_session(server.port)
    question = session.post(ASK)
    question.wait_for(asked)
    priming = question.events[0]
    assert priming.id and priming.retry is not None
    # Three more streams and three naps: a request waits, the oldest yields.
    streams = [listen(server.port, f"q{n}", f"127.0.15.{n + 1}") for n in range(3)]
    for stream in streams:
        stream.wait_for(lambda s: len(s.events) >= 1)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        naps = [
            pool.submit(call, server.port, "sleep", {"seconds": 0.5}) for _ in range(3)
        ]
        question.wait_end(timeout=5)
        assert all(nap.result(timeout=20).status == 200 for nap in naps)
    assert question.events[-1].retry is not None and question.events[-1].retry >= 1000
    assert not any("result" in m for m in question.messages())
    # The client answers, then resumes where its stream stopped.
    elicitation = next(m for m in question.messages() if m.get("method"))
    reply = {
        "jsonrpc": "2.0",
        "id": elicitation["id"],
        "result": {"action": "accept", "content": {"name": "Ada"}},
    }
    assert session.post(reply).status == 202
    last = [e.id for e in question.events if e.id][-1]
    resumed = session.get(last_event_id=last)
    resumed.wait_for(lambda s: any("result" in m for m in s.messages()))
    final = resumed.messages()[-1]
    assert final["id"] == 3
    assert final["result"]["content"][0]["text"] == "hello Ada"
    for stream in streams:
        stream.close()


def test_a_stopping_worker_ends_the_wait_for_an_answer(tmp_path: Path) -> None:
    server = held_server(tmp_path, threads=8)
    with server:
        session = elicit_session(server.port)
        question = session.post(ASK)
        question.wait_for(asked)
        workers = server.pids()
        assert server.proc is not None
        started = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=20)
        gone = time.monotonic() - started
        # The stream yields at once; the call behind it ends with an error
        # instead of waiting 25 s, and a resume (on the next server) says so.
        question.wait_end(timeout=1)
        last = [e.id for e in question.events if e.id][-1]
        server.restart()
        resumed = session.get(last_event_id=last)
        resumed.wait_for(lambda s: any("error" in m for m in s.messages()))
        error = resumed.messages()[-1]["error"]
        assert "The server is restarting" in error["message"], server.log()
        log = server.log()
    assert gone < 2.5, gone
    assert not any(running(pid) for pid in workers)
    assert "Traceback" not in log
