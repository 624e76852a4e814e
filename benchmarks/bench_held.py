"""Held connections on ``make serve``: idle 2025 clients, listeners, a caller.

Scenarios (each bounded in clients and time, every client on its own
loopback address, see :mod:`benchmarks.held_clients`):

``crowd``
    ``--idle`` 2025 clients (initialize, then the official client's GET
    loop) and ``--listeners`` 2026-07-28 listeners connect; once they are
    in, a further client calls ``add`` ``--calls`` times (p50, p99), then a
    tool changes the tool list and the run measures how long the
    ``list_changed`` takes to reach every listener and idle client.
``caps``
    the crowd, plus ``--abusers`` listens from one address (or, with
    ``--principal-key``, one API key from many addresses): how many are
    refused with 429, and the caller's latency meanwhile.
``shutdown``
    the crowd while a ``sleep`` tool runs ``--tool-seconds``; then SIGTERM
    to gunicorn: seconds until every worker is gone, beyond the tool, and
    what callers arriving meanwhile got.

The server is started here (``--server serve``: the command of ``make
serve``; ``--server sync``: gunicorn's sync workers as before this round;
``--code`` runs another checkout of flask_mcp, for before/after numbers) or
given with ``--url`` (a gateway in front of gunicorn, for instance; the
``shutdown`` scenario needs a server started here).

    python -m benchmarks.bench_held crowd --idle 100 --listeners 100
    python -m benchmarks.bench_held caps --abusers 50
    python -m benchmarks.bench_held shutdown --tool-seconds 3
    python -m benchmarks.bench_held crowd --url http://127.0.0.1:7999/mcp \
        --idle 1000 --listeners 1000

Results go to ``benchmarks/results/held_<scenario>.json`` (``--out``), with
the load average before and after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from benchmarks.bench_tools_call import children
from benchmarks.bench_tools_call import free_port
from benchmarks.bench_tools_call import rss_mb
from benchmarks.held_clients import Caller
from benchmarks.held_clients import Clock
from benchmarks.held_clients import IdleClient
from benchmarks.held_clients import Listener
from benchmarks.held_clients import percentile
from benchmarks.held_clients import source_address

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

SERVERS = {
    # What `make serve` runs (the Makefile's serve target).
    "serve": ["-c", "python:flask_mcp.gunicorn", "-w", "2"],
    # gunicorn's sync workers, as `make serve` ran them before this round.
    "sync": ["-w", "2", "--threads", "1"],
}
#: Address blocks (second byte of 127.x.y.z) of each kind of client.
IDLE_BLOCK, LISTEN_BLOCK, CALLER_BLOCK, ABUSE_BLOCK = 1, 2, 3, 4


class Server:
    """gunicorn serving the benchmark app, started and stopped here."""

    def __init__(self, kind: str, code: Path | None, env: dict[str, str]) -> None:
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-held-")
        path = [str(code)] if code else []
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([*path, str(ROOT)]),
            "EXAMPLE_INSTANCE_PATH": self.tmp.name,
            **env,
        }
        self.argv = [
            sys.executable,
            "-m",
            "gunicorn",
            *SERVERS[kind],
            "--no-control-socket",
            "-b",
            f"127.0.0.1:{self.port}",
            "benchmarks.held_app:create_app()",
        ]
        self.log = Path(self.tmp.name) / "gunicorn.log"
        # The working directory comes first on sys.path: another checkout's.
        self.cwd = code or ROOT
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()}")
            if len(children(self.proc.pid)) >= 2 and _answers(self.port):
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def workers(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.tmp.cleanup()


def _answers(port: int) -> bool:
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/")
        connection.getresponse().read()
        connection.close()
        return True
    except OSError:
        return False


# -- the crowd ---------------------------------------------------------------


class Crowd:
    """Idle 2025 clients and listeners, connected for the whole run."""

    def __init__(self, url: str, idle: int, listeners: int, headers: dict[str, str]):
        self.idle = [
            IdleClient(url, source_address(i, IDLE_BLOCK), headers) for i in range(idle)
        ]
        self.listeners = [
            Listener(url, source_address(i, LISTEN_BLOCK), headers)
            for i in range(listeners)
        ]
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, clock: Clock) -> None:
        for client in [*self.idle, *self.listeners]:
            self.tasks.append(asyncio.ensure_future(client.run(clock)))

    async def connected(self, timeout: float) -> float:
        """Seconds until every client has its stream (or ``timeout``)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            clients = [*self.idle, *self.listeners]
            if all(c.stats.established is not None for c in clients):
                break
            await asyncio.sleep(0.1)
        return time.monotonic() - started

    async def finish(self) -> None:
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def report(self, since: float | None = None) -> dict[str, t.Any]:
        def kind(clients: list[t.Any]) -> dict[str, t.Any]:
            refused: dict[str, int] = {}
            for client in clients:
                for status, count in client.stats.refused.items():
                    refused[str(status)] = refused.get(str(status), 0) + count
            errors = [e for c in clients for e in c.stats.errors][:5]
            return {
                "clients": len(clients),
                "established": sum(c.stats.established is not None for c in clients),
                "streams_opened": sum(c.stats.opened for c in clients),
                "graceful_ends": sum(c.stats.graceful for c in clients),
                "dropped": sum(c.stats.dropped for c in clients),
                "gave_up": sum(getattr(c.stats, "gave_up", False) for c in clients),
                "refused": refused,
                "errors": errors,
            }

        return {"idle": kind(self.idle), "listeners": kind(self.listeners)}


