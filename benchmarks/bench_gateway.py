"""``make serve-gateway`` under a crowd: held streams at Pushpin, not in workers.

Starts what ``make serve-gateway`` starts (Pushpin in front of the example
app's gunicorn, through :mod:`flask_mcp.gateway.runner`), then runs the
``crowd`` scenario of :mod:`benchmarks.bench_held` against Pushpin:
``--idle`` 2025 clients (initialize, then the official client's GET loop)
and ``--listeners`` 2026-07-28 listeners, each from its own loopback
address; once they are in, a further client calls ``add`` (p50, p99), then a
tool changes the tool list and the run measures how long the
``list_changed`` takes to reach every listener and idle client. Clients
arrive ``--ramp`` a second (Pushpin 1.36 answers 502 when more than about a
hundred new requests wait at once for its HTTP client, zurl). The workers'
memory (RSS) is read at start, after a warm-up of ``--warmup`` callers at
once (the thread pool grows to what requests alone need), once the crowd is
connected and at the end.

    python -m benchmarks.bench_gateway --idle 1000 --listeners 1000

Results go to ``benchmarks/results/gateway/crowd.json`` (``--out``), with the
load average before and after the run; ``python -m benchmarks.plot_gateway`` draws
them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from benchmarks.bench_held import CALLER_BLOCK
from benchmarks.bench_held import Crowd
from benchmarks.bench_held import delivery
from benchmarks.bench_held import latency
from benchmarks.bench_held import wait_for
from benchmarks.bench_tools_call import children
from benchmarks.bench_tools_call import free_port
from benchmarks.bench_tools_call import rss_mb
from benchmarks.held_clients import Caller
from benchmarks.held_clients import Clock
from benchmarks.held_clients import source_address

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
#: gunicorn's options and app: ``make serve``'s (the Makefile's SERVE_ARGS),
#: or plain sync workers.
WORKERS = {
    "serve": ["-c", "python:flask_mcp.gunicorn", "-w", "2", "example_app:create_app()"],
    "sync": ["-w", "2", "--threads", "1", "example_app:create_app()"],
}
#: The targets of issue 14 for this configuration.
TARGET_P99_MS = 100.0
TARGET_DELIVERY_S = 2.0


class Gateway:
    """``make serve-gateway``: the runner, its gunicorn and its Pushpin."""

    def __init__(self, workers: str = "serve") -> None:
        self.gunicorn = WORKERS[workers]
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-gateway-")
        self.log = Path(self.tmp.name) / "runner.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "flask_mcp.gateway.runner",
            "--port",
            str(self.port),
            "--",
            *self.gunicorn,
        ]
        env = {**os.environ, "EXAMPLE_INSTANCE_PATH": self.tmp.name}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the runner exited:\n{self.log.read_text()}")
            if len(self.workers()) >= 2 and _answers(self.port):
                return
            time.sleep(0.2)
        raise RuntimeError(f"make serve-gateway did not start:\n{self.log.read_text()}")

    def workers(self) -> list[int]:
        """The gunicorn workers (children of the runner's gunicorn master)."""
        if self.proc is None:
            return []
        for pid in children(self.proc.pid):
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return children(pid)
        return []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.tmp.cleanup()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1")
    except OSError:
        return False


def _rss(gateway: Gateway) -> list[float]:
    return [round(rss_mb(pid), 1) for pid in gateway.workers()]


async def warm_up(url: str, callers: int) -> None:
    """``callers`` calls at once, ten times: the worker's thread pool and
    caches grow to what requests alone need, before memory is read."""
    clock = Clock(60)
    clients = [
        Caller(url, source_address(10 + i, CALLER_BLOCK), {}) for i in range(callers)
    ]
    await asyncio.gather(*(c.run(clock, 10) for c in clients))


async def crowd(args: argparse.Namespace, gateway: Gateway) -> dict[str, t.Any]:
    """``bench_held``'s crowd, its clients arriving ``--ramp`` a second."""
    url = gateway.url
    clock = Clock(args.seconds)
    people = Crowd(url, args.idle, args.listeners, lambda name: {})
    clients = [
        c
        for pair in itertools.zip_longest(people.idle, people.listeners)
        for c in pair
        if c
    ]
    started = time.monotonic()
    for index, client in enumerate(clients):
        people.tasks.append(asyncio.ensure_future(client.run(clock)))
        await asyncio.sleep(
            max(0.0, started + (index + 1) / args.ramp - time.monotonic())
        )
    settle = await people.connected(args.connect_timeout)
    await asyncio.sleep(args.settle)
    rss_connected = _rss(gateway)
    caller = Caller(url, source_address(0, CALLER_BLOCK), {})
    await caller.run(clock, args.calls, args.pause)
    trigger = Caller(
        url, source_address(1, CALLER_BLOCK), {}, "test_trigger_tool_change", {}
    )
    since = time.monotonic()
    answer = await trigger.call()
    method = "notifications/tools/list_changed"
    await wait_for(
        [*people.listeners, *people.idle], since, method, args.deliver_timeout
    )
    result = {
        "connect_s": round(time.monotonic() - started - args.settle, 2),
        "all_in_after_last_arrival_s": round(settle, 2),
        "caller": latency(caller),
        "trigger_ok": bool(answer and "result" in answer),
        "list_changed_to_listeners": delivery(people.listeners, since, method),
        "list_changed_to_idle": delivery(people.idle, since, method),
        "worker_rss_mb": rss_connected,
    }
    clock.stop()
    await people.finish()
    result["clients"] = people.report()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--pause", type=float, default=0.01)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--connect-timeout", type=float, default=120.0)
    parser.add_argument("--deliver-timeout", type=float, default=10.0)
    parser.add_argument(
        "--ramp", type=float, default=100.0, help="clients arriving a second"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="callers at once before memory is read"
    )
    parser.add_argument(
        "--workers", choices=sorted(WORKERS), default="serve", help="gunicorn's options"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gateway = Gateway(args.workers)
    gateway.start()
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        time.sleep(1)
        rss_cold = _rss(gateway)
        asyncio.run(warm_up(gateway.url, args.warmup))
        rss_before = _rss(gateway)
        result = asyncio.run(crowd(args, gateway))
        result["worker_rss_mb_after"] = _rss(gateway)
    finally:
        gateway.stop()
    rss_connected = result.pop("worker_rss_mb")
    caller = result["caller"]
    listeners = result["list_changed_to_listeners"]
    idle = result["list_changed_to_idle"]
    summary = {
        "tools_call_p99_ms": caller["p99_ms"],
        "tools_call_p50_ms": caller["p50_ms"],
        "list_changed_max_s_listeners": listeners["max_s"],
        "list_changed_max_s_idle": idle["max_s"],
        "reached": f"{listeners['reached']}/{listeners['of']} listeners,"
        f" {idle['reached']}/{idle['of']} idle",
        "worker_rss_mb_cold": rss_cold,
        "worker_rss_mb_before": rss_before,
        "worker_rss_mb_connected": rss_connected,
        "worker_rss_mb_after": result["worker_rss_mb_after"],
        "meets_p99": caller["p99_ms"] <= TARGET_P99_MS and not caller["failures"],
        "meets_delivery": all(
            d["reached"] == d["of"] and (d["max_s"] or 0) <= TARGET_DELIVERY_S
            for d in (listeners, idle)
        ),
    }
    record = {
        "scenario": "gateway crowd",
        "when": started.isoformat(timespec="seconds"),
        "server": "make serve-gateway: Pushpin, then gunicorn "
        + " ".join(gateway.gunicorn),
        "options": {k: v for k, v in vars(args).items() if k != "out"},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "summary": summary,
        "result": result,
    }
    text = json.dumps(record, indent=2, default=str)
    print(text)
    out = args.out or RESULTS / "gateway" / "crowd.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
