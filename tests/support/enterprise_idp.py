"""A company's identity provider issuing ID-JAGs, for enterprise-managed
authorization tests.

It serves what a resource authorization server reads of an IdP, over real
HTTP on loopback (:class:`~support.loopback.LoopbackServer`): its RFC 8414
metadata and its JWK Set. ``mint()`` signs Identity Assertion JWT
Authorization Grants (``typ: oauth-id-jag+jwt``) with its key, any claim
overridden or removed, so tests can present valid ones and every kind of
broken one. It also answers the token exchange of leg 1 (RFC 8693,
``requested_token_type=urn:ietf:params:oauth:token-type:id-jag``) with such
an assertion, as an IdP would, for clients that ask it themselves.

``hits`` counts requests per path; ``fail`` makes the metadata and JWK Set
answer 503 (an IdP down).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import typing as t

from joserfc import jwt
from joserfc.jwk import ECKey
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from .loopback import LoopbackServer

__all__ = ["ID_JAG_TOKEN_TYPE", "EnterpriseIdP"]

ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"
_DROP = object()


class EnterpriseIdP:
    """The IdP; use as a context manager (``.issuer``, ``.mint()``)."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True, auto_kid=True)
        self.hits: dict[str, int] = {}
        self.fail = False
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._app)

    @property
    def issuer(self) -> str:
        return self._server.url

    def __enter__(self) -> EnterpriseIdP:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.close()

    def mint(
        self,
        *,
        audience: t.Any,
        client_id: str,
        resource: t.Any,
        subject: str = "employee-42",
        lifetime: int = 300,
        header: dict[str, t.Any] | None = None,
        key: ECKey | None = None,
        **claims: t.Any,
    ) -> str:
        """An ID-JAG; a claim given as ``None`` is left out."""
        now = int(time.time())
        payload: dict[str, t.Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "client_id": client_id,
            "resource": resource,
            "jti": secrets.token_urlsafe(12),
            "iat": now,
            "exp": now + lifetime,
            "email": f"{subject}@corp.example",
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        signer = key or self.key
        fields = {"typ": "oauth-id-jag+jwt", "alg": "ES256", "kid": signer.kid}
        fields.update(header or {})
        fields = {k: v for k, v in fields.items() if v is not None}
        return jwt.encode(fields, payload, signer, algorithms=[str(fields.get("alg"))])

    # -- the HTTP side -------------------------------------------------------

    def _app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        with self._lock:
            self.hits[request.path] = self.hits.get(request.path, 0) + 1
        response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if self.fail:
            return Response("down", 503)
        if request.path == "/.well-known/oauth-authorization-server":
            return _json(
                {
                    "issuer": self.issuer,
                    "token_endpoint": self.issuer + "/token",
                    "jwks_uri": self.issuer + "/jwks",
                    "grant_types_supported": [
                        "urn:ietf:params:oauth:grant-type:token-exchange"
                    ],
                    "identity_chaining_requested_token_types_supported": [
                        ID_JAG_TOKEN_TYPE
                    ],
                }
            )
        if request.path == "/jwks":
            public = self.key.as_dict(private=False) | {"use": "sig", "alg": "ES256"}
            return _json({"keys": [public]})
        if request.path == "/token" and request.method == "POST":
            return self._token_exchange(request)
        return Response("not found", 404)

    def _token_exchange(self, request: Request) -> Response:
        form = request.form
        if form.get("requested_token_type") != ID_JAG_TOKEN_TYPE:
            return _json({"error": "invalid_request"}, 400)
        subject = form.get("subject_token", "")
        assertion = self.mint(
            audience=form["audience"],
            client_id=form.get("mcp_client_id") or form.get("client_id", ""),
            resource=form["resource"],
            subject=subject or "employee-42",
            scope=form.get("scope") or None,
        )
        return _json(
            {
                "issued_token_type": ID_JAG_TOKEN_TYPE,
                "access_token": assertion,
                "token_type": "N_A",
                "expires_in": 300,
            }
        )


def _json(document: dict[str, t.Any], status: int = 200) -> Response:
    return Response(json.dumps(document), status, mimetype="application/json")
