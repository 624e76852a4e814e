"""Tasks under load: 1,000 tasks from 20 clients against ``make serve`` with
one Celery worker, while other clients call a plain tool.

What runs (all on this machine, each process started and stopped here):

* ``redis-server`` (the Celery broker);
* ``make serve``: ``gunicorn -w 2 --threads 1 "example_app:create_app()"``
  with ``EXAMPLE_CELERY_BROKER`` set (the file store in the instance folder,
  unless ``--store redis``);
* ``make worker``: one Celery worker (``flask mcp worker``, prefork,
  ``--concurrency`` 2);
* the clients, from their own loopback addresses (127.0.1.x): ``--clients``
  task clients in one process, each starting ``--tasks`` ``slow_report``
  tasks (2026-07-28, extension declared) at a steady pace and polling its
  open tasks every ``pollIntervalMs``; and ``--probes`` other clients in
  another process, calling the plain ``add`` tool in a loop.

Measured: the latency of task creation (the ``tools/call`` answered with
``CreateTaskResult``: p50, p99), the completion throughput (tasks completed
per second, from the first creation to the last completion), and the
latency of the other clients' ``tools/call`` during the load against the
same clients alone before it (idle). The load average is recorded beside.

Run from the repository root with the dev virtualenv's Python::

    python -m benchmarks.bench_tasks [--tasks 50] [--clients 20]

It prints a markdown table and writes ``benchmarks/results/tasks/<name>.json``
(``--name``); ``python -m benchmarks.bench_tasks --plot`` draws
``benchmarks/results/tasks/tasks.svg`` from the committed runs.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

from benchmarks.bench_tools_call import free_port
from benchmarks.bench_tools_call import redis_command
from benchmarks.held_clients import modern_headers
from benchmarks.held_clients import modern_request

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "tasks"
#: The committed runs the chart shows, in order.
RUNS = ("8-per-s", "20-per-s", "40-per-s")
EXT = "io.modelcontextprotocol/tasks"


# -- the wire --------------------------------------------------------------------


def post(
    port: int, source: str, method: str, params: dict, name: str | None
) -> tuple[float, dict]:
    """One 2026-07-28 request from ``source``; (seconds, response message)."""
    body = modern_request(method, params, 1, {"extensions": {EXT: {}}})
    headers = modern_headers(method, name)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=60, source_address=(source, 0)
    )
    try:
        connection.request("POST", "/mcp", body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    message = json.loads(data)
    if "error" in message:
        raise RuntimeError(f"{method}: {message['error']}")
    return elapsed, t.cast(dict, message["result"])


# -- clients -------------------------------------------------------------------


def probe(port: int, source: str, stop: t.Any, out: t.Any, think: float) -> None:
    """Call ``add`` until ``stop`` is set; put (start time, seconds) pairs."""
    samples = []
    while not stop.is_set():
        at = time.time()
        seconds, result = post(
            port,
            source,
            "tools/call",
            {"name": "add", "arguments": {"a": 1, "b": 2}},
            "add",
        )
        assert result["content"][0]["text"] == "3", result
        samples.append((at, seconds))
        time.sleep(think)
    out.put(samples)


def probes(port: int, count: int, stop: t.Any, out: t.Any, think: float) -> None:
    threads = [
        threading.Thread(
            target=probe, args=(port, f"127.0.2.{i + 1}", stop, out, think)
        )
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def task_client(
    port: int, source: str, tasks: int, pace: float, arguments: dict, out: list
) -> None:
    """Start ``tasks`` tasks, one every ``pace`` seconds, polling the open
    ones at their poll interval; record each task's creation latency and
    its completion time."""
    open_tasks: dict[str, float] = {}  # task id -> next poll
    started = 0
    next_start = time.monotonic()
    while started < tasks or open_tasks:
        now = time.monotonic()
        if started < tasks and now >= next_start:
            at = time.time()
            seconds, created = post(
                port,
                source,
                "tools/call",
                {"name": "slow_report", "arguments": arguments},
                "slow_report",
            )
            assert created["resultType"] == "task", created
            out.append(
                {"created": at, "create_seconds": seconds, "id": created["taskId"]}
            )
            open_tasks[created["taskId"]] = now + created["pollIntervalMs"] / 1000
            started += 1
            next_start += pace
            continue
        due = [task_id for task_id, when in open_tasks.items() if when <= now]
        for task_id in due:
            _, task = post(port, source, "tasks/get", {"taskId": task_id}, task_id)
            if task["status"] in ("completed", "failed", "cancelled"):
                assert task["status"] == "completed", task
                record = next(r for r in out if r["id"] == task_id)
                record["seen_done"] = time.time()
                record["done"] = _timestamp(task["lastUpdatedAt"])
                del open_tasks[task_id]
            else:
                open_tasks[task_id] = time.monotonic() + task["pollIntervalMs"] / 1000
        waits = [*open_tasks.values()] + ([next_start] if started < tasks else [])
        time.sleep(max(0.0, min(waits) - time.monotonic()) if waits else 0)


def load(
    port: int, clients: int, tasks: int, pace: float, arguments: dict, out: t.Any
) -> None:
    records: list[list[dict]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(
            target=task_client,
            args=(port, f"127.0.1.{i + 1}", tasks, pace, arguments, records[i]),
        )
        for i in range(clients)
    ]
    for index, thread in enumerate(threads):
        time.sleep(pace / clients)  # spread the clients' starts over one pace
        thread.start()
        del index
    for thread in threads:
        thread.join()
    out.put([r for client in records for r in client])


def _timestamp(text: str) -> float:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


# -- processes -------------------------------------------------------------------


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def spawn(argv: list[str], env: dict, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latency(samples: list[tuple[float, float]]) -> dict[str, float]:
    seconds = [s for _, s in samples]
    return {
        "count": len(seconds),
        "p50_ms": round(statistics.median(seconds) * 1000, 2),
        "p90_ms": round(percentile(seconds, 0.90) * 1000, 2),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 2),
    }


def run(options: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="flask_mcp-bench-tasks-"))
    redis_port, web_port = free_port(), free_port()
    python = sys.executable
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EXAMPLE_INSTANCE_PATH": str(tmp / "instance"),
        "EXAMPLE_CELERY_BROKER": f"redis://127.0.0.1:{redis_port}/1",
    }
    env.pop("MCP_STORE_URL", None)
    if options.store == "redis":
        env["MCP_STORE_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    processes = []
    try:
        processes.append(
            spawn(
                redis_command(redis_port, tmp),
                env,
                tmp / "redis.log",
            )
        )
        wait_port(redis_port)
        processes.append(
            spawn(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "-w",
                    "2",
                    "--threads",
                    "1",
                    "--no-control-socket",
                    "--log-level",
                    "warning",
                    "-b",
                    f"127.0.0.1:{web_port}",
                    "example_app:create_app()",
                ],
                env,
                tmp / "gunicorn.log",
            )
        )
        processes.append(
            spawn(
                [
                    python,
                    "-m",
                    "flask",
                    "--app",
                    "example_app:create_app()",
                    "mcp",
                    "worker",
                    "--concurrency",
                    str(options.concurrency),
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                env,
                tmp / "celery.log",
            )
        )
        wait_port(web_port)
        time.sleep(options.warmup)
        arguments = {"rows": options.rows, "seconds_per_row": options.row_seconds}
        context = multiprocessing.get_context("spawn")
        # Warm both worker pools (imports, first connections), unmeasured.
        warm = context.Queue()
        load(web_port, 2, 2, 0.1, arguments, warm)
        warm.get()

        idle_stop, idle_out = context.Event(), context.Queue()
        idle = context.Process(
            target=probes,
            args=(web_port, options.probes, idle_stop, idle_out, options.think),
        )
        idle.start()
        time.sleep(options.idle)
        idle_stop.set()
        idle_samples = [s for _ in range(options.probes) for s in idle_out.get()]
        idle.join()

        load_avg_before = os.getloadavg()
        busy_stop, busy_out, tasks_out = (
            context.Event(),
            context.Queue(),
            context.Queue(),
        )
        busy = context.Process(
            target=probes,
            args=(web_port, options.probes, busy_stop, busy_out, options.think),
        )
        clients = context.Process(
            target=load,
            args=(
                web_port,
                options.clients,
                options.tasks,
                options.pace,
                arguments,
                tasks_out,
            ),
        )
        busy.start()
        started = time.time()
        clients.start()
        records = tasks_out.get()
        clients.join()
        ended = time.time()
        load_avg_during = os.getloadavg()
        busy_stop.set()
        busy_samples = [s for _ in range(options.probes) for s in busy_out.get()]
        busy.join()
    finally:
        for process in reversed(processes):
            stop(process)
    first = min(r["created"] for r in records)
    last = max(r["done"] for r in records)
    during = [s for s in busy_samples if started <= s[0] <= ended]
    idle_latency, busy_latency = latency(idle_samples), latency(during)
    result = {
        "benchmark": "tasks",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "settings": {
            **{k: v for k, v in vars(options).items() if k not in ("name", "plot")},
            "web": "gunicorn -w 2 --threads 1 (make serve)",
            "executor": f"one Celery worker, --concurrency {options.concurrency}",
            "task": f"slow_report rows={options.rows} x {options.row_seconds} s",
        },
        "load_average": {"before": load_avg_before, "after": load_avg_during},
        "tasks": len(records),
        "create": latency([(r["created"], r["create_seconds"]) for r in records]),
        "completion": {
            "seconds": round(last - first, 2),
            "tasks_per_second": round(len(records) / (last - first), 2),
            "task_seconds_p50": round(
                statistics.median(r["done"] - r["created"] for r in records), 3
            ),
        },
        "other_clients": {
            "idle": idle_latency,
            "during_load": busy_latency,
            "p50_ratio": round(busy_latency["p50_ms"] / idle_latency["p50_ms"], 3),
            "mean_ratio": round(busy_latency["mean_ms"] / idle_latency["mean_ms"], 3),
        },
    }
    shutil.rmtree(tmp, ignore_errors=True)
    return result


def table(result: dict) -> str:
    create, done, other = (
        result["create"],
        result["completion"],
        result["other_clients"],
    )
    idle, busy = other["idle"], other["during_load"]
    loads = result["load_average"]
    rows = [
        ("tasks", str(result["tasks"])),
        ("create p50 / p99", f"{create['p50_ms']} ms / {create['p99_ms']} ms"),
        (
            "completion throughput",
            f"{done['tasks_per_second']} tasks/s"
            f" ({result['tasks']} in {done['seconds']} s)",
        ),
        (
            "other clients' tools/call p50, idle -> load",
            f"{idle['p50_ms']} ms -> {busy['p50_ms']} ms (x{other['p50_ratio']})",
        ),
        (
            "other clients' tools/call mean, idle -> load",
            f"{idle['mean_ms']} ms -> {busy['mean_ms']} ms (x{other['mean_ratio']})",
        ),
        (
            "other clients' tools/call p99, idle -> load",
            f"{idle['p99_ms']} ms -> {busy['p99_ms']} ms",
        ),
        (
            "load average (1 min) before / after",
            f"{loads['before'][0]:.2f} / {loads['after'][0]:.2f}",
        ),
    ]
    return "\n".join(
        ["| measure | value |", "| --- | ---: |"]
        + [f"| {name} | {value} |" for name, value in rows]
    )


def chart(results: dict[str, dict]) -> str:
    """Bars of milliseconds: the other clients' tools/call (idle, under load)
    and task creation, per run; each run's rate beside its name."""
    bars: list[tuple[str, str, float]] = []
    for name, result in results.items():
        other = result["other_clients"]
        done = result["completion"]["tasks_per_second"]
        pace = result["settings"]["clients"] / result["settings"]["pace"]
        bars.append((f"{name}: {pace:g} tasks/s offered, {done:g} done", "", 0))
        bars.append(("", "tools/call p50, idle", other["idle"]["p50_ms"]))
        bars.append(("", "tools/call p50, under load", other["during_load"]["p50_ms"]))
        bars.append(("", "task creation p50", result["create"]["p50_ms"]))
        bars.append(("", "task creation p99", result["create"]["p99_ms"]))
    width, left, row = 720, 230, 22
    top = max(value for _, _, value in bars) or 1.0
    height = 40 + row * len(bars) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="10" y="20" font-size="14">1,000 tasks from 20 clients, one Celery'
        " worker (make serve): milliseconds</text>",
    ]
    for index, (title, label, value) in enumerate(bars):
        y = 40 + row * index
        if title:
            parts.append(f'<text x="10" y="{y + 14}" font-weight="bold">{title}</text>')
            continue
        length = (width - left - 80) * value / top
        parts.append(
            f'<text x="20" y="{y + 14}">{label}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="14"'
            ' fill="#2b6cb0" opacity="0.8"/>'
            f'<text x="{left + length + 4:.1f}" y="{y + 14}">{value:g}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def plot() -> None:
    results = {
        name: json.loads((RESULTS / f"{name}.json").read_text()) for name in RUNS
    }
    (RESULTS / "tasks.svg").write_text(chart(results))
    print(f"wrote {RESULTS / 'tasks.svg'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=50, help="tasks per client")
    parser.add_argument(
        "--pace", type=float, default=1.0, help="seconds between a client's tasks"
    )
    parser.add_argument("--rows", type=int, default=2)
    parser.add_argument("--row-seconds", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--probes", type=int, default=2, help="other clients")
    parser.add_argument(
        "--think", type=float, default=0.05, help="probe pause, seconds"
    )
    parser.add_argument(
        "--idle", type=float, default=20.0, help="seconds of idle probing"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--store", choices=["file", "redis"], default="file")
    parser.add_argument("--name", default="20-per-s", help="names the result")
    parser.add_argument("--plot", action="store_true", help="only draw the chart")
    options = parser.parse_args(argv)
    if options.plot:
        plot()
        return 0
    result = run(options)
    print(table(result))
    out = RESULTS / f"{options.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
