"""Throughput, latency, CPU and memory of one MCP ``tools/call`` under gunicorn.

Three servers run at once, each ``gunicorn -w 2 --no-control-socket`` (sync
workers) on its own loopback port, and are loaded in interleaved rounds
(bare, stateless, session, bare, stateless, session, ...) so that the noise of
a shared machine hits every variant alike:

* ``bare``: a plain Flask view doing the same JSON-RPC work (the baseline);
* ``stateless``: FlaskMCP with ``MCP_STATELESS = True``;
* ``session``: FlaskMCP with sessions in the default file store.

Run from the repository root::

    python -m benchmarks.bench_tools_call [--rounds 6] [--duration 5] [--connections 4]

It prints a markdown table and writes ``benchmarks/results/tools_call.json``.
See ``benchmarks/README.md`` for what the numbers mean.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import requests

from benchmarks.call import BODY
from benchmarks.call import EXPECTED
from benchmarks.call import HEADERS
from benchmarks.call import INITIALIZE
from benchmarks.call import PATH

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LUA = HERE / "tools_call.lua"
DEFAULT_OUT = HERE / "results" / "tools_call.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Issue targets: throughput relative to bare, and resident memory per worker.
TARGETS = {"stateless": 0.90, "session": 0.80}
RSS_TARGET_MB = 40.0


@dataclass
class Variant:
    name: str
    factory: str
    #: Open an MCP session (``initialize``) before the rounds.
    stateful: bool = False
    #: The wrk script of its rounds.
    script: Path = LUA
    #: Headers every request carries besides ``HEADERS`` (e.g. Authorization);
    #: the wrk ``script`` must send them too.
    extra_headers: dict[str, str] = field(default_factory=dict)
    #: gunicorn options before the app (the worker model; sync by default).
    gunicorn: tuple[str, ...] = ()
    #: The app serves the ``echo`` tool: :func:`check` it with ``BODY``.
    echo: bool = True
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    session_id: str | None = None
    rounds: list[dict[str, t.Any]] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    pss_mb: list[float | None] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    @property
    def headers(self) -> dict[str, str]:
        headers = {**HEADERS, **self.extra_headers}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        return headers


# -- /proc helpers -----------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The command name may hold spaces and parentheses: split after the last ")".
    return data[data.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (the gunicorn workers of a master)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(int(entry))[1]) == pid:
                    found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return sorted(found)


def cpu_seconds(pids: t.Iterable[int]) -> float:
    """utime + stime of the processes, in seconds."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        ticks += int(fields[11]) + int(fields[12])  # stat fields 14 and 15
    return ticks / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS), shared pages included."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pid: int) -> float | None:
    """Proportional set size: shared pages split between the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def machine_times() -> tuple[float, float, float]:
    """(busy, total, steal) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    steal = values[7] if len(values) > 7 else 0
    total = sum(values[:8])
    return total - idle, total, steal


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_command(port: int, folder: Path) -> list[str]:
    """A throwaway ``redis-server`` on loopback ``port``: it saves nothing,
    and what it writes goes to ``folder``."""
    return [
        shutil.which("redis-server") or "redis-server",
        *("--port", str(port), "--bind", "127.0.0.1"),
        *("--save", "", "--appendonly", "no", "--dir", str(folder)),
    ]


# -- servers -----------------------------------------------------------------


