"""A 2026-07-28 ``tools/call`` against the bare-Flask ceiling, under gunicorn.

The request a modern client sends: no session, ``params._meta`` with the
protocol version and client capabilities, and the routing headers
``MCP-Protocol-Version``, ``Mcp-Method`` and ``Mcp-Name``. Three servers run
at once (``gunicorn -w 2``, sync workers) and are loaded in interleaved
rounds, as in :mod:`benchmarks.bench_tools_call`:

* ``bare``: :func:`benchmarks.apps.bare_app` given the same modern request
  (it answers the 2025 result bytes: the ceiling, doing less than MCP does);
* ``modern``: :func:`benchmarks.apps.stateless_app` served the modern
  request, answering with ``resultType`` and ``serverInfo``;
* ``stateless``: the same app served today's 2025-11-25 request, for the
  figures next to it.

Run from the repository root::

    python -m benchmarks.bench_modern [--rounds 6] [--duration 5]
    python -m benchmarks.bench_modern --inprocess [--profile modern]

It prints a markdown table and writes ``benchmarks/results/modern.json``.
``--inprocess`` runs no servers: it calls the apps' WSGI callables (see
:mod:`benchmarks.profile_tools_call`).
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

from benchmarks import apps
from benchmarks.bench_tools_call import BODY
from benchmarks.bench_tools_call import EXPECTED
from benchmarks.bench_tools_call import HEADERS
from benchmarks.bench_tools_call import Variant
from benchmarks.bench_tools_call import add_run_arguments
from benchmarks.bench_tools_call import measure
from benchmarks.bench_tools_call import record
from benchmarks.bench_tools_call import request_script
from benchmarks.bench_tools_call import summarize
from benchmarks.bench_tools_call import table
from benchmarks.bench_tools_call import write_result
from benchmarks.profile_tools_call import compare
from benchmarks.profile_tools_call import prepare as prepare_call
from benchmarks.profile_tools_call import print_profile

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "modern.json"
MODERN = "2026-07-28"
MODERN_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": MODERN,
    "Mcp-Method": "tools/call",
    "Mcp-Name": "echo",
}
MODERN_BODY = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{'
    b'"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    b'"io.modelcontextprotocol/clientCapabilities":{},'
    b'"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"}},'
    b'"name":"echo","arguments":{"text":"hello"}}}'
)
MODERN_EXPECTED = (
    b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}],'
    b'"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":'
    b'{"name":"bench_stateless","version":"0.0.0"}}}}'
)
TARGET = 0.90
BASELINES = {"modern": "bare", "stateless": "bare"}


def write_script(folder: Path, name: str, expected: bytes) -> Path:
    """A wrk script: ``tools_call.lua`` sending the modern request and
    checking every answer against ``expected``."""
    return request_script(folder, name, MODERN_BODY, MODERN_HEADERS, expected)


def check_modern(variant: Variant, expected: bytes) -> None:
    """The server answers the modern request with exactly ``expected``."""
    for _ in range(6):
        response = requests.post(
            variant.url, data=MODERN_BODY, headers=MODERN_HEADERS, timeout=10
        )
        if response.status_code != 200 or response.content != expected:
            raise RuntimeError(
                f"{variant.name}: unexpected answer to the 2026-07-28 request"
                f" {response.status_code} {response.content!r}"
            )
        if "Mcp-Session-Id" in response.headers:
            raise RuntimeError(f"{variant.name}: a session on a 2026-07-28 request")


# -- in-process --------------------------------------------------------------

#: name -> (app factory, request headers, body, expected answer)
INPROCESS = {
    "bare": (apps.bare_app, MODERN_HEADERS, MODERN_BODY, EXPECTED),
    "modern": (apps.stateless_app, MODERN_HEADERS, MODERN_BODY, MODERN_EXPECTED),
    "stateless": (apps.stateless_app, HEADERS, BODY, EXPECTED),
}


def prepare(name: str) -> tuple[t.Any, dict[str, t.Any]]:
    factory, headers, body, expected = INPROCESS[name]
    return prepare_call(name, factory, headers=headers, body=body, expected=expected)


def inprocess(args: argparse.Namespace) -> int:
    prepared = {name: prepare(name) for name in INPROCESS}
    compare(prepared, args.calls, args.inprocess_rounds)
    if args.profile:
        app, environ = prepared[args.profile]
        print_profile(args.profile, app, environ, args.calls, args.sort, args.top)
    return 0


# -- under gunicorn ----------------------------------------------------------


def run(args: argparse.Namespace, tmp: Path) -> int:
    variants = [
        Variant("bare", "bare_app", script=write_script(tmp, "bare", EXPECTED)),
        Variant(
            "modern",
            "stateless_app",
            script=write_script(tmp, "modern", MODERN_EXPECTED),
        ),
        Variant("stateless", "stateless_app"),
    ]
    expected = {"bare": EXPECTED, "modern": MODERN_EXPECTED}

    def ready(variant: Variant) -> None:
        if variant.name in expected:
            check_modern(variant, expected[variant.name])

    measure(variants, args, client="wrk", ready=ready)
    summary = summarize(
        variants,
        baselines=BASELINES,
        targets=dict.fromkeys(BASELINES, TARGET),
    )
    report = table(summary)
    print(report)
    result = record("modern", args, variants, "wrk")
    result["settings"].update(
        {
            "baselines": BASELINES,
            "requests": {
                "bare": "2026-07-28",
                "modern": "2026-07-28",
                "stateless": "2025-11-25",
            },
        }
    )
    result.update(
        {
            "targets": {f"{name}_ratio": TARGET for name in BASELINES},
            "summary": summary,
            "rounds": {v.name: v.rounds for v in variants},
            "table": report,
        }
    )
    write_result(args.out, result)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file")
    parser.add_argument(
        "--inprocess", action="store_true", help="no servers: µs/call in-process"
    )
    parser.add_argument("--calls", type=int, default=5000, help="in-process calls")
    parser.add_argument("--inprocess-rounds", type=int, default=5)
    parser.add_argument("--profile", choices=sorted(INPROCESS), help="cProfile this")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flask_mcp_modern_") as tmp:
        os.environ.setdefault("BENCH_INSTANCE_PATH", tmp)
        if args.inprocess:
            return inprocess(args)
        if not shutil.which("wrk"):
            print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
            return 2
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
