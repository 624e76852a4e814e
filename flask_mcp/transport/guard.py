"""Authentication of every request on the MCP endpoint and protected routes.

``authenticate(request)`` runs once per HTTP request, never once per MCP
session: a session id is a handle, not a credential (MCP 2025-11-25,
"Security Best Practices / Session Hijacking"). One :class:`AuthGate` serves
the endpoint and the custom routes, so both refuse alike. Every sign-in
passes :meth:`AuthGate.signed_in` and every refusal is made by
:meth:`AuthGate.refuse`: the one place to log or audit them.
"""

from __future__ import annotations

import functools
import logging
import typing as t

from flask import g
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from .._check_policy import Check
from .._check_policy import required_scopes
from .._check_policy import run_check
from .._sync import run_sync
from ..auth.authenticators import Authenticator
from ..auth.authenticators import challenges_of
from ..auth.errors import AuthError
from ..auth.errors import Forbidden
from ..auth.errors import Unauthorized
from ..auth.metadata import OAuthSettings
from ..auth.principals import Authenticated
from ..auth.principals import identify
from ..auth.principals import principal_of
from ..auth.principals import session_of
from ..auth.principals import source_of
from ..auth.principals import sources_of
from ..errors import FlaskMCPError
from ..store import StoreUnavailable
from . import operations
from .responses import RETRY_AFTER
from .responses import json_response
from .urls import ServerUrls

log = logging.getLogger(__name__)

#: Headers of a user's own response that describe its body, not the refusal.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class Refusal(FlaskMCPError):
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
        may be ``async def``, and may let requests in several ways
        (:func:`~flask_mcp.auth.any_of`).
    :param oauth: the discovery setting; adds ``resource_metadata`` and
        ``scope`` to challenges when enabled.
    :param urls: the server's public URLs.
    :param challenge: a non-Bearer challenge replacing those ``authenticate``
        declares (``MCP_AUTH_CHALLENGE``).
    """

    def __init__(
        self,
        authenticate: Authenticator | None,
        oauth: OAuthSettings,
        urls: ServerUrls,
        challenge: str | None = None,
    ) -> None:
        self._authenticate = authenticate
        self.oauth = oauth
        self.urls = urls
        declared = (challenge,) if challenge else challenges_of(authenticate)
        #: Challenges offered on a 401 (``None``: ``Bearer``), in the order
        #: declared; ``Bearer`` comes first when OAuth discovery is on and is
        #: left out when only other schemes are declared: a Bearer challenge
        #: sends OAuth-capable clients into an OAuth flow, which only works
        #: when there is one (api_key_auth declares ``ApiKey``).
        self.challenges: tuple[str | None, ...] = tuple(
            dict.fromkeys(None if _is_bearer(c) else c for c in declared)
        )
        #: The way in of an ``authenticate`` that reports none itself.
        self.source = source_of(authenticate)
        #: Every way in (several with :func:`~flask_mcp.auth.any_of`).
        self.sources = sources_of(authenticate)

    @property
    def enabled(self) -> bool:
        return self._authenticate is not None

    def authenticate(self, request: Request) -> t.Any:
        """The auth session of ``request`` (``None`` where no ``authenticate``
        is configured).

        :raises Refusal: when ``authenticate`` refuses it.
        """
        if self._authenticate is None:
            return None
        try:
            found = run_sync(identify(self._authenticate, request))
            if not isinstance(found, Authenticated):
                found = session_of(found, self._authenticate)
        except (AuthError, HTTPException) as error:
            raise self.refuse(request, error) from None
        if found is None:
            raise self.refuse(request, Unauthorized())
        if not isinstance(found, Authenticated):
            found = Authenticated(found, self.source)
        self.signed_in(request, found)
        return found.session

    def signed_in(self, request: Request, found: Authenticated) -> None:
        """Record who came in which way, for the rest of the request:
        ``flask.g.mcp_auth`` and ``flask.g.mcp_auth_source``."""
        g.mcp_auth = found.session
        g.mcp_auth_source = found.source

    def refuse(self, request: Request, error: AuthError | HTTPException) -> Refusal:
        """The :class:`Refusal` of ``request`` for ``error``: every refusal of
        the endpoint and of protected routes is made here."""
        refusal = (
            _from_http_exception(error)
            if isinstance(error, HTTPException)
            else Refusal(error)
        )
        log.debug(
            "%s %s refused: %d %s",
            request.method,
            request.path,
            refusal.error.status_code,
            refusal.error.error or "",
        )
        return refusal

    def principal(self, session: t.Any) -> str | None:
        """Whom ``session`` belongs to, through the way in of this request."""
        return principal_of(session, g.get("mcp_auth_source", self.source))

    def require(self, request: Request, can_access: Check | None = None) -> t.Any:
        """Authenticate a protected route's request and apply its check (by
        the policy of :func:`~flask_mcp.auth.run_check`).

        Nobody gets in where no ``authenticate`` is configured.

        :raises Refusal: 401, or 403 naming the scopes the check needs.
        """
        auth = self.authenticate(request)
        if auth is None:
            raise self.refuse(request, Unauthorized())
        if can_access is not None and not run_check(
            can_access, auth, guarding=f"route {request.path}"
        ):
            refused = Forbidden("access denied", scopes=required_scopes(can_access))
            raise self.refuse(request, refused)
        return auth

    def challenge_headers(self, refusal: Refusal, request: Request) -> dict[str, str]:
        """``WWW-Authenticate`` for a 401, or a 403 that names missing scopes,
        plus the headers the user's own exception carried.

        A 401 offers ``Bearer`` (with ``resource_metadata`` when OAuth
        discovery is on) and every declared challenge; the error's parameters
        go on the challenge of the way in that refused (:attr:`AuthError.scheme
        <flask_mcp.auth.AuthError.scheme>`), else on the first one.
        """
        headers = dict(refusal.headers)
        error = refusal.error
        if any(k.lower() == "www-authenticate" for k in headers):
            return headers
        if error.status_code != 401 and not error.scopes:
            return headers
        offers: list[str | None] = [o for o in self.challenges if o is not None]
        if self.oauth.enabled:
            offers.insert(0, None)  # Bearer first: the OAuth flow is real
        else:
            offers = list(self.challenges) or [None]
        target = error.scheme if error.scheme in offers else offers[0]
        if error.status_code != 401:
            offers = [target]
        bare = AuthError(status_code=401)
        values = [
            self._bearer(error if offer == target else bare, request)
            if offer is None
            else _challenge(offer, error if offer == target else bare)
            for offer in offers
        ]
        headers["WWW-Authenticate"] = ", ".join(values)
        return headers

    def _bearer(self, error: AuthError, request: Request) -> str:
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
        return error.challenge(resource_metadata=metadata)

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
    check: Check | None,
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


def _is_bearer(challenge: str) -> bool:
    return challenge.strip().lower() == "bearer"


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