def start(variant: Variant, workers: int, tmp: Path) -> None:
    instance = tmp / variant.name / "instance"
    instance.mkdir(parents=True)
    variant.port = free_port()
    env = {**os.environ, "BENCH_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)}
    log = open(tmp / f"{variant.name}.log", "wb")  # closed when the run ends
    variant.proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "--no-control-socket",
            "--log-level",
            "warning",
            *variant.gunicorn,
            "-b",
            f"127.0.0.1:{variant.port}",
            f"benchmarks.apps:{variant.factory}()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_ready(variant: Variant, workers: int, timeout: float = 60.0) -> None:
    """Wait until the port answers and every worker has booted."""
    assert variant.proc is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if variant.proc.poll() is not None:
            raise RuntimeError(
                f"{variant.name}: gunicorn exited ({variant.proc.returncode})"
            )
        try:
            requests.post(variant.url, data=b"{}", headers=HEADERS, timeout=2)
            if len(children(variant.proc.pid)) == workers:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or a worker still booting on a busy machine
        time.sleep(0.2)
    raise RuntimeError(f"{variant.name}: not ready after {timeout} s")


def open_session(variant: Variant) -> None:
    """``initialize`` + ``notifications/initialized``; keep the session id."""
    response = requests.post(
        variant.url, json=INITIALIZE, headers=variant.headers, timeout=10
    )
    response.raise_for_status()
    variant.session_id = response.headers["Mcp-Session-Id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    response = requests.post(
        variant.url, json=note, headers=variant.headers, timeout=10
    )
    if response.status_code != 202:
        raise RuntimeError(f"initialized notification: {response.status_code}")


def check(variant: Variant) -> None:
    """Every worker answers the exact expected bytes (fail fast, not mid-run)."""
    for _ in range(10):
        response = requests.post(
            variant.url, data=BODY, headers=variant.headers, timeout=10
        )
        if response.status_code != 200 or response.content != EXPECTED:
            raise RuntimeError(
                f"{variant.name}: unexpected answer"
                f" {response.status_code} {response.content!r}"
            )


def stop(variant: Variant) -> None:
    if variant.proc is not None and variant.proc.poll() is None:
        variant.proc.send_signal(signal.SIGTERM)
        try:
            variant.proc.wait(15)
        except subprocess.TimeoutExpired:
            variant.proc.kill()
            variant.proc.wait()


# -- load --------------------------------------------------------------------


def load_command(
    variant: Variant, client: str, connections: int, duration: int
) -> list[str]:
    if client == "wrk":
        return [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "30s",
            "-s",
            str(variant.script),
            variant.url,
        ]
    if variant.extra_headers:
        raise ValueError(f"{variant.name}: pyload sends no extra headers, use wrk")
    command = [sys.executable, "-m", "benchmarks.pyload", variant.url]
    command += ["--connections", str(connections), "--duration", str(duration)]
    if variant.session_id:
        command += ["--session-id", variant.session_id]
    return command


def run_load(
    variant: Variant, client: str, connections: int, duration: int
) -> dict[str, t.Any]:
    """One measured round: load ``variant``, account the server's CPU around it."""
    assert variant.proc is not None
    pids = [variant.proc.pid, *children(variant.proc.pid)]
    env = {
        **os.environ,
        "BENCH_SESSION_ID": variant.session_id or "",
        "PYTHONPATH": str(ROOT),
    }
    command = load_command(variant, client, connections, duration)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, total0, steal0 = machine_times()
    cpu0 = cpu_seconds(pids)
    out = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    cpu1 = cpu_seconds(pids)
    busy1, total1, steal1 = machine_times()
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if [variant.proc.pid, *children(variant.proc.pid)] != pids:
        raise RuntimeError(f"{variant.name}: a worker was restarted during the round")
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"no result from {command[0]}:\n{out.stdout}\n{out.stderr}")
    stats = json.loads(line[len("BENCH ") :])
    if stats["bad"] or stats["errors"]:
        raise RuntimeError(f"{variant.name}: bad answers during load: {stats}")
    requests_done = stats["requests"]
    seconds = stats["duration_us"] / 1e6
    client_cpu = (client_after.ru_utime + client_after.ru_stime) - (
        client_before.ru_utime + client_before.ru_stime
    )
    return {
        "requests": requests_done,
        "seconds": round(seconds, 3),
        "rps": round(requests_done / seconds, 1),
        "p50_ms": stats["p50_us"] / 1000,
        "p90_ms": stats["p90_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "server_cpu_s": round(cpu1 - cpu0, 2),
        "cpu_us_per_call": round((cpu1 - cpu0) / requests_done * 1e6, 1),
        "client_cpu_us_per_call": round(client_cpu / requests_done * 1e6, 1),
        "machine_busy": round((busy1 - busy0) / max(1, total1 - total0), 3),
        "machine_steal": round((steal1 - steal0) / max(1, total1 - total0), 3),
    }


def measure(
    variants: list[Variant],
    args: argparse.Namespace,
    *,
    client: str,
    ready: t.Callable[[Variant], None] | None = None,
) -> None:
    """Start every server, check it, warm it up, run the interleaved rounds
    (``args``: the options of :func:`add_run_arguments`).

    Fills each variant's ``rounds``, ``rss_mb`` and ``pss_mb``; stops the
    servers and prints their logs (to stderr) even when a round fails.
    ``ready(variant)``, if given, runs once each server answers (and its
    session is open), before any load: for extra checks.
    """
    rounds, duration, warmup = args.rounds, args.duration, args.warmup
    connections, workers = args.connections, args.workers
    tmp = Path(tempfile.mkdtemp(prefix="flask_mcp_bench_"))
    try:
        for v in variants:
            start(v, workers, tmp)
        for v in variants:
            wait_ready(v, workers)
            if v.stateful:
                open_session(v)
            if v.echo:
                check(v)
            if ready is not None:
                ready(v)
        print(
            f"client={client} connections={connections} workers={workers}"
            f" rounds={rounds} x {duration}s",
            file=sys.stderr,
        )
        for v in variants:
            run_load(v, client, connections, warmup)
        for i in range(rounds):
            for v in variants:
                result = run_load(v, client, connections, duration)
                v.rounds.append(result)
                print(
                    f"round {i + 1} {v.name:9} {result['rps']:8.1f} req/s"
                    f" p50 {result['p50_ms']:.2f} ms p99 {result['p99_ms']:.2f} ms"
                    f" cpu {result['cpu_us_per_call']:.0f} µs/call"
                    f" machine busy {result['machine_busy']:.0%}",
                    file=sys.stderr,
                )
        for v in variants:
            assert v.proc is not None
            pids = children(v.proc.pid)
            v.rss_mb = [rss_mb(pid) for pid in pids]
            v.pss_mb = [pss_mb(pid) for pid in pids]
            if v.echo:
                check(v)
    finally:
        for v in variants:
            stop(v)
        logs = {
            v.name: (tmp / f"{v.name}.log").read_text(errors="replace")
            for v in variants
        }
        shutil.rmtree(tmp, ignore_errors=True)
        for name, text in logs.items():
            if text.strip():
                print(f"--- {name} gunicorn log ---\n{text[-2000:]}", file=sys.stderr)


# -- report ------------------------------------------------------------------


def summarize(
    variants: list[Variant],
    baselines: dict[str, str] | None = None,
    targets: dict[str, float] = TARGETS,
    rss_target: float | None = RSS_TARGET_MB,
) -> dict[str, dict[str, t.Any]]:
    """Per-variant medians, totals and ratios to a baseline.

    :param baselines: variant name -> name of the variant it is compared
        with; by default every variant is compared with the first one.
    :param targets: least ``rps_ratio`` per variant name.
    :param rss_target: most MB per worker, or ``None`` for no memory target.
    """
    by_name = {v.name: v for v in variants}
    out: dict[str, dict[str, t.Any]] = {}
    for v in variants:
        if baselines is None:
            bare: Variant | None = variants[0]
        else:
            bare = by_name[baselines[v.name]] if v.name in baselines else None
        rounds = v.rounds
        total_requests = sum(r["requests"] for r in rounds)
        summary: dict[str, t.Any] = {
            "rps_median": round(statistics.median(r["rps"] for r in rounds), 1),
            "rps_min": min(r["rps"] for r in rounds),
            "rps_max": max(r["rps"] for r in rounds),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in rounds), 2),
            "cpu_us_per_call": round(
                sum(r["server_cpu_s"] for r in rounds) / total_requests * 1e6, 1
            ),
            "client_cpu_us_per_call": round(
                statistics.median(r["client_cpu_us_per_call"] for r in rounds), 1
            ),
            "requests": total_requests,
            "worker_rss_mb": [round(x, 1) for x in v.rss_mb],
            "worker_rss_mb_max": round(max(v.rss_mb), 1),
            "worker_pss_mb": [None if x is None else round(x, 1) for x in v.pss_mb],
        }
        if bare is not None and v is not bare:
            if baselines is not None:
                summary["baseline"] = bare.name
            # Each round's variant is compared with the bare round just before it.
            ratios = [
                r["rps"] / b["rps"] for r, b in zip(rounds, bare.rounds, strict=True)
            ]
            cpu_ratios = [
                b["cpu_us_per_call"] / r["cpu_us_per_call"]
                for r, b in zip(rounds, bare.rounds, strict=True)
            ]
            summary["rps_ratio_per_round"] = [round(x, 3) for x in ratios]
            summary["rps_ratio"] = round(statistics.median(ratios), 3)
            summary["cpu_ratio"] = round(statistics.median(cpu_ratios), 3)
            target = targets.get(v.name)
            if target is not None:
                summary["target_ratio"] = target
                summary["meets_ratio"] = summary["rps_ratio"] >= target
        if rss_target is not None:
            summary["meets_rss"] = summary["worker_rss_mb_max"] <= rss_target
        out[v.name] = summary
    return out


