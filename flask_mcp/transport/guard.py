"""Authentication of every request on the MCP endpoint and protected routes.

``authenticate(request)`` runs once per HTTP request, never once per MCP
session: a session id is a handle, not a credential (MCP 2025-11-25,
"Security Best Practices / Session Hijacking").
"""

from __future__ import annotations

import hashlib
import json
import logging
import typing as t

from flask import Request
from werkzeug.exceptions import HTTPException

from ..auth.errors import AuthError
from ..auth.errors import Forbidden
from ..auth.errors import Unauthorized
from ..auth.metadata import OAuthSettings
from ..auth.metadata import protected_resource_metadata_url

log = logging.getLogger("flask_mcp")

Authenticate = t.Callable[[Request], t.Any]

#: Fields that name who an auth session belongs to, in order of preference.
_IDENTITY_FIELDS = ("subject", "sub", "id", "user_id", "client_id", "email")


class AuthGate:
    """Runs ``authenticate`` and builds the challenges of refused requests.

    :param authenticate: returns the auth session, returns ``None`` (401) or
        raises an :class:`~flask_mcp.auth.AuthError` or ``HTTPException``.
    :param oauth: the discovery setting; adds ``resource_metadata`` and
        ``scope`` to challenges when enabled.
    """

    def __init__(self, authenticate: Authenticate | None, oauth: OAuthSettings) -> None:
        self._authenticate = authenticate
        self.oauth = oauth

    @property
    def enabled(self) -> bool:
        return self._authenticate is not None

    def authenticate(self, request: Request) -> t.Any:
        """The auth session of ``request``; raises :class:`AuthError` to refuse it."""
        if self._authenticate is None:
            return None
        try:
            session = self._authenticate(request)
        except AuthError:
            raise
        except HTTPException as exc:
            raise _from_http_exception(exc) from None
        if session is None:
            raise Unauthorized()
        return session

    def challenge_headers(self, error: AuthError, resource_url: str) -> dict[str, str]:
        """``WWW-Authenticate`` for a 401, or a 403 that names missing scopes."""
        if error.status_code != 401 and not error.scopes:
            return {}
        metadata = None
        if self.oauth.enabled:
            metadata = protected_resource_metadata_url(resource_url)
            if not error.scopes:
                supported = (self.oauth.protected_resource or {}).get(
                    "scopes_supported"
                )
                if supported:
                    error = AuthError(
                        error.description,
                        error=error.error,
                        scopes=supported,
                        status_code=error.status_code,
                    )
        return {"WWW-Authenticate": error.challenge(resource_metadata=metadata)}


def principal_of(session: t.Any) -> str | None:
    """A stable, hashed name of whom ``session`` belongs to, for session binding."""
    if session is None:
        return None
    for name in _IDENTITY_FIELDS:
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


def _from_http_exception(exc: HTTPException) -> AuthError:
    status = exc.response.status_code if exc.response is not None else (exc.code or 401)
    if status == 403:
        return Forbidden("access denied", status_code=403)
    if status == 401:
        return Unauthorized()
    return AuthError(exc.description or "request refused", status_code=status)
