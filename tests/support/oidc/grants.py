"""The test issuer's token endpoint: one function per grant type.

authorization_code with PKCE (RFC 6749 section 4.1, RFC 7636), refresh_token
(section 6), client_credentials (section 4.4), token exchange (RFC 8693,
including the ID-JAG of the MCP enterprise-managed authorization extension)
and Entra ID's on-behalf-of (the JWT bearer grant with
``requested_token_use=on_behalf_of``). Each returns the JSON answer or raises
:class:`GrantError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from urllib.parse import unquote
from urllib.parse import urlsplit

from .settings import ACCESS_TOKEN_TYPE
from .settings import ID_JAG_TOKEN_TYPE
from .settings import ID_TOKEN_TYPE
from .settings import JWT_BEARER
from .settings import JWT_TOKEN_TYPE
from .settings import TOKEN_EXCHANGE
from .settings import Client
from .settings import IssuerSettings
from .settings import User
from .tokens import Minter
from .tokens import client_of

Form = Mapping[str, str]
Answer = dict[str, t.Any]


class GrantError(Exception):
    """A refused token request: its OAuth error, description and status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class TokenEndpoint:
    """Authenticates the client, then runs the grant the request names.

    :param find_user: the user of a subject, ``None`` when there is none.
    :param audiences: every audience given in a form (``audience`` or
        ``resource`` may repeat), for token exchange.
    """

    def __init__(
        self,
        settings: IssuerSettings,
        minter: Minter,
        find_user: Callable[[str], User | None],
    ) -> None:
        self.settings = settings
        self.minter = minter
        self.find_user = find_user
        self.grants: dict[str, Callable[[Client, Form, list[str]], Answer]] = {
            "authorization_code": self.authorization_code,
            "refresh_token": self.refresh_token,
            "client_credentials": self.client_credentials,
            TOKEN_EXCHANGE: self.token_exchange,
            JWT_BEARER: self.on_behalf_of,
        }

    def handle(
        self, form: Form, authorization: str | None, targets: list[str]
    ) -> Answer:
        grant_type = form.get("grant_type", "")
        client = self.authenticate(form, authorization)
        grant = self.grants.get(grant_type)
        if grant is None:
            raise GrantError("unsupported_grant_type", f"grant_type {grant_type!r}")
        return grant(client, form, targets)

    # -- client authentication (RFC 6749 section 2.3) ----------------------

    def authenticate(self, form: Form, authorization: str | None) -> Client:
        basic = _basic(authorization)
        client_id = basic[0] if basic else form.get("client_id", "")
        secret = basic[1] if basic else form.get("client_secret")
        method = (
            "client_secret_basic"
            if basic
            else "client_secret_post"
            if secret is not None
            else "none"
        )
        if not client_id:
            raise GrantError("invalid_client", "no client authentication", 401)
        client = client_of(self.settings, client_id)
        if client is None:
            if not self.settings.open_clients:
                raise GrantError("invalid_client", "unknown client", 401)
            return Client(client_id, secret, auth_methods=(method,))
        if client.public:
            if method != "none":
                raise GrantError("invalid_client", "a public client has no secret", 401)
            return client
        if method not in client.auth_methods:
            raise GrantError("invalid_client", f"{method} is not allowed", 401)
        assert client.client_secret is not None
        if secret is None or not hmac.compare_digest(
            secret.encode(), client.client_secret.encode()
        ):
            raise GrantError("invalid_client", "wrong client secret", 401)
        return client

    # -- grants ------------------------------------------------------------

    def authorization_code(
        self, client: Client, form: Form, targets: list[str]
    ) -> Answer:
        code = form.get("code", "")
        record = self.minter.ledger.take_code(code)
        if record is None:
            raise GrantError("invalid_grant", "unknown, expired or used code")
        if record.client_id != client.client_id:
            raise GrantError("invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != record.redirect_uri:
            raise GrantError("invalid_grant", "redirect_uri does not match")
        if record.challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier or not _pkce_matches(verifier, record.challenge):
                raise GrantError("invalid_grant", "code_verifier does not match")
        elif form.get("code_verifier"):
            raise GrantError("invalid_grant", "no code_challenge was sent")
        user = self._user(record.sub)
        audience = targets[0] if targets else record.audience
        answer = self._tokens(client, user, record.scopes, audience)
        if "openid" in record.scopes:
            answer["id_token"] = self.minter.id_token(
                user,
                client.client_id,
                nonce=record.nonce,
                auth_time=record.auth_time,
                requested=record.id_token_claims,
            )
        return answer

    def refresh_token(self, client: Client, form: Form, targets: list[str]) -> Answer:
        token = form.get("refresh_token", "")
        record = self.minter.ledger.take_refresh(
            token, self.settings.rotate_refresh_tokens
        )
        if record is None or record.client_id != client.client_id:
            raise GrantError("invalid_grant", "unknown or used refresh token")
        scopes = record.scopes
        if form.get("scope"):
            asked = tuple(form["scope"].split())
            if not set(asked) <= set(scopes):
                raise GrantError("invalid_scope", "more scopes than granted")
            scopes = asked
        user = self._user(record.sub)
        answer = self._tokens(client, user, scopes, record.audience)
        if not self.settings.rotate_refresh_tokens:
            answer["refresh_token"] = token
        if "openid" in scopes:
            answer["id_token"] = self.minter.id_token(user, client.client_id)
        return answer

    def client_credentials(
        self, client: Client, form: Form, targets: list[str]
    ) -> Answer:
        if client.public:
            raise GrantError(
                "unauthorized_client", "public clients have no credentials"
            )
        scopes = tuple(form.get("scope", "").split())
        minted = self.minter.access_token(
            None, client.client_id, scopes, targets[0] if targets else None
        )
        return self._answer(minted.token, minted.expires_in, scopes)

    def token_exchange(self, client: Client, form: Form, targets: list[str]) -> Answer:
        """RFC 8693 section 2: a token for ``audience``/``resource``, for the
        subject of ``subject_token``."""
        if not self.settings.token_exchange:
            raise GrantError("unsupported_grant_type", "no token exchange here")
        if client.public:
            raise GrantError("unauthorized_client", "public clients may not exchange")
        subject_token = form.get("subject_token")
        subject_type = form.get("subject_token_type")
        if not subject_token or not subject_type:
            raise GrantError(
                "invalid_request", "subject_token and subject_token_type are required"
            )
        if subject_type not in (ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, JWT_TOKEN_TYPE):
            raise GrantError("invalid_request", "unsupported subject_token_type")
        if form.get("actor_token") and not form.get("actor_token_type"):
            raise GrantError("invalid_request", "actor_token_type is required")
        subject = self.minter.read(subject_token)
        if subject is None:
            raise GrantError("invalid_grant", "the subject_token is invalid or expired")
        if self.settings.exchange_requires_audience and not _issued_to(
            subject, client.client_id
        ):
            raise GrantError(
                "invalid_grant", "the subject_token was not issued to this client"
            )
        requested = form.get("requested_token_type") or ACCESS_TOKEN_TYPE
        if requested == ID_JAG_TOKEN_TYPE:
            return self._id_jag(client, form, subject, targets)
        if requested not in (ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE):
            raise GrantError("invalid_request", "unsupported requested_token_type")
        if not targets:
            raise GrantError("invalid_target", "name an audience or a resource")
        for target in targets:
            self._check_target(client, target)
        scopes = tuple(form.get("scope", "").split())
        user = self.find_user(str(subject.get("sub")))
        extra: dict[str, t.Any] = {}
        if form.get("actor_token"):
            actor = self.minter.read(form["actor_token"])
            if actor is None:
                raise GrantError("invalid_grant", "the actor_token is invalid")
            extra["act"] = {"sub": actor.get("sub")}
        minted = self.minter.access_token(
            user,
            client.client_id,
            scopes,
            targets[0] if len(targets) == 1 else targets,
            subject=str(subject.get("sub")),
            extra=extra,
        )
        answer = self._answer(minted.token, minted.expires_in, scopes)
        answer["issued_token_type"] = requested
        return answer

    def on_behalf_of(self, client: Client, form: Form, targets: list[str]) -> Answer:
        """Entra ID's on-behalf-of: ``assertion`` is a token issued for this
        client (the middle-tier API); ``scope`` names the downstream API."""
        if not self.settings.on_behalf_of or form.get("requested_token_use") != (
            "on_behalf_of"
        ):
            raise GrantError("unsupported_grant_type", "only on-behalf-of here")
        if client.public:
            raise GrantError(
                "unauthorized_client", "on-behalf-of needs a confidential client"
            )
        assertion = self.minter.read(form.get("assertion", ""))
        if assertion is None:
            raise GrantError(
                "invalid_grant", "AADSTS50013: Assertion failed signature validation."
            )
        if not _issued_to(
            assertion, client.client_id, also=f"api://{client.client_id}"
        ):
            raise GrantError(
                "invalid_grant",
                "AADSTS50013: Assertion audience does not match the client.",
            )
        scopes = form.get("scope", "").split()
        resources = {_resource_of(scope) for scope in scopes if "/" in scope}
        if len(resources) != 1:
            raise GrantError(
                "invalid_scope", "AADSTS70011: scope must name one resource."
            )
        resource = resources.pop()
        self._check_target(client, resource)
        names = tuple(scope.rsplit("/", 1)[1] for scope in scopes if "/" in scope)
        user = self.find_user(str(assertion.get("sub")))
        minted = self.minter.access_token(
            user, client.client_id, names, resource, subject=str(assertion.get("sub"))
        )
        return self._answer(minted.token, minted.expires_in, tuple(scopes))

    # -- helpers -----------------------------------------------------------

    def _id_jag(
        self, client: Client, form: Form, subject: dict[str, t.Any], targets: list[str]
    ) -> Answer:
        """An Identity Assertion JWT Authorization Grant for the authorization
        server named by ``audience``, about the ``resource`` there."""
        audience = form.get("audience")
        if not audience:
            raise GrantError("invalid_request", "an ID-JAG needs an audience")
        self._check_target(client, audience)
        now = int(time.time())
        claims: dict[str, t.Any] = {
            "iss": self.minter.issuer,
            "sub": subject.get("sub"),
            "aud": audience,
            "client_id": form.get("client_id_at_audience") or client.client_id,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 300,
        }
        if form.get("resource"):
            claims["resource"] = form["resource"]
        if form.get("scope"):
            claims["scope"] = form["scope"]
        token = self.minter.keys.sign(claims, {"typ": "oauth-id-jag+jwt"})
        return {
            "access_token": token,
            "issued_token_type": ID_JAG_TOKEN_TYPE,
            "token_type": "N_A",
            "expires_in": 300,
        }

    def _check_target(self, client: Client, target: str) -> None:
        allowed = client.exchange_audiences
        if allowed is not None and target not in allowed:
            raise GrantError("invalid_target", f"{target} is not a permitted audience")

    def _user(self, sub: str) -> User:
        user = self.find_user(sub)
        if user is None:
            raise GrantError("invalid_grant", "the user is gone")
        return user

    def _tokens(
        self, client: Client, user: User, scopes: tuple[str, ...], api: str | None
    ) -> Answer:
        """Access and refresh token; ``api`` is the audience asked for, if any."""
        if api is None and self.settings.audience_from_scope:
            named = [_resource_of(scope) for scope in scopes if "/" in scope]
            api = named[0] if named else None
        own = self.default_audience()
        audience: str | list[str] | None = api or own
        if (
            api
            and own
            and "openid" in scopes
            and self.settings.api_audience_with_userinfo
        ):
            audience = [api, own]
        opaque = True if self.settings.opaque_without_audience and not api else None
        minted = self.minter.access_token(
            user, client.client_id, scopes, audience, opaque=opaque
        )
        answer = self._answer(minted.token, minted.expires_in, scopes)
        answer["refresh_token"] = self.minter.refresh_token(
            client.client_id, user.sub, scopes, api
        )
        return answer

    def default_audience(self) -> str | None:
        audience = self.settings.access_token_audience
        if audience == "userinfo":
            return self.minter.issuer.rstrip("/") + "/userinfo"
        return audience

    def _answer(self, token: str, expires_in: int, scopes: t.Sequence[str]) -> Answer:
        answer: Answer = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
        if scopes:
            answer["scope"] = " ".join(scopes)
        return answer


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        raise GrantError("invalid_client", "malformed Basic credentials", 401) from None
    name, sep, secret = decoded.partition(":")
    if not sep:
        raise GrantError("invalid_client", "malformed Basic credentials", 401)
    return unquote(name), unquote(secret)


def _pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


def _issued_to(claims: Mapping[str, t.Any], client_id: str, also: str = "") -> bool:
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    return (
        client_id in audiences
        or (also != "" and also in audiences)
        or claims.get("azp") == client_id
    )


def _resource_of(scope: str) -> str:
    """``api://x/.default`` -> ``api://x``; ``https://graph.microsoft.com/User.Read``
    -> ``https://graph.microsoft.com``."""
    parts = urlsplit(scope)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return scope.rsplit("/", 1)[0]
