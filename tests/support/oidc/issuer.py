"""The test issuer: a configurable OpenID Connect provider on loopback.

Discovery (OpenID Connect Discovery and :rfc:`8414`), a JWK Set that rotates,
an authorization endpoint that signs the user in at once, the token endpoint
of :mod:`.grants`, userinfo, revocation (:rfc:`7009`) and introspection
(:rfc:`7662`). It runs in the test's process (the ``http`` tier), so tests
change its behaviour with plain method calls and see every request it got.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import typing as t
from dataclasses import dataclass
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from ..loopback import LoopbackServer
from ..tiers import needs
from .grants import GrantError
from .grants import TokenEndpoint
from .keys import IssuerKeys
from .settings import JWT_BEARER
from .settings import TOKEN_EXCHANGE
from .settings import IssuerSettings
from .settings import User
from .tokens import CodeRecord
from .tokens import Minter
from .tokens import client_of

__all__ = ["OIDCIssuer", "Seen"]


@dataclass
class Seen:
    """One request the issuer answered."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    status: int


@needs("http")
class OIDCIssuer:
    """A running issuer; ``issuer`` is its issuer identifier.

    ``with OIDCIssuer(IssuerSettings(...)) as issuer: ...``, or :meth:`close`.
    The controls (:meth:`config`, :meth:`next_token_error`,
    :meth:`next_authorize_error`, :meth:`mint`, :meth:`stats`) are those of
    the Node issuer of ``tests/proxy/upstream_issuer.mjs``, so a test can use
    either.
    """

    def __init__(
        self, settings: IssuerSettings | None = None, alg: str = "RS256"
    ) -> None:
        self.settings = settings or IssuerSettings()
        self.keys = IssuerKeys(alg)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._current = self.settings.users[0].sub
        self._next_authorize_error: dict[str, str] | None = None
        self._next_token_error: tuple[str, int, str] | None = None
        self._counts: dict[str, t.Any] = {"authorize": 0, "token": {}, "userinfo": 0}
        self._server = LoopbackServer(self._app)
        self.url = self._server.url
        self.issuer = self.url + self.settings.path
        self.minter = Minter(self.issuer, self.settings, self.keys)
        self.tokens = TokenEndpoint(self.settings, self.minter, self.user)
        self._routes = self._build_routes()

    # -- controls ------------------------------------------------------------

    def config(self, *, expires_in: int | None = None) -> None:
        """``expires_in`` of later token answers (``None``: the TTL)."""
        self.minter.expires_in = expires_in

    def next_authorize_error(self, error: str, description: str = "") -> None:
        """The next authorization request is answered with this error."""
        answer = {"error": error}
        if description:
            answer["error_description"] = description
        self._next_authorize_error = answer

    def next_token_error(
        self, error: str, status: int = 400, description: str = "refused by the test"
    ) -> None:
        """The next token request is refused with this error."""
        self._next_token_error = (error, status, description)

    def login_as(self, sub: str) -> None:
        """Sign ``sub`` in on later authorization requests."""
        if self.user(sub) is None:
            raise ValueError(f"no user {sub!r}")
        self._current = sub

    def user(self, sub: str) -> User | None:
        return next((u for u in self.settings.users if u.sub == sub), None)

    def mint(
        self,
        claims: dict[str, t.Any],
        header: dict[str, t.Any] | None = None,
        *,
        expires_in: int = 3600,
        kid: str | None = None,
    ) -> str:
        """A token signed by the issuer: ``iss``, ``iat`` and ``exp`` filled
        in unless ``claims`` sets them (``None`` removes one)."""
        now = int(time.time())
        full = {"iss": self.issuer, "iat": now, "exp": now + expires_in, **claims}
        full = {name: value for name, value in full.items() if value is not None}
        return self.keys.sign(full, header, kid)

    def stats(self) -> dict[str, t.Any]:
        """``authorize``, ``token`` (by grant type), ``revoked``, ``userinfo``."""
        with self._lock:
            return {
                **self._counts,
                "token": dict(self._counts["token"]),
                "revoked": list(self.minter.ledger.revoked),
            }

    def hits(self, path_end: str) -> int:
        """Requests whose path ends with ``path_end`` (``"/jwks"``, ...)."""
        with self._lock:
            return sum(1 for seen in self.seen if seen.path.endswith(path_end))

    def requests_to(self, endpoint: str) -> list[Seen]:
        """The requests an endpoint got (``"token_endpoint"``...)."""
        path = self.settings.endpoint_paths()[endpoint]
        with self._lock:
            return [seen for seen in self.seen if seen.path == path]

    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> OIDCIssuer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the server ----------------------------------------------------------

    def _build_routes(self) -> dict[str, t.Callable[[Request], Response]]:
        paths = self.settings.endpoint_paths()
        handlers: dict[str, t.Callable[[Request], Response]] = {
            "authorization_endpoint": self._authorize,
            "token_endpoint": self._token,
            "userinfo_endpoint": self._userinfo,
            "jwks_uri": lambda request: _json(self.keys.jwks()),
            "revocation_endpoint": self._revoke,
            "introspection_endpoint": self._introspect,
        }
        routes: dict[str, t.Callable[[Request], Response]] = {
            paths[name]: handler for name, handler in handlers.items() if name in paths
        }
        issuer_path = urlsplit(self.issuer).path.rstrip("/")
        routes[f"{issuer_path}/.well-known/openid-configuration"] = self._metadata
        routes[f"/.well-known/oauth-authorization-server{issuer_path}"] = self._metadata
        return routes

    def _app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        handler = self._routes.get(request.path)
        response = handler(request) if handler else _json({"error": "not_found"}, 404)
        with self._lock:
            self.seen.append(
                Seen(
                    request.method,
                    request.path,
                    dict(request.args),
                    dict(request.form),
                    dict(request.headers),
                    response.status_code,
                )
            )
        return response(environ, start_response)

    def _metadata(self, request: Request) -> Response:
        paths = self.settings.endpoint_paths()
        grants = ["authorization_code", "refresh_token", "client_credentials"]
        if self.settings.token_exchange:
            grants.append(TOKEN_EXCHANGE)
        if self.settings.on_behalf_of:
            grants.append(JWT_BEARER)
        document: dict[str, t.Any] = {
            "issuer": self.issuer,
            **{name: self.url + path for name, path in paths.items()},
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
            "grant_types_supported": grants,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "scopes_supported": ["openid", "email", "profile", "offline_access"],
            "claims_parameter_supported": self.settings.claims_parameter_supported,
            "authorization_response_iss_parameter_supported": (
                self.settings.issuer_in_response
            ),
        }
        return _json(document)

    def _authorize(self, request: Request) -> Response:
        with self._lock:
            self._counts["authorize"] += 1
        params = request.args if request.method == "GET" else request.form
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        client = client_of(self.settings, client_id)
        if client is None and not self.settings.open_clients:
            return _page(400, "unknown client")
        if not redirect_uri or (
            client is not None
            and client.redirect_uris is not None
            and redirect_uri not in client.redirect_uris
        ):
            return _page(400, "redirect_uri is not registered")
        answer: dict[str, str] = {}
        if self._next_authorize_error is not None:
            answer, self._next_authorize_error = self._next_authorize_error, None
        elif params.get("response_type") != "code":
            answer = {"error": "unsupported_response_type"}
        elif self.settings.require_pkce and not params.get("code_challenge"):
            answer = {"error": "invalid_request", "error_description": "PKCE required"}
        elif (
            params.get("code_challenge")
            and params.get("code_challenge_method", "plain") != "S256"
        ):
            answer = {"error": "invalid_request", "error_description": "S256 only"}
        else:
            answer = {"code": self._code(params, client_id, redirect_uri)}
        if params.get("state"):
            answer["state"] = params["state"]
        if self.settings.issuer_in_response:
            answer["iss"] = self.issuer
        return _redirect(redirect_uri, answer)

    def _code(
        self, params: t.Mapping[str, str], client_id: str, redirect_uri: str
    ) -> str:
        hint = params.get("login_hint")
        sub = hint if hint and self.user(hint) is not None else self._current
        parameter = self.settings.audience_parameter
        requested: tuple[str, ...] = ()
        if self.settings.claims_parameter_supported and params.get("claims"):
            requested = tuple(json.loads(params["claims"]).get("id_token", {}))
        code = "code-" + secrets.token_urlsafe(24)
        with self.minter.ledger.lock:
            self.minter.ledger.codes[code] = CodeRecord(
                client_id=client_id,
                redirect_uri=redirect_uri,
                scopes=tuple(params.get("scope", "").split()),
                sub=sub,
                challenge=params.get("code_challenge"),
                challenge_method=params.get("code_challenge_method"),
                nonce=params.get("nonce"),
                audience=params.get(parameter) if parameter else None,
                auth_time=int(time.time()),
                id_token_claims=requested,
            )
        return code

    def _token(self, request: Request) -> Response:
        form = request.form
        grant_type = form.get("grant_type", "unknown")
        with self._lock:
            tokens = self._counts["token"]
            tokens[grant_type] = tokens.get(grant_type, 0) + 1
        refused, self._next_token_error = self._next_token_error, None
        parameter = self.settings.audience_parameter
        targets = form.getlist("audience") + form.getlist("resource")
        if grant_type not in (TOKEN_EXCHANGE,) and parameter:
            targets = form.getlist(parameter)
        try:
            if refused is not None:
                raise GrantError(refused[0], refused[2], refused[1])
            answer = self.tokens.handle(
                form, request.headers.get("Authorization"), targets
            )
        except GrantError as error:
            body = {"error": error.error, "error_description": error.description}
            response = self._token_answer(body, error.status)
            if error.status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="test-issuer"'
            return response
        return self._token_answer(answer, 200)

    def _token_answer(self, body: dict[str, t.Any], status: int) -> Response:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if self.settings.form_encoded:
            return Response(
                urlencode(body),
                status,
                headers,
                content_type="application/x-www-form-urlencoded",
            )
        return _json(body, status, headers)

    def _userinfo(self, request: Request) -> Response:
        with self._lock:
            self._counts["userinfo"] += 1
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        claims = self.minter.read(token.strip()) if scheme.lower() == "bearer" else None
        user = self.user(str(claims.get("sub"))) if claims else None
        if claims is None or user is None or self._refuses(claims):
            response = _json({"error": "invalid_token"}, 401)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        names = self.settings.userinfo_claims
        info = {k: v for k, v in user.claims.items() if names is None or k in names}
        return _json({**info, "sub": user.sub})

    def _refuses(self, claims: dict[str, t.Any]) -> bool:
        """Whether userinfo refuses an access token minted for another API."""
        if not self.settings.userinfo_refuses_api_tokens:
            return False
        own = self.tokens.default_audience()
        audience = claims.get("aud")
        return own not in (audience if isinstance(audience, list) else [audience])

    def _revoke(self, request: Request) -> Response:
        token = request.form.get("token", "")
        ledger = self.minter.ledger
        with ledger.lock:
            ledger.revoked.append(token)
            ledger.refresh.pop(token, None)
        return Response(b"", 200)

    def _introspect(self, request: Request) -> Response:
        claims = self.minter.read(request.form.get("token", ""))
        if claims is None:
            return _json({"active": False})
        return _json({**claims, "active": True})


def _json(
    body: t.Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json.dumps(body), status, headers, content_type="application/json")


def _page(status: int, text: str) -> Response:
    return Response(f"<p>{text}</p>", status, content_type="text/html")


def _redirect(uri: str, params: dict[str, str]) -> Response:
    parts = urlsplit(uri)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return Response("", 302, {"Location": urlunsplit(parts._replace(query=query))})
