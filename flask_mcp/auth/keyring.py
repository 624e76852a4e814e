"""Managed API keys: created, listed and revoked by an operator, kept in the
shared store as hashes.

A key is ``mcpk_`` + a 16-hex-digit id + ``_`` + 43 characters of secret
(256 bits). The id finds the key's record; the SHA-256 digest of the whole
key, compared in constant time, proves it. The key itself is shown once, at
creation, and never stored. Every check reads the store, so a revocation is
effective on the next request on every worker and host.

Layout in the server's store: ``managed-keys`` (name -> id, for listing and
unique names), ``managed-key:<id>`` (the record), ``managed-key-used:<id>``
(when it was last used, written at most once a minute).
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
import typing as t
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from flask_mcp.errors import FlaskMCPError

from .hashing import digest

if t.TYPE_CHECKING:
    from flask_mcp.store import Store


#: What every managed key starts with: secret scanners can look for it.
PREFIX = "mcpk_"
_KEY = re.compile(r"mcpk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")  # scope-token of RFC 6749
_INDEX = "managed-keys"
#: How long the record of an expired key stays listable.
_EXPIRED_GRACE = 30 * 86400
#: How long a key without expiry is kept; the longest expiry a key may have.
_FOREVER = 100 * 365 * 86400
#: Past any time a record holds (year 5138; ``datetime`` ends with 9999).
_LATEST = 1e11
#: Least seconds between two writes of a key's "last used" time.
_TOUCH_INTERVAL = 60.0


class KeyringError(FlaskMCPError, ValueError):
    """A key operation that cannot be done as asked (bad name, name taken,
    unknown key); its message says why."""


@dataclass(frozen=True)
class ManagedKey:
    """What the store keeps of a key: everything but the key."""

    name: str
    key_id: str
    #: SHA-256 hex digest of the key.
    digest: str = field(repr=False)
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    created_at: float = 0.0
    #: Unix time the key stops working, ``None`` for never.
    expires_at: float | None = None
    #: Unix time it was last used (to the minute), ``None`` for never.
    last_used_at: float | None = None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def to_record(self) -> dict[str, t.Any]:
        return {
            "name": self.name,
            "id": self.key_id,
            "digest": self.digest,
            "roles": list(self.roles),
            "scopes": list(self.scopes),
            "created": self.created_at,
            "expires": self.expires_at,
        }

    @classmethod
    def from_record(cls, record: t.Any, last_used: t.Any = None) -> ManagedKey | None:
        """The key of a stored record; ``None`` for anything else: a record not
        as :meth:`KeyRing.create` writes it (another version, a hand edit, a
        store others can write) could widen a key (a NaN expiry never
        passing), answer 500, or reach the terminal through ``keys list``."""
        if not isinstance(record, dict):
            return None
        fields = ("name", "id", "digest", "roles", "scopes", "created", "expires")
        values: list[t.Any] = [record.get(f) for f in fields]
        name, key_id, digest, roles, scopes, created, expires = values
        if not (
            _matches(_NAME, name)
            and isinstance(key_id, str)  # the id it is stored under: _load
            and _matches(_HEX_DIGEST, digest)
            and _is_tokens(roles)
            and _is_tokens(scopes)
            and _time(created) is not None
            and (expires is None or _time(expires) is not None)
        ):
            return None
        return cls(
            name=name,
            key_id=key_id,
            digest=digest,
            roles=tuple(roles),
            scopes=tuple(scopes),
            created_at=float(created),
            expires_at=None if expires is None else float(expires),
            last_used_at=_time(last_used),
        )


@dataclass(frozen=True)
class ManagedKeySession:
    """The auth session of a request made with a managed key.

    It has ``roles`` and ``scopes``, so :func:`~flask_mcp.auth.require_role`
    and :func:`~flask_mcp.auth.require_scopes` work on it as on any other.
    """

    #: The key's name.
    name: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    expires_at: float | None = None
    key_id: str = field(default="", repr=False)

    @property
    def subject(self) -> str:
        """``key:<name>``: who tools see calling."""
        return f"key:{self.name}"

    @property
    def principal(self) -> str:
        """The key's id: a key made later under the same name is another
        principal, which never inherits the old key's MCP sessions."""
        return f"managed-key:{self.key_id}"


