"""Errors raised by the auth building blocks, each mapping to one HTTP answer.

:class:`Unauthorized` is a 401 and :class:`Forbidden` a 403, with the OAuth
error codes of :rfc:`6750#section-3.1`. The transport turns any
:class:`AuthError` into a response with a ``WWW-Authenticate`` challenge built
by :meth:`AuthError.challenge`.
"""

from __future__ import annotations

import typing as t

from ..errors import FlaskMCPError


class AuthError(FlaskMCPError):
    """A request that failed authentication or authorization.

    :param description: human-readable text, sent as ``error_description``;
        keep it free of secrets and stack traces.
    :param error: the OAuth error code (``invalid_token``, ``invalid_request``,
        ``insufficient_scope``) or ``None``.
    :param scopes: the scopes the request would need (for ``insufficient_scope``).
    :param status_code: the HTTP status, when not the class default.
    :param scheme: the ``WWW-Authenticate`` challenge this error belongs to
        when it is not ``Bearer`` (``'ApiKey header="X-API-Key"'``): on a
        server with several ways in, the error's parameters go on the
        challenge of the way that refused.
    """

    #: HTTP status of the response.
    status_code: int = 401

    def __init__(
        self,
        description: str | None = None,
        *,
        error: str | None = None,
        scopes: t.Iterable[str] = (),
        status_code: int | None = None,
        scheme: str | None = None,
    ) -> None:
        super().__init__(description or error or self.__class__.__name__)
        #: The non-Bearer challenge this error belongs to, or ``None``.
        self.scheme = scheme
        #: OAuth error code of :rfc:`6750#section-3.1`, or ``None``.
        self.error = error
        #: Human-readable explanation, or ``None``.
        self.description = description
        #: Scopes that would satisfy the request, in order, without duplicates.
        self.scopes: tuple[str, ...] = tuple(dict.fromkeys(scopes))
        if status_code is not None:
            self.status_code = status_code

    def challenge(
        self, *, resource_metadata: str | None = None, realm: str | None = None
    ) -> str:
        """The ``WWW-Authenticate`` value for this error (:rfc:`6750#section-3`).

        :param resource_metadata: URL of the protected resource metadata
            (:rfc:`9728#section-5.1`).
        :param realm: optional protection space.
        """
        from .challenge import bearer_challenge

        return bearer_challenge(
            resource_metadata=resource_metadata,
            scope=self.scopes or None,
            error=self.error,
            error_description=self.description if self.error else None,
            realm=realm,
        )

    def to_dict(self) -> dict[str, str]:
        """A JSON body for the response: ``error`` and ``error_description``."""
        body: dict[str, str] = {}
        if self.error:
            body["error"] = self.error
        if self.description:
            body["error_description"] = self.description
        return body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code},"
            f" error={self.error!r}, description={self.description!r},"
            f" scopes={self.scopes!r})"
        )


class Unauthorized(AuthError):
    """401: no usable credential.

    Leave ``error`` as ``None`` when the request carried no credential at all
    (:rfc:`6750#section-3.1`: the challenge then has no error code); use
    ``error="invalid_token"`` when a token was presented and rejected, and
    ``error="invalid_request"`` for a malformed request.
    """

    status_code = 401


class Forbidden(AuthError):
    """403: authenticated, but not allowed.

    With ``scopes`` and no explicit ``error`` it is the ``insufficient_scope``
    error of :rfc:`6750#section-3.1`, whose challenge lists the needed scopes.
    """

    status_code = 403

    def __init__(
        self,
        description: str | None = None,
        *,
        error: str | None = None,
        scopes: t.Iterable[str] = (),
        status_code: int | None = None,
        scheme: str | None = None,
    ) -> None:
        scopes = tuple(scopes)
        if error is None and scopes:
            error = "insufficient_scope"
        super().__init__(
            description,
            error=error,
            scopes=scopes,
            status_code=status_code,
            scheme=scheme,
        )


class AuthenticationRequired(Unauthorized):
    """Raised by :func:`~flask_mcp.auth.get_auth_session` when there is no session.

    A subclass of :class:`Unauthorized` (401, no error code: no credential was
    presented), so a handler that lets it escape produces the same challenge
    as an unauthenticated request. Guard the tool with
    :data:`~flask_mcp.auth.require_auth` to never reach it.
    """

    def __init__(
        self, description: str = "this operation requires an authenticated session"
    ) -> None:
        super().__init__(description)
