"""In-process cost of one ``tools/call`` per app, without HTTP or gunicorn.

Calls each app's WSGI callable directly with a prebuilt environ, interleaving
the variants in rounds, and prints CPU microseconds per call (median of rounds)
and the difference to bare: that difference is what flask_mcp itself costs.
With ``--profile VARIANT`` it also prints a cProfile of that variant::

    python -m benchmarks.profile_tools_call [--calls 5000] [--rounds 5]
    python -m benchmarks.profile_tools_call --profile session --top 40

A rough guide only: a real worker also pays for gunicorn's HTTP parsing and
one TCP connection per request (sync workers close after each response).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import typing as t

from werkzeug.test import EnvironBuilder

from benchmarks import apps
from benchmarks.call import BODY
from benchmarks.call import EXPECTED
from benchmarks.call import HEADERS
from benchmarks.call import INITIALIZE
from benchmarks.call import PATH

FACTORIES = {
    "bare": apps.bare_app,
    "stateless": apps.stateless_app,
    "session": apps.session_app,
}


def _environ(headers: dict[str, str], body: bytes) -> dict[str, t.Any]:
    builder = EnvironBuilder(
        path=PATH,
        method="POST",
        headers=headers,
        data=body,
        base_url="http://127.0.0.1:8000",
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _call(app: t.Any, environ: dict[str, t.Any]) -> tuple[str, bytes]:
    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(environ["bench.body"])
    status: list[str] = []

    def start_response(s: str, h: t.Any, exc_info: t.Any = None) -> t.Any:
        status.append(s)

    chunks = app(env, start_response)
    try:
        data = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return status[0], data


def prepare(
    name: str,
    factory: t.Callable[[], t.Any] | None = None,
    extra_headers: dict[str, str] | None = None,
    *,
    headers: t.Mapping[str, str] = HEADERS,
    body: bytes = BODY,
    expected: bytes = EXPECTED,
) -> tuple[t.Any, dict[str, t.Any]]:
    """The app and a ready environ for one request (a ``tools/call`` by default).

    ``factory`` builds the app (default: ``FACTORIES[name]``); variants whose
    name starts with ``session`` get a session opened first.
    """
    app = (factory or FACTORIES[name])()
    headers = {**headers, **(extra_headers or {})}
    if name.startswith("session"):
        response = app.test_client().post(PATH, json=INITIALIZE, headers=headers)
        headers["Mcp-Session-Id"] = response.headers["Mcp-Session-Id"]
    environ = _environ(headers, body)
    environ["bench.body"] = body  # each call reads a fresh stream of it
    status, data = _call(app, environ)
    if not status.startswith("200") or data != expected:
        raise RuntimeError(f"{name}: unexpected answer {status} {data!r}")
    return app, environ


def compare(
    prepared: dict[str, tuple[t.Any, dict[str, t.Any]]], calls: int, rounds: int
) -> None:
    """Print µs per call of each prepared app, interleaved, against ``bare``."""
    times: dict[str, list[float]] = {name: [] for name in prepared}
    for app, environ in prepared.values():
        per_call_us(app, environ, calls // 10)  # warm up
    for _ in range(rounds):
        for name, (app, environ) in prepared.items():
            times[name].append(per_call_us(app, environ, calls))
    bare = statistics.median(times["bare"])
    print("| variant | µs/call (median) | + vs bare | x bare |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        us = statistics.median(values)
        print(f"| {name} | {us:.1f} | {us - bare:+.1f} | {us / bare:.2f} |")


def per_call_us(app: t.Any, environ: dict[str, t.Any], calls: int) -> float:
    """CPU time of this process per call: waiting for a busy core is not counted."""
    start = time.process_time()
    for _ in range(calls):
        _call(app, environ)
    return (time.process_time() - start) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", choices=sorted(FACTORIES), help="cProfile this")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile")
    parser.add_argument(
        "--sort", default="tottime", help="pstats sort key (tottime, cumulative)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="flask_mcp_profile_") as tmp:
        os.environ.setdefault("BENCH_INSTANCE_PATH", tmp)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    prepared = {name: prepare(name) for name in FACTORIES}
    compare(prepared, args.calls, args.rounds)

    if args.profile:
        app, environ = prepared[args.profile]
        print_profile(args.profile, app, environ, args.calls, args.sort, args.top)
    return 0


def print_profile(
    name: str, app: t.Any, environ: dict[str, t.Any], calls: int, sort: str, top: int
) -> None:
    """A cProfile of ``calls`` in-process calls, printed as a table."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        _call(app, environ)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
    print(f"\ncProfile of {name}, {calls} calls:\n{out.getvalue()}")


if __name__ == "__main__":
    sys.exit(main())
