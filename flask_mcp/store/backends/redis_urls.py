"""Redis clients from store URLs: one server, Sentinel, or a cluster.

* ``redis://``, ``rediss://``, ``unix://``: one server, as
  :meth:`redis.Redis.from_url` reads them;
* ``redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]``:
  the primary that the sentinels name for ``service``
  (:class:`redis.sentinel.Sentinel`), found again after a failover;
* ``redis+cluster://[[user]:password@]host:port[,host:port...]``: a Redis
  Cluster (:class:`redis.cluster.RedisCluster`) from any of its nodes.

``rediss+sentinel`` and ``rediss+cluster`` use TLS. Options in the query
string: ``replicas`` and ``replica_timeout`` (see :class:`RedisOptions`;
not for a cluster) and, for Sentinel, ``sentinel_password`` (when the
sentinels have a password of their own; the one before ``@`` is the
primary's).
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from urllib.parse import parse_qs
from urllib.parse import unquote
from urllib.parse import urlencode
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

#: ``host:port``, ``[v6]:port``; the port may be left out.
_NODE = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>\d+))?$"
)
_SENTINEL_PORT = 26379
_REDIS_PORT = 6379


@dataclass(frozen=True)
class RedisOptions:
    """What a store URL says beyond the client.

    :param name: how the log names the backend (hosts, never a password).
    :param replicas: how many replicas must have each write before it
        counts as done (Redis ``WAIT``): with 1, a write acknowledged just
        before the primary dies survives the failover. 1 by default for
        Sentinel, 0 otherwise.
    :param replica_timeout: seconds a write waits for them; a write they
        did not confirm in time fails with
        :class:`~flask_mcp.store.StoreUnavailable`.
    """

    name: str
    replicas: int = 0
    replica_timeout: float = 1.0


def client_from_url(url: str, timeout: float) -> tuple[t.Any, RedisOptions]:
    """The client for ``url`` and its options.

    :param timeout: seconds to connect and to wait for each answer (options
        in the query of a single-server URL win).
    :raises ValueError: for a URL this module cannot read.
    """
    parts = urlsplit(url)
    scheme = parts.scheme
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    replica_timeout = float(query.pop("replica_timeout", timeout / 2))
    replicas = query.pop("replicas", None)
    if scheme in {"redis", "rediss", "unix"}:
        # The options of this module are not redis-py's: left out of its URL.
        url = parts._replace(query=urlencode(query)).geturl()
        client = redis.Redis.from_url(url, **_connection_kwargs(timeout))
        kwargs = client.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        name = f"{where}/{kwargs.get('db', 0)}"
        return client, RedisOptions(name, int(replicas or 0), replica_timeout)
    base, _, kind = scheme.partition("+")
    if base not in {"redis", "rediss"} or kind not in {"sentinel", "cluster"}:
        raise ValueError(f"not a Redis store URL: {scheme}://")
    user, password, nodes = _netloc(parts.netloc, kind)
    credentials: dict[str, t.Any] = {"username": user, "password": password}
    tls: dict[str, t.Any] = {"ssl": True} if base == "rediss" else {}
    hosts = ",".join(f"{h}:{p}" for h, p in nodes)
    if kind == "cluster":
        if int(replicas or 0):
            # WAIT answers for the connection it runs on, and a cluster
            # pipeline may send it to another node than the write.
            raise ValueError(
                "redis+cluster:// does not take replicas=: use Sentinel where a"
                " failover must not lose acknowledged writes"
            )
        from redis.cluster import ClusterNode
        from redis.cluster import RedisCluster

        startup = [ClusterNode(h, p) for h, p in nodes]  # type: ignore[no-untyped-call]
        cluster = RedisCluster(
            startup_nodes=startup,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One retry at once (a node's broken connection, a moved slot),
            # not three with back-off: a frozen node costs one timeout.
            retry=Retry(NoBackoff(), 1),
            **credentials,
            **tls,
        )
        return cluster, RedisOptions(f"cluster {hosts}")
    from redis.sentinel import Sentinel

    service, db = _service(parts.path)
    sentinel = Sentinel(
        nodes,
        sentinel_kwargs={
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "password": query.get("sentinel_password"),
            **tls,
        },
    )
    client = sentinel.master_for(
        service, db=db, **_connection_kwargs(timeout), **credentials, **tls
    )
    name = f"sentinel {service}@{hosts}/{db}"
    return client, RedisOptions(name, int(replicas or 1), replica_timeout)


def _connection_kwargs(timeout: float) -> dict[str, t.Any]:
    # A connection that broke (a restarted server leaves dead pooled ones)
    # is retried once at once; a timeout is not retried.
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    }


def _netloc(
    netloc: str, kind: str
) -> tuple[str | None, str | None, list[tuple[str, int]]]:
    userinfo, _, hosts = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    default_port = _SENTINEL_PORT if kind == "sentinel" else _REDIS_PORT
    nodes = []
    for node in filter(None, hosts.split(",")):
        match = _NODE.match(node)
        if match is None:
            raise ValueError(f"redis+{kind}:// node {node!r} is not host:port")
        host = match["v6"] or match["host"]
        nodes.append((host, int(match["port"] or default_port)))
    if not nodes:
        raise ValueError(f"redis+{kind}:// needs at least one host:port")
    return unquote(user) or None, unquote(password) or None, nodes


def _service(path: str) -> tuple[str, int]:
    """``/service`` or ``/service/db``."""
    service, _, db = path.strip("/").partition("/")
    if not service:
        raise ValueError("redis+sentinel:// needs the service name: .../mymaster")
    try:
        return unquote(service), int(db or 0)
    except ValueError:
        raise ValueError(f"redis+sentinel:// database {db!r} is not a number") from None