def delivery(clients: list[t.Any], since: float, method: str) -> dict[str, t.Any]:
    """How long ``method`` took to reach each client after ``since``."""
    delays = []
    for client in clients:
        got = [
            at for at, m in client.stats.notifications if m == method and at >= since
        ]
        if got:
            delays.append(min(got) - since)
    return {
        "reached": len(delays),
        "of": len(clients),
        "max_s": round(max(delays), 3) if delays else None,
        "p50_s": round(percentile(delays, 0.5) or 0, 3) if delays else None,
    }


def latency(caller: Caller) -> dict[str, t.Any]:
    ms = [x * 1000 for x in caller.latencies]
    return {
        "calls": len(ms),
        "failures": caller.failures,
        "p50_ms": round(percentile(ms, 0.5) or 0, 2),
        "p99_ms": round(percentile(ms, 0.99) or 0, 2),
        "max_ms": round(max(ms), 2) if ms else None,
    }


async def wait_for(
    clients: list[t.Any], since: float, method: str, limit: float
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(
            any(m == method and at >= since for at, m in c.stats.notifications)
            for c in clients
        ):
            return
        await asyncio.sleep(0.02)


# -- scenarios ---------------------------------------------------------------


async def crowd(args: argparse.Namespace, url: str, server: Server | None) -> dict:
    clock = Clock(args.seconds)
    crowd = Crowd(url, args.idle, args.listeners, _headers(args))
    crowd.start(clock)
    settle = await crowd.connected(args.connect_timeout)
    await asyncio.sleep(args.settle)
    caller = Caller(url, source_address(0, CALLER_BLOCK), _headers(args))
    await caller.run(clock, args.calls, args.pause)
    trigger = Caller(
        url,
        source_address(1, CALLER_BLOCK),
        _headers(args),
        "test_trigger_tool_change",
        {},
    )
    since = time.monotonic()
    answer = await trigger.call()
    method = "notifications/tools/list_changed"
    await wait_for([*crowd.listeners, *crowd.idle], since, method, args.deliver_timeout)
    result = {
        "connect_s": round(settle, 2),
        "caller": latency(caller),
        "trigger_ok": bool(answer and "result" in answer),
        "list_changed_to_listeners": delivery(crowd.listeners, since, method),
        "list_changed_to_idle": delivery(crowd.idle, since, method),
        "worker_rss_mb": _rss(server),
    }
    clock.stop()
    await crowd.finish()
    result["clients"] = crowd.report()
    return result


async def caps(args: argparse.Namespace, url: str, server: Server | None) -> dict:
    clock = Clock(args.seconds)
    headers = _headers(args)
    crowd = Crowd(url, args.idle, args.listeners, headers)
    crowd.start(clock)
    await crowd.connected(args.connect_timeout)
    if args.principal_key:
        # One principal from many addresses.
        abusers = [
            Listener(
                url, source_address(i, ABUSE_BLOCK), {"X-API-Key": args.principal_key}
            )
            for i in range(args.abusers)
        ]
    else:
        # One address.
        abusers = [
            Listener(url, source_address(0, ABUSE_BLOCK), headers)
            for _ in range(args.abusers)
        ]
    tasks = [asyncio.ensure_future(a.listen_once(clock)) for a in abusers]
    await asyncio.sleep(args.settle)
    caller = Caller(url, source_address(0, CALLER_BLOCK), headers)
    await caller.run(clock, args.calls, args.pause)
    clock.stop()
    await asyncio.gather(*tasks, return_exceptions=True)
    await crowd.finish()
    refused: dict[str, int] = {}
    for abuser in abusers:
        for status, count in abuser.stats.refused.items():
            refused[str(status)] = refused.get(str(status), 0) + count
    return {
        "abusers": args.abusers,
        "one": "principal" if args.principal_key else "address",
        "abuser_streams_opened": sum(a.stats.opened for a in abusers),
        "abuser_refused": refused,
        "caller": latency(caller),
        "clients": crowd.report(),
    }


async def shutdown(args: argparse.Namespace, url: str, server: Server | None) -> dict:
    if server is None or server.proc is None:
        raise SystemExit("the shutdown scenario needs a server started here")
    clock = Clock(args.seconds)
    headers = _headers(args)
    crowd = Crowd(url, args.idle, args.listeners, headers)
    crowd.start(clock)
    await crowd.connected(args.connect_timeout)
    sleeper = Caller(
        url,
        source_address(2, CALLER_BLOCK),
        headers,
        "sleep",
        {"seconds": args.tool_seconds},
    )
    slow = asyncio.ensure_future(sleeper.call())
    await asyncio.sleep(0.3)  # the tool is running
    workers = server.workers()
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    late = Caller(url, source_address(3, CALLER_BLOCK), headers)
    arrivals = asyncio.ensure_future(late.run(clock, 1000, 0.05))
    while any(_alive(pid) for pid in workers) and time.monotonic() - signalled < 60:
        await asyncio.sleep(0.02)
    gone = time.monotonic() - signalled
    tool_answer = await slow
    clock.stop()
    await arrivals
    await crowd.finish()
    return {
        "tool_seconds": args.tool_seconds,
        "tool_answered": bool(tool_answer and "result" in tool_answer),
        "workers_gone_after_s": round(gone, 2),
        "beyond_tool_s": round(gone - (args.tool_seconds - 0.3), 2),
        "callers_meanwhile": latency(late),
        "clients": crowd.report(),
    }


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _rss(server: Server | None) -> list[float]:
    return [round(rss_mb(pid), 1) for pid in server.workers()] if server else []


def _headers(args: argparse.Namespace) -> dict[str, str]:
    return {"X-API-Key": args.api_key} if args.api_key else {}


SCENARIOS = {"crowd": crowd, "caps": caps, "shutdown": shutdown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument(
        "--url", help="an MCP endpoint to load instead of a server started here"
    )
    parser.add_argument("--server", choices=sorted(SERVERS), default="serve")
    parser.add_argument(
        "--code", type=Path, help="a checkout whose flask_mcp and example_app to serve"
    )
    parser.add_argument("--idle", type=int, default=100)
    parser.add_argument("--listeners", type=int, default=100)
    parser.add_argument("--abusers", type=int, default=50)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument(
        "--pause", type=float, default=0.01, help="seconds between calls"
    )
    parser.add_argument(
        "--seconds", type=float, default=120, help="bound of the whole run"
    )
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    parser.add_argument("--deliver-timeout", type=float, default=10.0)
    parser.add_argument("--tool-seconds", type=float, default=3.0)
    parser.add_argument(
        "--api-key", help="X-API-Key of every client (EXAMPLE_API_KEYS)"
    )
    parser.add_argument("--principal-key", help="caps: the one principal's API key")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the server"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = None
    if args.url is None:
        env = dict(item.split("=", 1) for item in args.env)
        server = Server(args.server, args.code, env)
        server.start()
    url = args.url or server.url  # type: ignore[union-attr]
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        result = asyncio.run(SCENARIOS[args.scenario](args, url, server))
    finally:
        if server is not None:
            server.stop()
    record = {
        "scenario": args.scenario,
        "when": started.isoformat(timespec="seconds"),
        "server": args.url or " ".join(server.argv[2:]) if server else args.url,
        "code": str(args.code) if args.code else "this checkout",
        "options": {k: v for k, v in vars(args).items() if k not in ("out", "code")},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "result": result,
    }
    text = json.dumps(record, indent=2, default=str)
    print(text)
    out = args.out or RESULTS / f"held_{args.scenario}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
