"""Redis, through redis-py's public clients, for deployments that span hosts.

One server, Sentinel or a cluster (see
:mod:`flask_mcp.store.backends.redis_urls`). Values are the
JSON text of :mod:`flask_mcp.store.codec`; counters are the decimal integers
Redis ``INCR`` keeps (which read back as JSON numbers). Each operation is
one native command (``SET ... PX``, ``GETDEL``, ``DEL``) or a short Lua
script, and touches exactly one key, so it is atomic for every client and
never crosses hash slots on a cluster. Locks are redis-py's
:class:`redis.lock.Lock` under ``lock:<name>`` (one key, too).

With ``replicas`` set (Sentinel's default), every write is followed by
``WAIT`` on the same connection: it counts as done once that many replicas
have it, so a failover cannot lose it, nor bring back a value that ``take``
consumed. Locks are not waited for: a lock taken just before a failover may
be taken again on the new primary (see the deployment docs).

Every failure to reach Redis (refused, reset, frozen beyond the socket
timeout, no primary known to the sentinels, a cluster down) raises
:class:`~flask_mcp.store.StoreUnavailable` with ``unreachable`` set, so the
store fails fast until Redis is back; a refused write (out of memory, a
read-only replica, ``MISCONF``, too few replicas) fails that write only.
"""

from __future__ import annotations

import contextlib
import logging
import math
import typing as t

import redis
from redis.exceptions import LockError
from redis.exceptions import RedisClusterException
from redis.exceptions import RedisError
from redis.exceptions import ResponseError

from ..codec import dumps
from ..codec import loads
from ..errors import LockTimeout
from ..errors import StoreUnavailable
from .redis_urls import RedisOptions
from .redis_urls import client_from_url

logger = logging.getLogger(__name__)

R = t.TypeVar("R")

#: ``SET`` unless the key holds a live entry: a string that is JSON (a
#: counter included) and not ``null``. Anything else (another program's
#: value, a key of another type) counts as missing.
_ADD = """
if redis.call('TYPE', KEYS[1]).ok == 'string' then
  local ok, value = pcall(cjson.decode, redis.call('GET', KEYS[1]))
  if ok and value ~= cjson.null then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

#: ``INCR`` and ``PEXPIRE`` in one step; a value that is no counter (or a
#: key of another type) counts as 0.
_INCR = """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'string' and kind ~= 'none' then
  redis.call('DEL', KEYS[1])
end
local count = redis.pcall('INCR', KEYS[1])
if type(count) == 'table' then
  redis.call('SET', KEYS[1], '1')
  count = 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return count
"""

#: Errors meaning Redis cannot be reached at all (every operation fails).
_UNREACHABLE = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    RedisClusterException,
)


class RedisStoreBackend:
    """A store in one Redis database, a Sentinel-managed primary or a cluster.

    :param client: a :class:`redis.Redis` or :class:`redis.cluster.RedisCluster`;
        :meth:`from_url` makes one with the timeouts and retry policy this
        backend expects.
    :param lock_hold: seconds after which a lock whose holder died is free.
    :param options: replicas to wait for, and the name in the log.
    """

    def __init__(
        self,
        client: t.Any,
        *,
        lock_hold: float = 60.0,
        options: RedisOptions | None = None,
    ) -> None:
        self.client = client
        self.lock_hold = lock_hold
        self.options = options or RedisOptions(_name(client))
        self._add = client.register_script(_ADD)
        self._incr = client.register_script(_INCR)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> RedisStoreBackend:
        """Connect to ``url`` (see :mod:`flask_mcp.store.backends.redis_urls`
        for the schemes).

        :param timeout: seconds to connect and to wait for each answer;
            options in a single server's URL (``?socket_timeout=5``) win.
        """
        client, options = client_from_url(url, timeout)
        return cls(client, options=options)

    def __repr__(self) -> str:
        return f"RedisStoreBackend({self.options.name})"

    # -- reads -------------------------------------------------------------

    def get(self, key: str) -> t.Any:
        return self._read(self.client.get, key)

    def _read(self, command: t.Callable[[str], t.Any], key: str) -> t.Any:
        try:
            return loads(command(key))
        except ResponseError as error:
            if _wrong_kind(error):
                return None  # another program's key: missing
            raise _unavailable(error) from error
        except (RedisError, RedisClusterException) as error:
            raise _unavailable(error) from error

    def ping(self) -> None:
        """Raise :class:`~flask_mcp.store.StoreUnavailable` unless Redis answers."""
        self._call(self.client.ping)

    # -- writes ------------------------------------------------------------

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self._write(lambda c: c.set(key, dumps(value), px=_ms(ttl)))

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        args = [dumps(value), _ms(ttl)]
        return bool(self._write(lambda c: self._add(keys=[key], args=args, client=c)))

    def delete(self, key: str) -> None:
        self._write(lambda c: c.delete(key))

    def take(self, key: str) -> t.Any:
        try:
            return loads(self._write(lambda c: c.getdel(key)))
        except StoreUnavailable as error:
            if isinstance(error.__cause__, ResponseError) and _wrong_kind(
                error.__cause__
            ):
                return None  # another program's key: missing, and left alone
            raise

    def incr(self, key: str, ttl: float) -> int:
        count = self._write(lambda c: self._incr(keys=[key], args=[_ms(ttl)], client=c))
        return int(count)

    def _write(self, command: t.Callable[[t.Any], t.Any]) -> t.Any:
        """``command(client)``; with ``replicas``, in a pipeline with
        ``WAIT`` so that both run on one connection."""
        replicas = self.options.replicas
        if not replicas:
            return self._call(command, self.client)
        pipe = self.client.pipeline(transaction=False)
        command(pipe)
        pipe.wait(replicas, _ms(self.options.replica_timeout))
        result, acknowledged = self._call(pipe.execute)
        if acknowledged < replicas:
            raise StoreUnavailable(
                f"Redis: {acknowledged} of {replicas} replicas confirmed a write"
                f" within {self.options.replica_timeout:g} s"
            )
        return result

    # -- locks and housekeeping -------------------------------------------

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float) -> t.Iterator[None]:
        lock = self.client.lock(
            f"lock:{name}",
            timeout=self.lock_hold,
            sleep=0.01,
            blocking_timeout=max(0.0, timeout),
        )
        if not self._call(lock.acquire):
            raise LockTimeout(name, timeout)
        try:
            yield
        finally:
            try:
                lock.release()
            except LockError:
                logger.warning(
                    "lock %r was held longer than %g s and expired before its release",
                    name,
                    self.lock_hold,
                )
            except (RedisError, RedisClusterException) as error:
                raise _unavailable(error) from error

    def remove_expired(self) -> int:
        """Redis expires keys by itself."""
        return 0

    @staticmethod
    def _call(fn: t.Callable[..., R], *args: t.Any, **kwargs: t.Any) -> R:
        try:
            return fn(*args, **kwargs)
        except (RedisError, RedisClusterException) as error:
            raise _unavailable(error) from error


def _unavailable(error: Exception) -> StoreUnavailable:
    return StoreUnavailable(
        f"Redis: {type(error).__name__}: {error}",
        unreachable=isinstance(error, _UNREACHABLE),
    )


def _wrong_kind(error: ResponseError) -> bool:
    """Whether Redis refused a command for the value it found (not a
    string), rather than for its own state."""
    return "WRONGTYPE" in str(error)


def _name(client: t.Any) -> str:
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", {})
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return f"{where}/{kwargs.get('db', 0)}"


def _ms(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))
