"""The caller's auth session, carried to the worker that runs a task's legs.

A leg runs as the principal that created the task: its handler gets the same
``ctx.auth`` (and ``flask.g.mcp_auth``) a plain call would. The session is
kept in the task's record as JSON sealed with AES-256-GCM (it may hold an
access token), bound to the task's id so it opens for that task only. The
key is derived from ``SECRET_KEY``; without one, it is generated once in the
instance folder (then only processes of one host share it: give every host
and Celery worker the same ``SECRET_KEY``).

Sessions that travel: JSON values (dicts of claims, names, lists) and
flask_mcp's own session classes (:class:`~flask_mcp.auth.TokenSession`, the
managed keys' session). Another type cannot be rebuilt in a worker; calling
a task tool with it is refused with a clear log line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import typing as t

if t.TYPE_CHECKING:
    from ..auth.proxy.sealing import Sealer

#: Tags a set among the fields of a session class.
_SET = "$frozenset"


class SessionSeal:
    """Seals and opens auth sessions for task records.

    :param secret: ``SECRET_KEY``, or ``None`` to use a generated key.
    :param instance_path: the app's instance folder, where a generated key
        is kept.
    :param name: the server's name (its blueprint), naming that key.
    """

    def __init__(
        self, secret: str | bytes | None, instance_path: str, name: str
    ) -> None:
        self._secret = secret
        self._instance_path = instance_path
        self._name = name
        self._sealer: Sealer | None = None

    def seal(self, auth: t.Any, task_id: str) -> str | None:
        """The sealed session, or ``None`` for no session.

        :raises TypeError: for a session that cannot travel.
        """
        if auth is None:
            return None
        return self._seal_with().seal(dump(auth), context=f"task:{task_id}")

    def open(self, sealed: str | None, task_id: str) -> t.Any:
        """The session sealed for ``task_id``.

        :raises flask_mcp.auth.proxy.sealing.SealError: when it does not open.
        """
        if sealed is None:
            return None
        return load(self._seal_with().open(sealed, context=f"task:{task_id}"))

    def _seal_with(self) -> Sealer:
        # The proxy's sealer; imported on first use, by servers with sessions.
        from ..auth.proxy.keyfiles import key_path
        from ..auth.proxy.sealing import Sealer

        if self._sealer is None:
            secret = self._secret
            if secret:
                raw = secret.encode() if isinstance(secret, str) else bytes(secret)
                key = hmac.new(raw, b"flask_mcp task sessions", hashlib.sha256)
                self._sealer = Sealer(key.digest())
            else:
                path = key_path(self._instance_path, self._name, "tasks-key")
                self._sealer = Sealer.persisted(path)
        return self._sealer


def _session_types() -> dict[str, type]:
    """The auth session classes of flask_mcp, by the name kept in records."""
    from ..auth.claims import TokenSession
    from ..auth.keyring import ManagedKeySession

    return {"token-session": TokenSession, "managed-key": ManagedKeySession}


def dump(auth: t.Any) -> dict[str, t.Any]:
    """``auth`` as JSON that :func:`load` rebuilds.

    :raises TypeError: for a session that is neither JSON nor one of
        flask_mcp's session classes.
    """
    for kind, cls in _session_types().items():
        if type(auth) is cls:
            fields = {
                f.name: _plain(getattr(auth, f.name)) for f in dataclasses.fields(cls)
            }
            return {"kind": kind, "fields": fields}
    try:
        json.dumps(auth, allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError(
            f"an auth session of type {type(auth).__qualname__} cannot run a task"
            " in another process: return a dict (or a TokenSession) from"
            " authenticate"
        ) from None
    return {"kind": "json", "value": auth}


def load(data: t.Any) -> t.Any:
    """The session :func:`dump` described.

    :raises ValueError: for anything :func:`dump` did not write.
    """
    if not isinstance(data, dict):
        raise ValueError("not a sealed session")
    cls = _session_types().get(data.get("kind", ""))
    if cls is None:
        return data.get("value")
    fields = {k: _typed(v) for k, v in dict(data["fields"]).items()}
    return cls(**fields)


def _plain(value: t.Any) -> t.Any:
    """Field values as JSON: sets as tagged sorted lists, mappings as dicts."""
    if isinstance(value, frozenset):
        return {_SET: sorted(value)}
    if isinstance(value, t.Mapping):
        return dict(value)
    return value


def _typed(value: t.Any) -> t.Any:
    if isinstance(value, dict) and set(value) == {_SET}:
        return frozenset(value[_SET])
    return value