def table(summary: dict[str, dict[str, t.Any]]) -> str:
    lines = [
        "| variant | req/s (median) | req/s min-max | p50 ms | p99 ms"
        " | server CPU µs/call | req/s vs bare | CPU eff. vs bare"
        " | worker RSS MB | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in summary.items():
        ratio = s.get("rps_ratio")
        rps_ratio = "1" if ratio is None else f"{ratio:.3f}"
        cpu_ratio = "1" if ratio is None else f"{s['cpu_ratio']:.3f}"
        verdicts = []
        if "target_ratio" in s:
            ok = "ok" if s["meets_ratio"] else "MISSED"
            verdicts.append(f"≥{s['target_ratio']:.2f}: {ok}")
        verdicts.append(
            f"≤{RSS_TARGET_MB:.0f} MB: {'ok' if s['meets_rss'] else 'MISSED'}"
        )
        lines.append(
            f"| {name} | {s['rps_median']:.0f} | {s['rps_min']:.0f}-{s['rps_max']:.0f}"
            f" | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['cpu_us_per_call']:.0f}"
            f" | {rps_ratio} | {cpu_ratio}"
            f" | {' / '.join(f'{x:.1f}' for x in s['worker_rss_mb'])}"
            f" | {'; '.join(verdicts)} |"
        )
    return "\n".join(lines)


def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {"python": platform.python_version()}
    for name in ("flask", "werkzeug", "gunicorn", "flask-mcp"):
        found[name] = version(name)
    try:
        git = ["git", "-C", str(ROOT)]
        found["commit"] = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        # The library as measured may hold uncommitted edits: say which files.
        found["uncommitted_library_files"] = subprocess.run(
            [*git, "status", "--porcelain", "--", "flask_mcp"],
            capture_output=True,
            text=True,
        ).stdout.split("\n")[:-1]
    except OSError:
        pass
    return found


def record(
    benchmark: str, args: argparse.Namespace, variants: list[Variant], client: str
) -> dict[str, t.Any]:
    """The part of a run's JSON every benchmark writes: when, where, how."""
    return {
        "benchmark": benchmark,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": versions(),
        "settings": {
            "client": client,
            "connections": args.connections,
            "workers": args.workers,
            "rounds": args.rounds,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "order": [v.name for v in variants],
        },
    }


def request_script(
    folder: Path, name: str, body: bytes, headers: dict[str, str], expected: bytes
) -> Path:
    """A wrk script: ``tools_call.lua`` sending ``body`` with ``headers`` and
    checking every answer against ``expected``."""
    lines = [f"dofile({json.dumps(str(LUA))})"]
    lines.append(f"wrk.body = {json.dumps(body.decode())}")
    for key, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}")
    lines += [
        f"local expected_answer = {json.dumps(expected.decode())}",
        "function response(status, headers, body)",
        "  if status ~= 200 or body ~= expected_answer then",
        "    if bad == 0 then",
        '      first_bad = status .. " " .. string.sub(body or "", 1, 200)',
        "    end",
        "    bad = bad + 1",
        "  end",
        "end",
    ]
    path = folder / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_result(path: Path, result: dict[str, t.Any]) -> None:
    """Save a run's JSON next to the committed results."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {path}", file=sys.stderr)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every gunicorn benchmark here takes."""
    parser.add_argument(
        "--rounds", type=int, default=6, help="measured rounds per variant"
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per round")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds each")
    parser.add_argument("--connections", type=int, default=4, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (preferred) or Python (auto: wrk if installed)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="JSON results file"
    )
    args = parser.parse_args(argv)
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"

    variants = [
        Variant("bare", "bare_app"),
        Variant("stateless", "stateless_app"),
        Variant("session", "session_app", stateful=True),
    ]
    measure(variants, args, client=client)
    summary = summarize(variants)
    report = table(summary)
    print(report)
    result = {
        **record("tools_call", args, variants, client),
        "targets": {
            **{f"{k}_ratio": v for k, v in TARGETS.items()},
            "rss_mb": RSS_TARGET_MB,
        },
        "summary": summary,
        "rounds": {v.name: v.rounds for v in variants},
        "table": report,
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