class KeyRing:
    """The managed keys of one server, in its store.

    :param store: the server's store (``current_mcp.state().store``).
    :param clock: the current Unix time; a seam for tests.
    """

    #: What a missing record is read as: no key's id, no key's digest.
    _STAND_IN = ManagedKey("x", "", "0" * 64).to_record()

    def __init__(self, store: Store, clock: t.Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        #: When this process next records a use of each key (once a minute).
        self._next_touch: dict[str, float] = {}

    def create(
        self,
        name: str,
        *,
        roles: Iterable[str] = (),
        scopes: Iterable[str] = (),
        expires_in: float | None = None,
    ) -> tuple[str, ManagedKey]:
        """Make a key; the key (to show once) and its record.

        :param expires_in: seconds it works; ``None`` for no expiry.
        :raises ~flask_mcp.auth.keyring.KeyringError: for a bad name, role or
            scope, or a name in use.
        """
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise KeyringError(
                f"a key name is 1 to 64 letters, digits or _.@- (not {name!r})"
            )
        roles, scopes = _tokens(roles, "role"), _tokens(scopes, "scope")
        if expires_in is not None and not 0 < expires_in <= _FOREVER:
            raise KeyringError("a key must expire in the future, within 100 years")
        key_id = secrets.token_hex(8)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = self.clock()
        managed = ManagedKey(
            name=name,
            key_id=key_id,
            digest=digest(key),
            roles=roles,
            scopes=scopes,
            created_at=now,
            expires_at=None if expires_in is None else now + expires_in,
        )
        with self.store.lock(_INDEX):
            index = self._index()
            if name in index:
                raise KeyringError(f"a key named {name!r} exists; revoke it first")
            self.store.set(
                f"managed-key:{key_id}", managed.to_record(), _ttl(managed, now)
            )
            self.store.set(_INDEX, {**index, name: key_id}, _FOREVER)
        return key, managed

    def keys(self) -> list[ManagedKey]:
        """Every key, by name (expired ones until a month after expiry)."""
        found = []
        for name, key_id in sorted(self._index().items()):
            managed = self._load(key_id)
            if managed is not None and managed.name == name:
                found.append(managed)
        return found

    def revoke(self, name: str) -> ManagedKey:
        """Delete the key ``name``: the next request with it is refused.

        :raises ~flask_mcp.auth.keyring.KeyringError: when there is no such key.
        """
        with self.store.lock(_INDEX):
            index = self._index()
            key_id = index.pop(name, None)
            if key_id is None:
                raise KeyringError(f"no key named {name!r}")
            managed = self._load(key_id)
            self.store.delete(f"managed-key:{key_id}")
            self.store.delete(f"managed-key-used:{key_id}")
            self.store.set(_INDEX, index, _FOREVER)
        return managed or ManagedKey(name=name, key_id=key_id, digest="")

    def check(self, presented: str) -> ManagedKeySession | None:
        """The session of a live key, ``None`` for anything else (unknown,
        revoked, expired, forged); a use is recorded."""
        match = _KEY.fullmatch(presented)
        if match is None:
            return None
        key_id = match.group(1)
        managed = self._load(key_id, last_used=False)
        expected = managed.digest if managed is not None else "0" * 64
        matches = hmac.compare_digest(digest(presented), expected)
        now = self.clock()
        if managed is None or not matches or managed.expired(now):
            return None
        if self._next_touch.get(key_id, now) <= now:  # across processes too:
            self._next_touch[key_id] = now + _TOUCH_INTERVAL  # the first writes
            if self.store.add(f"managed-key-touch:{key_id}", 1, _TOUCH_INTERVAL):
                self.store.set(f"managed-key-used:{key_id}", now, _ttl(managed, now))
        return ManagedKeySession(
            name=managed.name,
            roles=frozenset(managed.roles),
            scopes=frozenset(managed.scopes),
            expires_at=managed.expires_at,
            key_id=key_id,
        )

    def _index(self) -> dict[str, str]:
        index = self.store.get(_INDEX)
        if not isinstance(index, dict):
            return {}
        return {str(k): str(v) for k, v in index.items()}

    def _load(self, key_id: str, *, last_used: bool = True) -> ManagedKey | None:
        # A missing record costs what a found one does (the stand-in parsed,
        # its digest compared): the time of a check tells no key ids.
        record = self.store.get(f"managed-key:{key_id}") or self._STAND_IN
        used = self.store.get(f"managed-key-used:{key_id}") if last_used else None
        managed = ManagedKey.from_record(record, used)
        return managed if managed is not None and managed.key_id == key_id else None


def _tokens(values: Iterable[str], kind: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise KeyringError(f"{kind}s must be a list of strings, not a string")
    found = tuple(dict.fromkeys(values))
    bad = [v for v in found if not isinstance(v, str) or not _TOKEN.fullmatch(v)]
    if bad:
        raise KeyringError(
            f"invalid {kind} {bad[0]!r}: no spaces, quotes or backslashes"
        )
    return found


def _matches(pattern: re.Pattern[str], value: t.Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_tokens(values: t.Any) -> bool:
    return isinstance(values, list) and all(_matches(_TOKEN, v) for v in values)


def _time(value: t.Any) -> float | None:
    """A Unix time of a record (not NaN, not past :data:`_LATEST`), else ``None``."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if number and 0 <= value < _LATEST else None


def _ttl(managed: ManagedKey, now: float) -> float:
    if managed.expires_at is None:
        return _FOREVER
    return max(managed.expires_at - now, 0) + _EXPIRED_GRACE
