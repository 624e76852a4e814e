"""Requests that need no store while Redis is frozen (SIGSTOP).

One gunicorn (``-w 2`` sync workers) serves :mod:`benchmarks.outage_app`,
sessions in a Redis of its own. Two loads run at once:

* the measured one, wrk with 4 connections: a 2026-07-28 ``tools/call``
  (no session: it needs no store);
* a background of clients that do need the store: each opens a 2025
  session and calls the same tool five times a second; after an error it
  opens a new session and goes on (the clients of a real outage, which
  keep coming). Paced, so that they take the same share of the workers
  whether Redis answers or not: what the frozen rounds lose is what the
  outage costs the others.

Rounds alternate between Redis healthy and Redis frozen (each frozen round
starts once the outage is known: after a settle time). The result is the
frozen/healthy ratio of the store-free req/s, median of the rounds; the
target is >= 0.90. The load average is recorded beside each round.

Run from the repository root::

    python -m benchmarks.bench_store_outage [--rounds 4] [--duration 5]
    python -m benchmarks.bench_store_outage --python /path/to/other/venv/bin/python

``--python`` runs the server with another interpreter (an older checkout's
venv, to compare); the results go to ``--out`` (``results/store_outage.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

import requests

from benchmarks.bench_modern import MODERN_BODY
from benchmarks.bench_modern import MODERN_HEADERS
from benchmarks.bench_modern import write_script
from benchmarks.bench_tools_call import free_port
from benchmarks.bench_tools_call import record
from benchmarks.bench_tools_call import redis_command
from benchmarks.bench_tools_call import write_result

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "store_outage.json"
TARGET = 0.90
LEGACY = "2025-11-25"


class Background:
    """Clients whose every call needs the store (2025 sessions)."""

    def __init__(self, url: str, clients: int, rate: float) -> None:
        self.url = url
        self.interval = 1 / rate
        self.stop = threading.Event()
        self.counts = {"ok": 0, "refused": 0}
        self._threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def __enter__(self) -> Background:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(30)

    def _post(
        self, http: requests.Session, body: dict[str, t.Any], session: str = ""
    ) -> requests.Response:
        headers = {
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": LEGACY,
        }
        if session:
            headers["Mcp-Session-Id"] = session
        return http.post(self.url, json=body, headers=headers, timeout=60)

    def _run(self) -> None:
        http = requests.Session()
        session = ""
        while not self.stop.wait(self.interval):
            try:
                if not session:
                    response = self._post(
                        http,
                        {
                            "jsonrpc": "2.0",
                            "id": 0,
                            "method": "initialize",
                            "params": {
                                "protocolVersion": LEGACY,
                                "capabilities": {},
                                "clientInfo": {"name": "bench", "version": "0"},
                            },
                        },
                    )
                    session = response.headers.get("Mcp-Session-Id", "")
                else:
                    response = self._post(
                        http,
                        {
                            "jsonrpc": "2.0",
                            "id": 1,
                            "method": "tools/call",
                            "params": {"name": "echo", "arguments": {"text": "x"}},
                        },
                        session,
                    )
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            self.counts["ok" if ok else "refused"] += 1
            if not ok:
                session = ""


def wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, t.Any]:
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    result: dict[str, t.Any] = json.loads(line[6:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def wait_until(condition: t.Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def session_works(url: str) -> bool:
    try:
        response = requests.post(
            url,
            json={
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY,
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "0"},
                },
            },
            headers={"Accept": "application/json, text/event-stream"},
            timeout=10,
        )
    except requests.RequestException:
        return False
    return response.status_code == 200


def run(args: argparse.Namespace) -> dict[str, t.Any]:
    folder = Path(tempfile.mkdtemp(prefix="flask_mcp-bench-outage-"))
    redis_port, port = free_port(), free_port()
    redis = subprocess.Popen(
        redis_command(redis_port, folder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = open(folder / "gunicorn.log", "wb")
    server = subprocess.Popen(
        [
            args.python,
            "-m",
            "gunicorn",
            "--no-control-socket",
            "-w",
            str(args.workers),
            "--chdir",
            str(HERE),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "outage_app:create_app()",
        ],
        env={
            **os.environ,
            "BENCH_STORE_URL": f"redis://127.0.0.1:{redis_port}/0",
            "BENCH_INSTANCE_PATH": str(folder / "instance"),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        # ``python -m`` puts the working folder first on sys.path: from here,
        # flask_mcp comes from the interpreter's install, not this checkout.
        cwd=HERE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    rounds: list[dict[str, t.Any]] = []
    try:
        wait_until(lambda: session_works(url), 60, "the server")
        answer = requests.post(
            url, data=MODERN_BODY, headers=MODERN_HEADERS, timeout=10
        )
        assert answer.status_code == 200 and b'"text":"hello"' in answer.content, (
            answer.text
        )
        script = write_script(folder, "modern", answer.content)
        with Background(url, args.background, args.background_rate) as background:
            wrk(url, script, args.warmup, args.connections)
            for number in range(args.rounds):
                for phase in ("healthy", "frozen"):
                    if phase == "frozen":
                        os.kill(redis.pid, signal.SIGSTOP)
                        time.sleep(args.settle)  # the outage is known by now
                    before = background.counts.copy()
                    load = os.getloadavg()[0]
                    result = wrk(url, script, args.duration, args.connections)
                    result.update(
                        phase=phase,
                        round=number,
                        load_avg_1m=round(load, 2),
                        background_ok=background.counts["ok"] - before["ok"],
                        background_refused=background.counts["refused"]
                        - before["refused"],
                    )
                    rounds.append(result)
                    print(
                        f"round {number} {phase}: {result['rps']:.0f} req/s,"
                        f" p99 {result['p99_us'] / 1000:.1f} ms, bad {result['bad']},"
                        f" errors {result['errors']}, background"
                        f" ok/refused {result['background_ok']}/"
                        f"{result['background_refused']}, load {load:.2f}",
                        file=sys.stderr,
                    )
                    if phase == "frozen":
                        os.kill(redis.pid, signal.SIGCONT)
                        wait_until(lambda: session_works(url), 60, "recovery")
    finally:
        os.kill(redis.pid, signal.SIGCONT)
        server.terminate()
        server.wait(30)
        redis.terminate()
        redis.wait(30)
        log.close()
        if args.show_log:
            print(
                (folder / "gunicorn.log").read_text(errors="replace"), file=sys.stderr
            )
        shutil.rmtree(folder, ignore_errors=True)
    return summarize(rounds)


def summarize(rounds: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    healthy = [r for r in rounds if r["phase"] == "healthy"]
    frozen = [r for r in rounds if r["phase"] == "frozen"]
    ratios = [f["rps"] / h["rps"] for h, f in zip(healthy, frozen, strict=True)]
    ratio = statistics.median(ratios)

    def phase(items: list[dict[str, t.Any]]) -> dict[str, t.Any]:
        return {
            "rps_median": round(statistics.median(r["rps"] for r in items), 1),
            "p50_ms": round(statistics.median(r["p50_us"] for r in items) / 1000, 2),
            "p99_ms": round(statistics.median(r["p99_us"] for r in items) / 1000, 2),
            "bad": sum(r["bad"] + r["errors"] for r in items),
            "load_avg_1m": [r["load_avg_1m"] for r in items],
            "background_ok": sum(r["background_ok"] for r in items),
            "background_refused": sum(r["background_refused"] for r in items),
        }

    return {
        "summary": {
            "healthy": phase(healthy),
            "frozen": {
                **phase(frozen),
                "baseline": "healthy",
                "rps_ratio": round(ratio, 3),
                "rps_ratio_per_round": [round(x, 3) for x in ratios],
                "target_ratio": TARGET,
                "meets_ratio": ratio >= TARGET,
            },
        },
        "rounds": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=5, help="seconds per round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds between freezing Redis and measuring",
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--background", type=int, default=4, help="clients whose calls need the store"
    )
    parser.add_argument(
        "--background-rate",
        type=float,
        default=5.0,
        help="calls per second of each background client",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that runs gunicorn and flask_mcp",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--show-log", action="store_true")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        parser.error("wrk is needed (apt-get install wrk)")
    result = run(args)
    summary = result["summary"]
    print(
        f"store-free req/s: healthy {summary['healthy']['rps_median']},"
        f" frozen {summary['frozen']['rps_median']},"
        f" ratio {summary['frozen']['rps_ratio']} (target >= {TARGET})"
    )
    settings = argparse.Namespace(**{**vars(args), "python": args.python})
    full = {
        **record("store_outage", settings, [], "wrk"),
        "settings": {
            "rounds": args.rounds,
            "duration_s": args.duration,
            "settle_s": args.settle,
            "connections": args.connections,
            "background_clients": args.background,
            "background_rate": args.background_rate,
            "workers": args.workers,
            "python": args.python,
        },
        "targets": {"frozen": TARGET},
        **result,
    }
    write_result(args.out, full)
    return 0 if summary["frozen"]["meets_ratio"] else 1


if __name__ == "__main__":
    sys.exit(main())
