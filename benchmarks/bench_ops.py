"""What tracing, metrics and the audit trail cost a ``tools/call``, under gunicorn.

Three servers run at once (``gunicorn -w 2``, sync workers) and are loaded
in interleaved rounds, as in :mod:`benchmarks.bench_tools_call`:

* ``bare``: :func:`benchmarks.apps.bare_app`, the ceiling;
* ``plain``: :func:`benchmarks.apps.stateless_app`, the same FlaskMCP app
  with no telemetry;
* ``ops``: the same app with ``MCP_TRACING``, ``MCP_METRICS`` and
  ``MCP_AUDIT`` on (:mod:`benchmarks.ops_apps`: the OpenTelemetry SDK
  recording every span, metrics files, a JSON line per call to a file
  through :class:`flask_mcp.ops.AuditFileHandler`);
* ``ops-sampled``: ``ops`` with the SDK recording a tenth of the traces
  (``ParentBased(TraceIdRatioBased(0.1))``), a production setting.

The target (issue 18): ``ops`` keeps at least 95 % of ``plain``'s
throughput in the same run; ``ops-sampled`` is reported beside it. The load
average is recorded before and after the rounds, beside the numbers. After
the run, the metrics each ``ops`` variant's workers wrote are read back and
its audit lines counted: both must have seen every call it answered.

Run from the repository root (wrk needed: ``apt-get install wrk``)::

    python -m benchmarks.bench_ops [--rounds 8] [--duration 5]
    python -m benchmarks.bench_ops --inprocess    # µs per call of each feature

It prints a markdown table and writes ``benchmarks/results/ops.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_tools_call import Variant
from benchmarks.bench_tools_call import add_run_arguments
from benchmarks.bench_tools_call import measure
from benchmarks.bench_tools_call import record
from benchmarks.bench_tools_call import summarize
from benchmarks.bench_tools_call import table
from benchmarks.bench_tools_call import write_result
from benchmarks.ops_apps import SAMPLED_RATIO
from benchmarks.ops_apps import sampled_paths

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "ops.json"
TARGET = 0.95
BASELINES = {"plain": "bare", "ops": "plain", "ops-sampled": "plain"}
TARGETS = {"ops": TARGET, "ops-sampled": TARGET}


def counted_calls(metrics_dir: Path) -> int:
    """``tools/call`` operations the ``ops`` workers' metrics counted."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if (
                sample.name == "mcp_server_operation_duration_seconds_count"
                and sample.labels.get("method") == "tools/call"
            ):
                total += sample.value
    return int(total)


def _lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def inprocess(calls: int, rounds: int) -> None:
    """µs of this process's CPU per call of each feature alone and of all
    three (no HTTP, no gunicorn: what each adds, not the ratio), and of a
    default rate limit counted in memory."""
    from benchmarks import apps
    from benchmarks.ops_apps import app_with
    from benchmarks.profile_tools_call import compare
    from benchmarks.profile_tools_call import prepare

    prepared = {
        "bare": prepare("bare"),
        "plain": prepare("plain", apps.stateless_app),
        "tracing": prepare("tracing", lambda: app_with("tracing")),
        "metrics": prepare("metrics", lambda: app_with("metrics")),
        "audit": prepare("audit", lambda: app_with("audit")),
        "ops": prepare("ops", lambda: app_with("tracing", "metrics", "audit")),
        "limits": prepare("limits", lambda: app_with("limits")),
    }
    compare(prepared, calls, rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file")
    parser.add_argument(
        "--inprocess", action="store_true", help="no servers: µs/call per feature"
    )
    parser.add_argument("--calls", type=int, default=3000, help="in-process calls")
    args = parser.parse_args(argv)
    if args.inprocess:
        with tempfile.TemporaryDirectory(prefix="flask_mcp_ops_") as tmp:
            os.environ["BENCH_INSTANCE_PATH"] = tmp
            os.environ["BENCH_METRICS_DIR"] = tmp
            os.environ["BENCH_AUDIT_LOG"] = os.path.join(tmp, "audit.jsonl")
            inprocess(args.calls, args.rounds)
        return 0
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="flask_mcp_ops_") as tmp:
        metrics_dir = Path(tmp) / "metrics"
        metrics_dir.mkdir()
        audit_log = Path(tmp) / "audit.jsonl"
        os.environ["BENCH_METRICS_DIR"] = str(metrics_dir)
        os.environ["BENCH_AUDIT_LOG"] = str(audit_log)
        variants = [
            Variant("bare", "bare_app"),
            Variant("plain", "stateless_app"),
            Variant("ops", "ops_app"),
            Variant("ops-sampled", "ops_sampled_app"),
        ]
        load_before = os.getloadavg()
        measure(variants, args, client="wrk")
        load_after = os.getloadavg()
        # The servers are stopped (SIGTERM): every audit line is written.
        sampled_metrics, sampled_audit = sampled_paths()
        seen = {
            "ops": (counted_calls(metrics_dir), _lines(audit_log)),
            "ops-sampled": (
                counted_calls(Path(sampled_metrics)),
                _lines(Path(sampled_audit)),
            ),
        }
    summary = summarize(variants, baselines=BASELINES, targets=TARGETS)
    report = table(summary)
    print(report)
    print(
        f"\nload average before {load_before[0]:.2f} {load_before[1]:.2f}"
        f" {load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f}"
        f" {load_after[2]:.2f}"
    )
    telemetry = {}
    for name, (calls, audit_lines) in seen.items():
        answered = summary[name]["requests"]
        print(
            f"{name} variant: {answered} calls in the measured rounds; its metrics"
            f" counted {calls} tools/call and its audit trail has {audit_lines}"
            " lines (both include the warm-up and the checks)"
        )
        if calls < answered or audit_lines < answered:
            print("the telemetry missed calls", file=sys.stderr)
            return 1
        telemetry[name] = {
            "calls_answered_in_rounds": answered,
            "tools_call_counted_by_metrics": calls,
            "audit_lines": audit_lines,
        }
    result = record("ops", args, variants, "wrk")
    result["settings"]["baselines"] = BASELINES
    result.update(
        {
            "targets": {"ops_ratio": TARGET},
            "sampled_ratio": SAMPLED_RATIO,
            "summary": summary,
            "rounds": {v.name: v.rounds for v in variants},
            "load_average": {"before": load_before, "after": load_after},
            "telemetry": telemetry,
            "table": report,
        }
    )
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
