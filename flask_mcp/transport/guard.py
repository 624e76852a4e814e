"""Authentication of every request on the MCP endpoint and protected routes.

``authenticate(request)`` runs once per HTTP request, never once per MCP
session: a session id is a handle, not a credential (MCP 2025-11-25,
"Security Best Practices / Session Hijacking"). One :class:`AuthGate` serves
the endpoint and the custom routes, so both refuse alike.
"""

from __future__ import annotations

import functools
import hashlib
import json
import typing as t

from flask import g
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from .._sync import run_sync
from ..auth.errors import AuthError
from ..auth.errors import Forbidden
from ..auth.errors import Unauthorized
from ..auth.metadata import OAuthSettings
from ..store import StoreUnavailable
from . import operations
from .responses import RETRY_AFTER
from .responses import json_response
from .urls import ServerUrls

Authenticate = t.Callable[[Request], t.Any]

#: Fields that name who an auth session belongs to, in order of preference.
IDENTITY_FIELDS = (
    "principal",
    "subject",
    "sub",
    "id",
    "user_id",
    "client_id",
    "email",
)
#: Headers of a user's own response that describe its body, not the refusal.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class Refusal(Exception):
    """A request ``authenticate`` or an access check turned away.

    :param error: the auth error, for the status, message and challenge.
    :param response: a response the user's code built itself
        (``abort(Response(...))``), answered as given.
    :param headers: headers the user's exception carried (``Retry-After``).
    """

    def __init__(
        self,
        error: AuthError,
        response: Response | None = None,
        headers: t.Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error.description or error.error or "refused")
        self.error = error
        self.response = response
        self.headers = dict(headers or {})


class AuthGate:
    """Runs ``authenticate`` and builds the challenges of refused requests.

    :param authenticate: returns the auth session, returns ``None`` (401) or
        raises an :class:`~flask_mcp.auth.AuthError` or ``HTTPException``; it
        may be ``async def``.
    :param oauth: the discovery setting; adds ``resource_metadata`` and
        ``scope`` to challenges when enabled.
    :param urls: the server's public URLs.
    """

    def __init__(
        self,
        authenticate: Authenticate | None,
        oauth: OAuthSettings,
        urls: ServerUrls,
        challenge: str | None = None,
    ) -> None:
        self._authenticate = authenticate
        self.oauth = oauth
        self.urls = urls
        # Without OAuth discovery a Bearer challenge would send clients into
        # an OAuth flow they cannot finish: the scheme the authenticate
        # function declares (api_key_auth: ``ApiKey``) is sent instead.
        self.scheme = challenge or getattr(authenticate, "www_authenticate", None)

    @property
    def enabled(self) -> bool:
        return self._authenticate is not None

    def authenticate(self, request: Request) -> t.Any:
        """The auth session of ``request``.

        :raises Refusal: when ``authenticate`` refuses it.
        """
        if self._authenticate is None:
            return None
        try:
            session = run_sync(self._authenticate(request))
        except AuthError as exc:
            raise Refusal(exc) from None
        except HTTPException as exc:
            raise _from_http_exception(exc) from None
        if session is None:
            raise Refusal(Unauthorized())
        return session

    def require(self, request: Request, can_access: t.Any = None) -> t.Any:
        """Authenticate a protected route's request and apply its check.

        Nobody gets in where no ``authenticate`` is configured.

        :raises Refusal: 401, or 403 naming the scopes the check needs.
        """
        auth = self.authenticate(request)
        if auth is None:
            raise Refusal(Unauthorized())
        if can_access is not None and not _allowed(can_access, auth):
            raise Refusal(
                Forbidden(
                    "access denied", scopes=getattr(can_access, "required_scopes", ())
                )
            )
        return auth

    def challenge_headers(self, refusal: Refusal, request: Request) -> dict[str, str]:
        """``WWW-Authenticate`` for a 401, or a 403 that names missing scopes,
        plus the headers the user's own exception carried."""
        headers = dict(refusal.headers)
        error = refusal.error
        if any(k.lower() == "www-authenticate" for k in headers):
            return headers
        if error.status_code != 401 and not error.scopes:
            return headers
        if not self.oauth.enabled and self.scheme:
            headers["WWW-Authenticate"] = _challenge(self.scheme, error)
            return headers
        metadata = None
        if self.oauth.enabled:
            metadata = self.urls.resource_metadata(request)
            if not error.scopes:
                supported = (self.oauth.protected_resource or {}).get(
                    "scopes_supported"
                )
                if supported:
                    error = AuthError(
                        error.description,
                        error=error.error,
                        scopes=[s for s in supported if s != "offline_access"],
                        status_code=error.status_code,
                    )
        headers["WWW-Authenticate"] = error.challenge(resource_metadata=metadata)
        return headers

    def user_response(self, refusal: Refusal, request: Request) -> Response | None:
        """The user's own refusal response, with a challenge added to a
        401 that has none; ``None`` when the user built no response."""
        response = refusal.response
        if response is None:
            return None
        if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
            response.headers.update(self.challenge_headers(refusal, request))
        return response


