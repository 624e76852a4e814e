"""A loopback stand-in for Google, GitHub and Microsoft.

:class:`Upstream` is a threaded werkzeug server on 127.0.0.1 that replays the
bodies of ``recorded/`` (see its README) and keeps every request it saw, so
tests check what a provider sent (PKCE, client authentication, headers).
Routes are registered under the real URL (``https://oauth2.googleapis.com/token``)
and served at ``{upstream.url}/oauth2.googleapis.com/token``.

:class:`Keys` holds test RSA keys by ``kid`` and signs ID tokens with them.
Every secret a test uses is in :data:`SECRETS`, which the autouse fixture of
conftest.py looks for in every log record.
"""

from __future__ import annotations

import json
import re
import threading
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import parse_qsl

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from support.loopback import LoopbackServer

RECORDED = Path(__file__).resolve().parent / "recorded"
CONTENT_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".form": "application/x-www-form-urlencoded; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

CLIENT_SECRET = "GOCSPX-s3cr3t_Cl1ent-Secret_v4lue"
#: The code verifier of RFC 7636, appendix B, and its S256 challenge.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
CODE = "4/0AQlEd8xTestAuthorizationCode-Zq9WvR2nLk"
BASE_URL = "https://mcp.example.com"

#: Every token, code, verifier and secret of the tests: none may be logged.
SECRETS: set[str] = {CLIENT_SECRET, VERIFIER, CODE}

Handler = t.Callable[[Request], Response]


def _recorded_secrets() -> set[str]:
    found = set()
    for path in RECORDED.glob("*/*"):
        if path.suffix == ".json":
            try:
                document = json.loads(path.read_text())
            except ValueError:
                continue
        elif path.suffix == ".form":
            document = dict(parse_qsl(path.read_text()))
        else:
            continue
        if isinstance(document, dict):
            for name in ("access_token", "refresh_token"):
                if isinstance(document.get(name), str) and document[name]:
                    found.add(document[name])
    return found


SECRETS |= _recorded_secrets()


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> t.Any:
        return json.loads(self.body)


class Upstream:
    """The loopback server; close it with :meth:`close`."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[Seen] = []
        #: Set on close: lets the handlers of :meth:`hang` finish.
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._app)

    @property
    def url(self) -> str:
        return self._server.url

    def local(self, url: str) -> str:
        """Where the real ``url`` is served here."""
        return re.sub(r"^https://", self.url + "/", url)

    def rewrite(self, text: str) -> str:
        """``text`` with every https origin pointing here."""
        return re.sub(r"https://([A-Za-z0-9.-]+)", self.url + r"/\1", text)

    def route(self, method: str, url: str, handler: Handler) -> str:
        local = self.local(url)
        self.routes[(method, local[len(self.url) :])] = handler
        return local

    def reply(
        self,
        method: str,
        url: str,
        body: str | bytes,
        status: int = 200,
        content_type: str = "application/json",
    ) -> str:
        def handler(request: Request) -> Response:
            return Response(body, status, content_type=content_type)

        return self.route(method, url, handler)

    def recorded(
        self,
        method: str,
        url: str,
        name: str,
        status: int = 200,
        *,
        rewrite: bool = False,
        **values: str,
    ) -> str:
        """Answer ``name`` from recorded/, ``{{key}}`` replaced by ``values``."""
        path = RECORDED / name
        text = path.read_text()
        if rewrite:
            text = self.rewrite(text)
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        return self.reply(method, url, text, status, CONTENT_TYPES[path.suffix])

    def hang(self, method: str, url: str) -> str:
        """A route that answers only once the server closes (timeouts)."""

        def handler(request: Request) -> Response:
            self.release.wait(10)
            return Response("{}", 200, content_type="application/json")

        return self.route(method, url, handler)

    def requests_to(self, url: str) -> list[Seen]:
        path = self.local(url)[len(self.url) :]
        with self._lock:
            return [seen for seen in self.seen if seen.path == path]

    def _app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        body = request.get_data()
        seen = Seen(
            method=request.method,
            path=request.path,
            query=dict(request.args),
            headers=dict(request.headers),
            body=body,
            form=dict(parse_qsl(body.decode("latin-1")))
            if request.mimetype == "application/x-www-form-urlencoded"
            else {},
        )
        with self._lock:
            self.seen.append(seen)
        handler = self.routes.get((request.method, request.path))
        response = handler(request) if handler else Response("not found", 404)
        return response(environ, start_response)

    def close(self) -> None:
        self.release.set()
        self._server.close()


class Keys:
    """Test RSA signing keys by ``kid`` (made on first use)."""

    def __init__(self) -> None:
        self._keys: dict[str, RSAKey] = {}

    def key(self, kid: str) -> RSAKey:
        if kid not in self._keys:
            self._keys[kid] = RSAKey.generate_key(
                2048, parameters={"kid": kid}, private=True
            )
        return self._keys[kid]

    def jwks(self, name: str) -> str:
        """The recorded JWK Set ``name``, each key's ``n`` and ``e`` those of
        the test key with its ``kid``."""
        document = json.loads((RECORDED / name).read_text())
        for entry in document["keys"]:
            public = self.key(entry["kid"]).as_dict(private=False)
            entry.update(n=public["n"], e=public["e"])
        return json.dumps(document)

    def sign(self, claims: dict[str, t.Any], kid: str, alg: str = "RS256") -> str:
        header = {"alg": alg, "kid": kid, "typ": "JWT"}
        token = jwt.encode(header, claims, self.key(kid))
        SECRETS.add(token)
        return token


def load(name: str) -> t.Any:
    """The recorded JSON document ``name``."""
    return json.loads((RECORDED / name).read_text())


def claims(name: str, /, **changes: t.Any) -> dict[str, t.Any]:
    """The recorded claims ``name`` issued now; a change to ``None`` removes
    that claim."""
    document: dict[str, t.Any] = json.loads((RECORDED / name).read_text())
    now = int(time.time())
    lifetime = document["exp"] - document["iat"]
    document.update(iat=now, exp=now + lifetime)
    if "nbf" in document:
        document["nbf"] = now
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document
