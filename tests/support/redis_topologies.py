"""Redis set-ups beyond one server, on loopback: Sentinel and Cluster.

* :class:`SentinelGroup`: a primary, a replica and three sentinels watching
  them (service ``mymaster``), tuned to fail over within seconds:
  ``down-after-milliseconds`` 1000 (lower, a loaded test machine sees false
  alarms), ``failover-timeout`` 3000. The primary
  runs with ``min-replicas-to-write 1`` (``min-replicas-max-lag 2``), so it
  refuses writes when it has lost its replica, as the deployment docs
  advise. ``.url`` is the ``redis+sentinel://`` store URL;
  ``.kill_primary()`` SIGKILLs the primary; ``.wait_for_failover(old)``
  returns the new primary's port once the sentinels agree on it.
* :class:`ClusterGroup`: three primaries (no replicas) joined with
  ``redis-cli --cluster create``; ``.url`` is the ``redis+cluster://`` URL.

Every process has its own folder and port (:func:`~support.free_port`) and
is stopped on exit, also on failure.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
import typing as t
from pathlib import Path

from .processes import HOST
from .processes import ManagedProcess
from .processes import ProcessFailed
from .processes import RedisServer
from .processes import free_port
from .tiers import needs

__all__ = ["ClusterGroup", "RedisNode", "SentinelGroup"]

SERVICE = "mymaster"


def _binary(name: str) -> str:
    path = shutil.which(name) or f"/usr/bin/{name}"
    if not Path(path).exists():
        raise FileNotFoundError(f"{name} not found: run `make system`")
    return path


def command(port: int, *args: str, timeout: float = 5.0) -> t.Any:
    """One command to ``127.0.0.1:port`` (RESP), its decoded reply."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(payload)
        reader = sock.makefile("rb")
        return _reply(reader)


def _reply(reader: t.Any) -> t.Any:
    line = reader.readline()
    if not line:
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b"-"):
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = reader.read(size + 2)[:-2]
        return data.decode()
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [_reply(reader) for _ in range(count)]
    raise ValueError(f"unexpected reply {line!r}")


