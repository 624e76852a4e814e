"""What the test issuer mints and remembers: codes, access, refresh and ID
tokens, and the records a token endpoint needs to check them later."""

from __future__ import annotations

import secrets
import threading
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from .keys import IssuerKeys
from .settings import Client
from .settings import IssuerSettings
from .settings import User


@dataclass
class CodeRecord:
    """An authorization code and what it was issued for."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    sub: str
    challenge: str | None
    challenge_method: str | None
    nonce: str | None
    audience: str | None
    auth_time: int
    id_token_claims: tuple[str, ...] = ()


@dataclass
class RefreshRecord:
    """A refresh token's grant."""

    client_id: str
    sub: str
    scopes: tuple[str, ...]
    audience: str | None


@dataclass
class Minted:
    """An access token and its claims (for opaque tokens, what introspection
    and userinfo look up)."""

    token: str
    claims: dict[str, t.Any]
    expires_in: int


@dataclass
class Ledger:
    """Codes, refresh tokens, opaque access tokens and revocations, behind one
    lock (the loopback server is threaded)."""

    codes: dict[str, CodeRecord] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    refresh: dict[str, RefreshRecord] = field(default_factory=dict)
    opaque: dict[str, dict[str, t.Any]] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_code(self, code: str) -> CodeRecord | None:
        """The code's record, once: a second redemption finds nothing."""
        with self.lock:
            record = self.codes.pop(code, None)
            if record is not None:
                self.used_codes.add(code)
            return record

    def take_refresh(self, token: str, rotate: bool) -> RefreshRecord | None:
        with self.lock:
            if rotate:
                return self.refresh.pop(token, None)
            return self.refresh.get(token)

    def is_revoked(self, token: str) -> bool:
        with self.lock:
            return token in self.revoked


class Minter:
    """Mints the issuer's tokens as its settings say."""

    def __init__(self, issuer: str, settings: IssuerSettings, keys: IssuerKeys) -> None:
        self.issuer = issuer
        self.settings = settings
        self.keys = keys
        self.ledger = Ledger()
        #: Overrides ``expires_in`` of later answers (``None``: the TTL).
        self.expires_in: int | None = None

    def ttl(self) -> int:
        return (
            self.expires_in if self.expires_in is not None else self.settings.access_ttl
        )

    def access_token(
        self,
        user: User | None,
        client_id: str,
        scopes: t.Sequence[str],
        audience: str | t.Sequence[str] | None,
        *,
        subject: str | None = None,
        extra: dict[str, t.Any] | None = None,
        opaque: bool | None = None,
    ) -> Minted:
        """An access token for ``user`` (or the client itself: ``subject``)."""
        settings, now, ttl = self.settings, int(time.time()), self.ttl()
        sub = user.sub if user is not None else subject or client_id
        if user is not None and settings.access_token_subject:
            sub = str(user.claims.get(settings.access_token_subject, sub))
        claims: dict[str, t.Any] = {
            "iss": self.issuer,
            "sub": sub,
            "iat": now,
            "exp": now + max(ttl, 1),
            "jti": secrets.token_urlsafe(12),
            settings.client_id_claim: client_id,
        }
        if audience is not None:
            claims["aud"] = audience if isinstance(audience, str) else list(audience)
        if scopes:
            claims[settings.scope_claim] = (
                list(scopes) if settings.scope_as_list else " ".join(scopes)
            )
        if user is not None:
            claims.update(
                {
                    name: user.claims[name]
                    for name in settings.access_token_claims
                    if name in user.claims
                }
            )
        claims.update(extra or {})
        if opaque is None:
            opaque = settings.access_token_format == "opaque"
        if opaque:
            token = "opaque-" + secrets.token_urlsafe(24)
            with self.ledger.lock:
                self.ledger.opaque[token] = claims
        else:
            token = self.keys.sign(claims, {"typ": settings.access_token_typ})
        return Minted(token, claims, ttl)

    def id_token(
        self,
        user: User,
        client_id: str,
        *,
        nonce: str | None = None,
        auth_time: int | None = None,
        requested: tuple[str, ...] = (),
    ) -> str:
        """An ID token for ``client_id`` (OpenID Connect Core, section 2)."""
        now = int(time.time())
        names = self.settings.id_token_claims
        profile = {
            name: value
            for name, value in user.claims.items()
            if names is None or name in names or name in requested
        }
        claims: dict[str, t.Any] = {
            **profile,
            "iss": self.issuer,
            "sub": user.sub,
            "aud": client_id,
            "azp": client_id,
            "iat": now,
            "exp": now + max(self.ttl(), 1),
            "auth_time": auth_time or now,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return self.keys.sign(claims)

    def refresh_token(
        self, client_id: str, sub: str, scopes: t.Sequence[str], audience: str | None
    ) -> str:
        token = "refresh-" + secrets.token_urlsafe(24)
        with self.ledger.lock:
            self.ledger.refresh[token] = RefreshRecord(
                client_id, sub, tuple(scopes), audience
            )
        return token

    def read(self, token: str) -> dict[str, t.Any] | None:
        """The claims of a live token of ours (access or ID token), else ``None``."""
        if self.ledger.is_revoked(token):
            return None
        with self.ledger.lock:
            claims = self.ledger.opaque.get(token)
        if claims is None:
            claims = self.keys.verify(token)
        if claims is None or claims.get("iss") != self.issuer:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= time.time():
            return None
        return claims


def client_of(settings: IssuerSettings, client_id: str) -> Client | None:
    for client in settings.clients:
        if client.client_id == client_id:
            return client
    return None
