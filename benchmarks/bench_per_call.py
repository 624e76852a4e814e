"""What one ``tools/call`` costs on the worker ``make serve`` uses, both eras.

The typed tool ``add(a: int, b: int) -> int`` against the bare-Flask
ceiling (:func:`benchmarks.apps.bare_add_app`: the same checks and answer
without MCP), 16 connections, rounds interleaved in one run:

* ``bare25`` / ``legacy``: the 2025-11-25 request (no session);
* ``bare26`` / ``modern``: the 2026-07-28 request (``_meta``, routing headers);
* ``modern_jwt``: the 2026-07-28 request with a bearer JWT checked by
  ``bearer_auth(JWTVerifier(...))`` (compared with ``modern``; its worker
  memory is the one with JWT verification).

Every server runs ``gunicorn -w 2`` with ``--worker``: ``gthread`` (the
default: ``-c python:flask_mcp.gunicorn``, as ``make serve``) or ``sync``.
``--compare-workers`` instead runs ``bare26`` and ``modern`` under both, in
one run: the measurement behind the choice of worker in the deployment
guide.

    python -m benchmarks.bench_per_call [--rounds 6] [--duration 5]
    python -m benchmarks.bench_per_call --compare-workers

Results: ``benchmarks/results/per_call.json`` (``workers.json`` with
``--compare-workers``). Needs wrk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import typing as t
from pathlib import Path

import requests

from benchmarks.bench_auth import Issuer
from benchmarks.bench_tools_call import Variant
from benchmarks.bench_tools_call import add_run_arguments
from benchmarks.bench_tools_call import measure
from benchmarks.bench_tools_call import record
from benchmarks.bench_tools_call import request_script
from benchmarks.bench_tools_call import summarize
from benchmarks.bench_tools_call import table
from benchmarks.bench_tools_call import write_result

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TARGET = 0.93
JWT_TARGET = 0.80
RSS_TARGET_MB = 40.0
WORKERS = {
    "gthread": ("-c", "python:flask_mcp.gunicorn"),
    "sync": ("-k", "sync", "--threads", "1"),
}

LEGACY_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}
LEGACY_BODY = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call",'
    b'"params":{"name":"add","arguments":{"a":2,"b":3}}}'
)
MODERN_HEADERS = {
    **LEGACY_HEADERS,
    "MCP-Protocol-Version": "2026-07-28",
    "Mcp-Method": "tools/call",
    "Mcp-Name": "add",
}
MODERN_BODY = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{'
    b'"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    b'"io.modelcontextprotocol/clientCapabilities":{},'
    b'"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"}},'
    b'"name":"add","arguments":{"a":2,"b":3}}}'
)
BARE_ANSWER = (
    b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"5"}]}}'
)


def modern_answer(server: str) -> bytes:
    return (
        b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"5"}],'
        b'"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":'
        b'{"name":"' + server.encode() + b'","version":"0.0.0"}}}}'
    )


class Request(t.NamedTuple):
    headers: dict[str, str]
    body: bytes
    expected: bytes


def write_script(folder: Path, name: str, request: Request) -> Path:
    return request_script(folder, name, request.body, request.headers, request.expected)


def check(variant: Variant, request: Request) -> None:
    for _ in range(6):
        answer = requests.post(
            variant.url, data=request.body, headers=request.headers, timeout=10
        )
        if answer.status_code != 200 or answer.content != request.expected:
            raise RuntimeError(
                f"{variant.name}: {answer.status_code} {answer.content!r}"
            )


def run(args: argparse.Namespace, tmp: Path, issuer: Issuer) -> int:
    bearer = {"Authorization": f"Bearer {issuer.mint()}"}
    legacy = Request(LEGACY_HEADERS, LEGACY_BODY, BARE_ANSWER)
    requests_by_name: dict[str, tuple[str, Request]] = {}
    if args.compare_workers:
        for worker in WORKERS:
            requests_by_name[f"bare26_{worker}"] = (
                "bare_add_app",
                Request(MODERN_HEADERS, MODERN_BODY, BARE_ANSWER),
            )
            requests_by_name[f"modern_{worker}"] = (
                "add_app",
                Request(MODERN_HEADERS, MODERN_BODY, modern_answer("bench_add")),
            )
        baselines = {f"modern_{w}": f"bare26_{w}" for w in WORKERS}
        baselines["bare26_gthread"] = "bare26_sync"
    else:
        requests_by_name = {
            "bare25": (
                "bare_add_app",
                Request(LEGACY_HEADERS, LEGACY_BODY, BARE_ANSWER),
            ),
            "legacy": ("add_app", legacy),
            "bare26": (
                "bare_add_app",
                Request(MODERN_HEADERS, MODERN_BODY, BARE_ANSWER),
            ),
            "modern": (
                "add_app",
                Request(MODERN_HEADERS, MODERN_BODY, modern_answer("bench_add")),
            ),
            "modern_jwt": (
                "add_jwt_app",
                Request(
                    {**MODERN_HEADERS, **bearer},
                    MODERN_BODY,
                    modern_answer("bench_add_jwt"),
                ),
            ),
        }
        baselines = {"legacy": "bare25", "modern": "bare26", "modern_jwt": "modern"}
    variants = []
    for name, (factory, request) in requests_by_name.items():
        worker = name.rsplit("_", 1)[-1] if args.compare_workers else args.worker
        variants.append(
            Variant(
                name,
                factory,
                script=write_script(tmp, name, request),
                gunicorn=WORKERS[worker],
                echo=False,
            )
        )
    by_name = {v.name: requests_by_name[v.name][1] for v in variants}

    measure(variants, args, client="wrk", ready=lambda v: check(v, by_name[v.name]))
    # The targets: both eras against bare; JWT verification as
    # bench_auth.py judges it (>= 0.80 of the same server without auth).
    targets = {
        name: JWT_TARGET if name == "modern_jwt" else TARGET
        for name in baselines
        if name in ("legacy", "modern", "modern_jwt")
    }
    summary = summarize(
        variants, baselines=baselines, targets=targets, rss_target=RSS_TARGET_MB
    )
    report = table(summary)
    print(report)
    name = "workers" if args.compare_workers else "per_call"
    result = record(name, args, variants, "wrk")
    result["settings"].update(
        {
            "baselines": baselines,
            "worker": "both" if args.compare_workers else args.worker,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
    )
    result.update(
        {
            "targets": {f"{n}_ratio": v for n, v in targets.items()},
            "summary": summary,
            "rounds": {v.name: v.rounds for v in variants},
            "table": report,
        }
    )
    write_result(args.out or RESULTS / f"{name}.json", result)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    parser.set_defaults(connections=16)
    parser.add_argument("--worker", choices=sorted(WORKERS), default="gthread")
    parser.add_argument("--compare-workers", action="store_true")
    parser.add_argument("--out", type=Path, help="JSON results file")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        parser.error("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="flask_mcp_bench_per_call_"))
    os.environ.setdefault("BENCH_INSTANCE_PATH", str(tmp))
    try:
        with Issuer() as issuer:
            return run(args, tmp, issuer)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
