"""Downstream tokens for tools: :class:`DownstreamTokens`.

A tool that calls an internal API on the user's behalf needs a token for
*that* API, not the MCP token (no token passthrough)::

    downstream = DownstreamTokens(TokenExchange.for_provider(provider))
    mcp = FlaskMCP(app, auth=provider, downstream=downstream)

    @mcp.tool(can_access=require_auth)
    def orders(ctx: Context) -> list[dict]:
        token = downstream.token_for(ctx.session, "orders-api", ["orders:read"])
        ...

The user's own token (the upstream token of the OAuth proxy's session, or
the bearer token a :class:`~flask_mcp.auth.JWTVerifier` accepted) is traded
at the upstream by an :class:`~flask_mcp.auth.exchange.Exchanger`. What it
gets is kept in the server's store per principal, audience and scopes until
shortly before it expires, sealed with AES-GCM, so every worker and host
reuses it. Auth knows nothing of tools: the handler calls this object, and
``init_app`` hands it the store and the key.
"""

from __future__ import annotations

import hashlib
import re
import time
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from flask import g
from flask import has_request_context

from .exchange import DownstreamError
from .exchange import Exchanged
from .exchange import Exchanger
from .principals import principal_of

if t.TYPE_CHECKING:
    from flask import Flask

    from flask_mcp.store import Store

    from .proxy.sealing import Sealer


#: An audience or a scope: printable ASCII without spaces, bounded.
_NAME = re.compile(r"[\x21-\x7e]{1,512}")
#: The longest a token is cached, whatever expiry the upstream claims: no
#: store keeps ``1e300`` seconds, and a revoked token is not served for years.
_LONGEST = 86400.0


class DownstreamTokens:
    """Tokens for downstream APIs, exchanged and cached.

    :param exchanger: how tokens are traded
        (:class:`~flask_mcp.auth.exchange.TokenExchange`,
        :class:`~flask_mcp.auth.exchange.OnBehalfOf`).
    :param skew: seconds before its expiry a cached token is dropped, so a
        token handed out still works when the API receives it.

    Pass it to ``FlaskMCP(downstream=...)``: ``init_app`` gives it the
    server's store and the encryption key (``MCP_OAUTH_ENCRYPTION_KEY``, else
    a key generated once in the instance folder: configure the key when
    several hosts share the store).
    """

    def __init__(self, exchanger: Exchanger, *, skew: float = 30.0) -> None:
        self.exchanger = exchanger
        self.skew = skew
        self._store: Store | None = None
        self._sealer: Sealer | None = None

    def init_app(self, app: Flask, store: Store, name: str) -> None:
        """Use ``store`` and the app's encryption key (``FlaskMCP`` calls this)."""
        from .proxy.keyfiles import key_path
        from .proxy.sealing import Sealer

        configured = app.config.get("MCP_OAUTH_ENCRYPTION_KEY")
        base = (
            Sealer.from_config(configured)
            if configured
            else Sealer.persisted(key_path(app.instance_path, name, "encryption.key"))
        )
        # A key of its own: a sealed downstream token never opens as anything else.
        self._sealer = Sealer(base.derive("downstream-tokens"))
        self._store = store

    def token_for(
        self, session: t.Any, audience: str, scopes: Sequence[str] = ()
    ) -> str:
        """An access token for ``audience`` on behalf of ``session``'s user.

        :param session: the tool's ``ctx.session``.
        :param audience: the downstream API, as the upstream names it.
        :param scopes: scopes to ask for at that API.
        :raises DownstreamError: the session has no token to trade, or the
            upstream refused or failed (the error names the call).
        """
        return self.get(session, audience, scopes).access_token

    def get(
        self, session: t.Any, audience: str, scopes: Sequence[str] = ()
    ) -> Exchanged:
        """Like :meth:`token_for`, with the token's expiry and scopes."""
        if self._store is None or self._sealer is None:
            raise RuntimeError(
                "DownstreamTokens has no store: pass it to FlaskMCP(downstream=...)"
            )
        scopes = _checked(audience, scopes)
        subject_token = _subject_token(session)
        key = self._key(session, audience, scopes)
        cached = self._cached(key)
        if cached is not None:
            return cached
        found = self.exchanger.exchange(subject_token, audience, scopes)
        if found.expires_at is not None:
            ttl = min(found.expires_at - time.time() - self.skew, _LONGEST)
            if ttl > 0:
                sealed = self._sealer.seal(
                    [
                        found.access_token,
                        found.token_type,
                        found.expires_at,
                        list(found.scopes),
                    ],
                    context=key,
                )
                self._store.set(key, sealed, ttl)
        return found

    def forget(self, session: t.Any, audience: str, scopes: Sequence[str] = ()) -> None:
        """Drop the cached token (the API refused it: ask for a new one)."""
        if self._store is not None:
            scopes = _checked(audience, scopes)
            self._store.delete(self._key(session, audience, scopes))

    def _key(self, session: t.Any, audience: str, scopes: tuple[str, ...]) -> str:
        principal = principal_of(session, _source()) or ""
        parts = "\0".join([self.exchanger.name, principal, audience, *sorted(scopes)])
        return "downstream:" + hashlib.sha256(parts.encode()).hexdigest()

    def _cached(self, key: str) -> Exchanged | None:
        assert self._store is not None and self._sealer is not None
        sealed = self._store.get(key)
        if sealed is None:
            return None
        from .proxy.sealing import SealError

        try:
            token, token_type, expires_at, scopes = self._sealer.open(
                sealed, context=key
            )
        except (SealError, TypeError, ValueError):
            self._store.delete(key)  # another key, or tampered: not ours
            return None
        return Exchanged(str(token), str(token_type), float(expires_at), tuple(scopes))


def _checked(audience: str, scopes: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(audience, str) or not _NAME.fullmatch(audience):
        raise ValueError(f"audience must be a URL or name without spaces: {audience!r}")
    if isinstance(scopes, str):
        raise TypeError("scopes must be a list of strings, not a string")
    found = tuple(dict.fromkeys(scopes))
    if len(found) > 50 or not all(
        isinstance(s, str) and _NAME.fullmatch(s) for s in found
    ):
        raise ValueError(f"scopes must be at most 50 names without spaces: {scopes!r}")
    return found


def _source() -> str:
    """The way in of the request being served (``flask.g.mcp_auth_source``):
    one subject signed in two ways is two principals, whose tokens are
    cached apart as their MCP sessions are kept apart."""
    if has_request_context():
        return str(g.get("mcp_auth_source", "downstream"))
    return "downstream"


def _subject_token(session: t.Any) -> str:
    """The user's token in ``session``: an OAuth proxy session's upstream
    ``access_token``, a :class:`~flask_mcp.auth.TokenSession`'s token."""
    if session is None:
        raise DownstreamError("invalid_request", "no signed-in user", call="session")
    token = (
        session.get("access_token")
        if isinstance(session, Mapping)
        else getattr(session, "access_token", None)
    )
    if not isinstance(token, str) or not token:
        raise DownstreamError(
            "invalid_request",
            "this session has no token to exchange (an API key?)",
            call="session",
        )
    return token
