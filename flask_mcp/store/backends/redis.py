"""Redis, through redis-py's public client, for deployments that span hosts.

Values are the pickles of :mod:`flask_mcp.store.codec`; counters are the
decimal integers Redis ``INCR`` keeps. Each operation is one native command
(``SET ... PX [NX]``, ``GETDEL``, ``INCR`` + ``PEXPIRE`` in a transaction) or
a short Lua script, so it is atomic for every client. Locks are redis-py's
:class:`redis.lock.Lock` under ``lock:<name>``.

Every failure to reach Redis (refused, reset, frozen beyond the socket
timeout) and every refused write (out of memory, read-only replica,
``MISCONF``) raises :class:`~flask_mcp.store.StoreUnavailable`. A connection
that breaks is retried once at once (a restarted Redis leaves dead pooled
connections behind); a timeout is not retried.
"""

from __future__ import annotations

import contextlib
import logging
import math
import typing as t

import redis
from redis.backoff import NoBackoff
from redis.exceptions import LockError
from redis.exceptions import RedisError
from redis.exceptions import ResponseError
from redis.retry import Retry

from ..codec import PICKLE_MARK
from ..codec import dumps
from ..codec import loads
from ..errors import LockTimeout
from ..errors import StoreUnavailable

logger = logging.getLogger(__name__)

R = t.TypeVar("R")

#: ``SET`` unless the key holds a live entry: a value that is neither a
#: pickle nor a counter (or a key of another type) counts as missing.
_ADD = """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then
  local value = redis.call('GET', KEYS[1])
  if string.byte(value, 1) == tonumber(ARGV[3])
     or string.match(value, '^%-?%d+$') then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class RedisStoreBackend:
    """A store in one Redis database.

    :param client: a :class:`redis.Redis`; :meth:`from_url` makes one with
        the timeouts and retry policy this backend expects.
    :param lock_hold: seconds after which a lock whose holder died is free.
    """

    def __init__(self, client: redis.Redis, *, lock_hold: float = 60.0) -> None:
        self.client = client
        self.lock_hold = lock_hold
        self._add = client.register_script(_ADD)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> RedisStoreBackend:
        """Connect to ``redis://``, ``rediss://`` or ``unix://`` ``url``.

        :param timeout: seconds to connect and to wait for each answer;
            options in the URL's query (``?socket_timeout=5``) win.
        """
        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        )
        return cls(client)

    def __repr__(self) -> str:
        kwargs = self.client.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"RedisStoreBackend({where}/{kwargs.get('db', 0)})"

    def get(self, key: str) -> t.Any:
        return self._read(self.client.get, key)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self._call(self.client.set, key, dumps(value), px=_ms(ttl))

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        added = self._call(
            self._add, keys=[key], args=[dumps(value), _ms(ttl), PICKLE_MARK]
        )
        return bool(added)

    def delete(self, key: str) -> None:
        self._call(self.client.delete, key)

    def take(self, key: str) -> t.Any:
        return self._read(self.client.getdel, key)

    def _read(self, command: t.Callable[[str], t.Any], key: str) -> t.Any:
        try:
            return _decode(command(key))
        except ResponseError as error:
            if _wrong_kind(error):
                return None  # another program's key: missing
            raise _unavailable(error) from error
        except RedisError as error:
            raise _unavailable(error) from error

    def incr(self, key: str, ttl: float) -> int:
        try:
            return self._incr(key, ttl)
        except ResponseError as error:
            if not _wrong_kind(error):
                raise _unavailable(error) from error
        except RedisError as error:
            raise _unavailable(error) from error
        # Not a counter (a pickle, another type): it counts as missing.
        self._call(self.client.delete, key)
        return self._call(self._incr, key, ttl)

    def _incr(self, key: str, ttl: float) -> int:
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.pexpire(key, _ms(ttl))
        return int(pipe.execute()[0])

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
            except RedisError as error:
                raise _unavailable(error) from error

    def remove_expired(self) -> int:
        """Redis expires keys by itself."""
        return 0

    @staticmethod
    def _call(fn: t.Callable[..., R], *args: t.Any, **kwargs: t.Any) -> R:
        try:
            return fn(*args, **kwargs)
        except RedisError as error:
            raise _unavailable(error) from error


def _unavailable(error: RedisError) -> StoreUnavailable:
    return StoreUnavailable(f"Redis: {type(error).__name__}: {error}")


def _wrong_kind(error: ResponseError) -> bool:
    """Whether Redis refused a command for the value it found (not a counter,
    not a string), rather than for its own state."""
    message = str(error)
    return "WRONGTYPE" in message or "not an integer" in message


def _decode(data: t.Any) -> t.Any:
    if not isinstance(data, bytes):
        return None
    if data[:1] == bytes((PICKLE_MARK,)):
        return loads(data)
    try:
        return int(data)  # a counter written by INCR
    except ValueError:
        return None


def _ms(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))
