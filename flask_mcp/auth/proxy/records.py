"""The proxy's records, typed, and the one place they become plain data.

Every record the proxy keeps in the store is a dataclass. :func:`dump` turns
one into a ``dict`` of JSON types (tuples become lists, nested records
dicts) and :func:`load` builds it back from its field annotations, so no
record writes its own ``to_dict``/``from_dict``. A stored dict that does not
fit its record (an entry of an older version, a damaged one) makes
:func:`load` raise :class:`RecordError`; the storage treats it as missing.

Records here are those of a login in progress and of a browser; the records
authlib's grants work with (client, code, refresh token) are in
:mod:`.models`.
"""

from __future__ import annotations

import dataclasses
import types
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from ...errors import FlaskMCPError
from ..providers.provider import UpstreamTokens

R = t.TypeVar("R")

#: ``field(metadata=NOT_STORED)``: a field set at run time, never stored.
NOT_STORED = {"stored": False}


class RecordError(FlaskMCPError, ValueError):
    """Stored data that does not fit its record."""


@dataclass
class PendingAuthorization:
    """A validated authorization request waiting for consent and the
    upstream login (:rfc:`6749#section-4.1.1`), replayed from ``params``."""

    params: dict[str, str]
    client_id: str
    redirect_uri: str
    scope: str
    #: The browser that made the request: only it may answer it.
    browser: str
    #: The MCP endpoint the request is for (its ``resource``, else the
    #: proxy's first endpoint): what the consent page names.
    resource: str = ""


@dataclass
class LoginLeg:
    """The upstream leg of one login, keyed by its own ``state``."""

    pending: PendingAuthorization
    #: The PKCE verifier of the upstream leg (:rfc:`7636#section-4.1`).
    verifier: str = field(repr=False)


#: How a grant began (:attr:`Grant.kind`).
LOGIN = "login"  # a user signed in at the upstream provider
ASSERTION = "assertion"  # an enterprise IdP vouched for a user (ID-JAG)
CLIENT = "client"  # a machine client, on its own behalf (client credentials)


@dataclass
class UpstreamGrant:
    """What a grant holds sealed: who it is for, and the upstream tokens of a
    login (``None`` for a grant that never went upstream)."""

    tokens: UpstreamTokens | None = field(repr=False)
    identity: dict[str, t.Any] = field(repr=False)


@dataclass
class Grant:
    """One login of one user for one client: a token family. Ending it ends
    every access and refresh token of the family."""

    client_id: str
    subject: str
    created_at: int
    #: Unix time the grant ends unless a refresh extends it.
    expires_at: float
    #: The :class:`UpstreamGrant`, sealed (see :class:`~.sealing.Sealer`).
    sealed: str = field(repr=False)
    #: :data:`LOGIN`, :data:`ASSERTION` or :data:`CLIENT`.
    kind: str = LOGIN


@dataclass
class Rotation:
    """The answer to the refresh of one refresh token, kept (sealed) for the
    grace period: a second refresh of the same token within it gets the same
    new pair instead of ending the family."""

    #: The token response sent, new access and refresh token included.
    answer: dict[str, t.Any] = field(repr=False)
    #: What the refreshed token was (its :class:`~.models.IssuedToken`).
    client_id: str = ""
    grant_id: str = ""
    subject: str = ""
    scope: str = ""
    resource: str | None = None


@dataclass
class Approval:
    """A client one browser approved on the consent page, for one MCP
    endpoint (an approval for ``/a/mcp`` says nothing about ``/b/mcp``)."""

    client_name: str
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    approved_at: int
    #: The host of the client's metadata document, for a client identified
    #: by one (its ``client_id`` is the document's URL).
    verified_host: str | None = None
    #: The client and the MCP endpoint approved (what :func:`approval_key`
    #: is made of); an approval stored before endpoints were recorded has
    #: none and covers nothing.
    client_id: str = ""
    resource: str = ""


def approval_key(client_id: str, resource: str) -> str:
    """Where :class:`BrowserSession` keeps the approval of ``client_id`` for
    ``resource`` (neither holds whitespace: both are checked URLs or ids)."""
    return f"{client_id} {resource}"


@dataclass
class BrowserSession:
    """What the proxy remembers of one browser: its approvals by
    :func:`approval_key`."""

    approvals: dict[str, Approval] = field(default_factory=dict)

    def approval(self, client_id: str, resource: str) -> Approval | None:
        """The approval of ``client_id`` for ``resource``, if any."""
        return self.approvals.get(approval_key(client_id, resource))

    def of_client(self, client_id: str) -> list[Approval]:
        """Every approval of ``client_id``, whatever the endpoint."""
        return [a for a in self.approvals.values() if a.client_id == client_id]


# -- the serialisation ---------------------------------------------------------


def dump(record: t.Any) -> dict[str, t.Any]:
    """``record`` (a dataclass) as a dict of JSON types, without the fields
    marked :data:`NOT_STORED`."""
    return {
        f.name: _plain(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.metadata.get("stored", True)
    }


def load(cls: type[R], data: t.Any) -> R:
    """The ``cls`` record of stored ``data``; missing fields take their
    defaults, unknown keys are ignored.

    :raises RecordError: when ``data`` does not fit ``cls``.
    """
    try:
        return t.cast(R, _record(cls, data))
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise RecordError(f"not a {cls.__name__} record: {error}") from None


def _plain(value: t.Any) -> t.Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dump(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def _record(cls: type[t.Any], data: t.Any) -> t.Any:
    if not isinstance(data, Mapping):
        raise TypeError(f"{type(data).__name__} is not a mapping")
    hints = _hints(cls)
    values = {
        f.name: _value(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)
        if f.metadata.get("stored", True) and f.name in data
    }
    return cls(**values)


def _value(hint: t.Any, value: t.Any) -> t.Any:
    origin, args = t.get_origin(hint), t.get_args(hint)
    if origin in (t.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)] or [t.Any]
        return _value(hint, value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record(hint, value)
    if origin is tuple:
        return tuple(_checked(list, value))
    if origin is dict and args and dataclasses.is_dataclass(args[1]):
        record = t.cast("type[t.Any]", args[1])
        return {str(k): _record(record, v) for k, v in _checked(dict, value).items()}
    if origin in (dict, Mapping):
        return dict(_checked(dict, value))
    if hint in (str, int, bool) or origin is list:
        return _checked(origin or hint, value)
    if hint is float:
        return float(_checked((int, float), value))
    return value


def _checked(kind: t.Any, value: t.Any) -> t.Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise TypeError(f"{type(value).__name__} where {kind} was expected")
    return value


_HINTS: dict[type[t.Any], dict[str, t.Any]] = {}


def _hints(cls: type[t.Any]) -> dict[str, t.Any]:
    """The resolved field annotations of ``cls``, computed once."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = t.get_type_hints(cls)
    return hints
