"""``make serve-gateway``: Pushpin in front of gunicorn, on one machine.

::

    python -m flask_mcp.gateway.runner --port 8000 -- -w 2 "example_app:create_app()"

Pushpin serves clients on ``--port``; gunicorn runs with the arguments
after ``--`` (``make serve``'s) on a free loopback port behind it, with
``MCP_GRIP_URL`` and ``MCP_GRIP_KEY`` (a key made for this run) in its
environment, which an app that reads its ``MCP_*`` settings from the
environment picks up. Pushpin's files live in a
temporary folder. Ctrl-C (or SIGTERM) stops both; so does either one
exiting. For development and benchmarks: a production Pushpin runs as a
service with a configuration of its own (see the deployment guide).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from .pushpin_config import PushpinConfig

HOST = "127.0.0.1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flask_mcp.gateway.runner", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=8000, help="where clients connect")
    parser.add_argument(
        "gunicorn", nargs=argparse.REMAINDER, help="-- then gunicorn's options and app"
    )
    args = parser.parse_args(argv)
    gunicorn_args = args.gunicorn[1:] if args.gunicorn[:1] == ["--"] else args.gunicorn
    if not gunicorn_args:
        parser.error('give gunicorn\'s options and app after --: -- "app:create_app()"')
    pushpin = shutil.which("pushpin")
    if pushpin is None:
        print("pushpin is not installed: run `make system`", file=sys.stderr)
        return 2
    _raise_open_files_limit()
    run_dir = Path(tempfile.mkdtemp(prefix="pp-", dir="/tmp"))
    origin_port = _free_port()
    config = PushpinConfig(
        run_dir=run_dir,
        port=args.port,
        control_port=_free_port(),
        origins=(f"{HOST}:{origin_port}",),
        sig_key=secrets.token_hex(32),
        # Its files go when it stops: log what deserves a look, not each request.
        log_level=1,
    )
    config.write()
    env = {
        **os.environ,
        "MCP_GRIP_URL": config.grip_url,
        "MCP_GRIP_KEY": config.sig_key,
    }
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "--no-control-socket",
        "-b",
        f"{HOST}:{origin_port}",
        *gunicorn_args,
    ]
    children: list[subprocess.Popen[bytes]] = []
    stop = _stop_on_signals()
    try:
        children.append(subprocess.Popen(gunicorn, env=env))
        children.append(subprocess.Popen(config.argv(pushpin), cwd=run_dir))
        print(
            f"Serving on http://{HOST}:{args.port}/mcp: Pushpin in front of"
            f" gunicorn on {HOST}:{origin_port} (Pushpin files in {run_dir})",
            flush=True,
        )
        while not stop() and all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        for child in reversed(children):
            _terminate(child)
        for pid in config.leftover_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _raise_open_files_limit() -> None:
    """A held stream is a connection: thousands need thousands of files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _stop_on_signals() -> t.Callable[[], bool]:
    stopped = {"now": False}

    def handler(signum: int, frame: object) -> None:
        stopped["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return lambda: stopped["now"]


def _terminate(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
