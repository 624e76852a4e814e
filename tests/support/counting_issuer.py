"""A JWT issuer on loopback that counts how often each document is fetched.

For cache tests: the RFC 8414 metadata at
``/.well-known/oauth-authorization-server`` and the JWK Set at ``/jwks``
are served from a thread of the test (:class:`~support.loopback.LoopbackServer`),
so gunicorn workers reach it over real HTTP and ``.hits`` tells how many
fetches the caches let through::

    with CountingIssuer() as issuer:
        token = issuer.mint("alice", audience="store-app")
        ...
        assert issuer.hits["/jwks"] == 1
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
import typing as t

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from .loopback import LoopbackServer
from .tiers import needs

__all__ = ["CountingIssuer"]


@needs("http")
class CountingIssuer:
    """Metadata and keys of one issuer, and tokens it signs."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.hits: collections.Counter[str] = collections.Counter()
        self._mutex = threading.Lock()
        self._serial = itertools.count()
        self.server = LoopbackServer(self._app)
        self.url = self.server.url

    def __enter__(self) -> CountingIssuer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.close()

    def _app(self, environ: t.Any, start_response: t.Any) -> t.Any:
        request = Request(environ)
        with self._mutex:
            self.hits[request.path] += 1
        if request.path == "/.well-known/oauth-authorization-server":
            body: t.Any = {"issuer": self.url, "jwks_uri": self.url + "/jwks"}
        elif request.path == "/jwks":
            body = {"keys": [self.key.as_dict(private=False)]}
        else:
            return Response("not found", 404)(environ, start_response)
        response = Response(json.dumps(body), content_type="application/json")
        return response(environ, start_response)

    def mint(self, subject: str, audience: str, lifetime: int = 600) -> str:
        """A signed access token; each one differs (its ``jti``), so no
        verifier can answer it from memory."""
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": audience,
            "sub": subject,
            "iat": now,
            "exp": now + lifetime,
            "jti": f"t{next(self._serial)}",
        }
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