class RedisNode(RedisServer):
    """A :class:`~support.RedisServer` with extra ``--option value``
    arguments; :meth:`query` decodes replies."""

    name = "redis-node"

    def __init__(self, *options: str, port: int | None = None) -> None:
        super().__init__(port)
        # A replica's first sync starts at once (Redis waits 5 s for more
        # replicas to share a diskless sync by default).
        self.argv += ["--repl-diskless-sync-delay", "0", *options]

    def query(self, *args: str) -> t.Any:
        return command(self.port, *args)

    def kill(self) -> None:
        """SIGKILL, as a crash: no shutdown, no last words to replicas."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@needs("redis")
class SentinelProcess(ManagedProcess):
    """One redis-sentinel watching ``SERVICE`` on ``primary_port``."""

    name = "redis-sentinel"

    def __init__(self, primary_port: int, quorum: int = 2) -> None:
        self.port = free_port()
        self._tmpdir = tempfile.TemporaryDirectory(prefix="flask_mcp-sentinel-")
        config = Path(self._tmpdir.name) / "sentinel.conf"
        # The sentinel rewrites its config file: it must be its own.
        config.write_text(
            f"port {self.port}\n"
            f"bind {HOST}\n"
            f"dir {self._tmpdir.name}\n"
            f"sentinel monitor {SERVICE} {HOST} {primary_port} {quorum}\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 3000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        super().__init__(
            [_binary("redis-sentinel"), str(config)], cwd=self._tmpdir.name
        )

    def primary(self) -> int | None:
        """The port of the primary this sentinel names now."""
        with contextlib.suppress(OSError, ConnectionError):
            reply = command(
                self.port, "SENTINEL", "get-master-addr-by-name", SERVICE, timeout=1
            )
            if isinstance(reply, list) and len(reply) == 2:
                return int(reply[1])
        return None

    def _wait_ready(self, deadline: float) -> None:
        self._wait_port(self.port, deadline)

    def close(self) -> None:
        super().close()
        self._tmpdir.cleanup()


class SentinelGroup:
    """A primary, a replica and three sentinels (see the module docstring)."""

    def __init__(self) -> None:
        self.primary = RedisNode(
            "--min-replicas-to-write", "1", "--min-replicas-max-lag", "2"
        )
        self.replica: RedisNode | None = None
        self.sentinels: list[SentinelProcess] = []
        self._stack = contextlib.ExitStack()

    @property
    def nodes(self) -> list[RedisNode]:
        return [n for n in (self.primary, self.replica) if n is not None]

    @property
    def url(self) -> str:
        hosts = ",".join(f"{HOST}:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def __enter__(self) -> SentinelGroup:
        try:
            self._stack.enter_context(self.primary)
            # The replica takes the same settings: it becomes the primary.
            self.replica = self._stack.enter_context(
                RedisNode(
                    "--replicaof",
                    HOST,
                    str(self.primary.port),
                    "--min-replicas-to-write",
                    "1",
                    "--min-replicas-max-lag",
                    "2",
                )
            )
            self._wait(self._replica_in_sync, "the replica to sync")
            for _ in range(3):
                sentinel = SentinelProcess(self.primary.port)
                self.sentinels.append(self._stack.enter_context(sentinel))
            self._wait(self._sentinels_ready, "the sentinels to know each other")
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def kill_primary(self) -> int:
        """SIGKILL the current primary; its port."""
        port = self.current_primary()
        for node in self.nodes:
            if node.port == port:
                node.kill()
        return port

    def current_primary(self) -> int:
        ports = {s.primary() for s in self.sentinels}
        if len(ports) != 1 or None in ports:
            raise ProcessFailed(f"the sentinels disagree on the primary: {ports}")
        return t.cast(int, ports.pop())

    def wait_for_failover(self, old: int, timeout: float = 30.0) -> int:
        """Wait until every sentinel names a primary other than ``old``, and
        that one accepts writes; its port."""

        def promoted() -> bool:
            ports = {s.primary() for s in self.sentinels}
            if len(ports) != 1 or None in ports or old in ports:
                return False
            port = ports.pop()
            assert port is not None
            with contextlib.suppress(OSError, ConnectionError):
                return "role:master" in command(port, "INFO", "replication")
            return False

        self._wait(promoted, "the failover", timeout)
        return self.current_primary()

    def _replica_in_sync(self) -> bool:
        assert self.replica is not None
        info = self.replica.query("INFO", "replication")
        return "master_link_status:up" in info

    def _sentinels_ready(self) -> bool:
        for sentinel in self.sentinels:
            with contextlib.suppress(OSError, ConnectionError):
                info = command(sentinel.port, "SENTINEL", "master", SERVICE)
                fields = dict(zip(info[::2], info[1::2], strict=True))
                if (
                    int(fields.get("num-other-sentinels", 0)) == 2
                    and int(fields.get("num-slaves", 0)) == 1
                ):
                    continue
            return False
        return True

    def _wait(
        self, condition: t.Callable[[], bool], what: str, timeout: float = 30.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError, ConnectionError):
                if condition():
                    return
            if time.monotonic() > deadline:
                logs = "\n".join(
                    p.log()[-2000:] for p in [*self.nodes, *self.sentinels]
                )
                raise ProcessFailed(f"waited {timeout}s for {what}\n{logs}")
            time.sleep(0.05)


class ClusterGroup:
    """Three primaries joined into one Redis Cluster."""

    def __init__(self, size: int = 3) -> None:
        # The cluster bus port would be the port + 10000 (maybe taken, maybe
        # past 65535): each node gets a free one of its own.
        self.nodes = [
            RedisNode(
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--cluster-port",
                str(free_port()),
            )
            for _ in range(size)
        ]
        self._stack = contextlib.ExitStack()

    @property
    def url(self) -> str:
        hosts = ",".join(f"{HOST}:{n.port}" for n in self.nodes)
        return f"redis+cluster://{hosts}"

    def __enter__(self) -> ClusterGroup:
        try:
            for node in self.nodes:
                self._stack.enter_context(node)
            created = subprocess.run(
                [
                    _binary("redis-cli"),
                    "--cluster",
                    "create",
                    *(f"{HOST}:{n.port}" for n in self.nodes),
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if created.returncode != 0:
                raise ProcessFailed(
                    f"redis-cli --cluster create failed:\n{created.stdout}"
                )
            deadline = time.monotonic() + 30
            while not all(
                "cluster_state:ok" in n.query("CLUSTER", "INFO") for n in self.nodes
            ):
                if time.monotonic() > deadline:
                    raise ProcessFailed("the cluster did not reach cluster_state:ok")
                time.sleep(0.05)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()