def guarded(
    view: t.Callable[..., t.Any],
    gate_of: t.Callable[[], AuthGate],
    check: t.Callable[[t.Any], t.Any] | None,
) -> t.Callable[..., t.Any]:
    """``view`` behind the gate: the auth session goes to ``flask.g.mcp_auth``;
    refusals are JSON with the endpoint's challenge, outages 503."""

    @functools.wraps(view)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        gate = gate_of()
        try:
            g.mcp_auth = gate.require(request, check)
        except StoreUnavailable:
            body = {
                "error": "temporarily_unavailable",
                "error_description": "the shared store does not answer",
            }
            return json_response(body, 503, {"Retry-After": str(RETRY_AFTER)})
        except Refusal as refusal:
            operations.auth_refused(refusal.error, request, None, None)
            given = gate.user_response(refusal, request)
            if given is not None:
                return given
            headers = gate.challenge_headers(refusal, request)
            error = refusal.error
            return json_response(error.to_dict(), error.status_code, headers)
        return view(*args, **kwargs)

    return wrapper


def _challenge(scheme: str, error: AuthError) -> str:
    """A non-Bearer challenge: the configured scheme, plus the error if any."""
    if not error.error:
        return scheme
    parts = [f'error="{error.error}"']
    if error.scopes:
        parts.append(f'scope="{" ".join(error.scopes)}"')
    if error.description:
        text = error.description.replace("\\", "").replace('"', "'")
        parts.append(f'error_description="{text}"')
    separator = ", " if " " in scheme.strip() else " "
    return scheme.strip() + separator + ", ".join(parts)


def _allowed(check: t.Callable[[t.Any], t.Any], auth: t.Any) -> bool:
    answer = run_sync(check(auth))
    if callable(answer):
        raise TypeError(f"can_access returned {answer!r}, not a bool")
    return bool(answer)


def principal_of(session: t.Any) -> str | None:
    """A stable, hashed name of whom ``session`` belongs to, for session binding."""
    if session is None:
        return None
    for name in IDENTITY_FIELDS:
        value = (
            session.get(name)
            if isinstance(session, t.Mapping)
            else getattr(session, name, None)
        )
        if value is not None:
            identity = f"{name}={value}"
            break
    else:
        identity = json.dumps(session, sort_keys=True, default=repr)
    return hashlib.sha256(identity.encode()).hexdigest()


def _from_http_exception(exc: HTTPException) -> Refusal:
    """A werkzeug refusal, keeping what the user put in it."""
    if exc.response is not None:
        status = exc.response.status_code
        given = AuthError(exc.description, status_code=status)
        return Refusal(given, response=t.cast(Response, exc.response))
    status = exc.code or 401
    headers = {k: v for k, v in exc.get_headers() if k.lower() not in _BODY_HEADERS}
    description = exc.description if exc.description != type(exc).description else None
    refused: AuthError
    if status == 401:
        refused = Unauthorized(description)
    elif status == 403:
        refused = Forbidden(description or "access denied")
    else:
        refused = AuthError(description or exc.name, status_code=status)
    return Refusal(refused, headers=headers)
