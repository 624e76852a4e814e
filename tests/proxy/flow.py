"""Drive the proxy as an MCP client and a user's browser would.

:class:`Flow` works over Flask's test client (:class:`FlaskHttp`) or a real
server (:class:`RequestsHttp`); the upstream is always reached over real HTTP
(``requests``), its ``/authorize`` redirecting straight back with a code.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import typing as t
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def pkce() -> tuple[str, str]:
    """``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query(location: str) -> dict[str, str]:
    """The query parameters of a URL, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def hidden(html: str, name: str) -> str:
    """The value of a hidden form field."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name!r} in the page"
    return found.group(1)


@dataclass
class Reply:
    status: int
    headers: t.Mapping[str, str]
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def json(self) -> t.Any:
        import json

        return json.loads(self.text)


class FlaskHttp:
    """Flask's test client as the client and the browser (one cookie jar)."""

    def __init__(self, client: t.Any) -> None:
        self.client = client

    def request(self, method: str, url: str, **kwargs: t.Any) -> Reply:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        auth = kwargs.pop("auth", None)
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            raw = f"{auth[0]}:{auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        return Reply(response.status_code, response.headers, response.get_data(True))


class RequestsHttp:
    """A real server through ``requests`` (one session: one browser)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, url: str, **kwargs: t.Any) -> Reply:
        if url.startswith("/"):
            url = self.base_url + url
        if "query_string" in kwargs:
            url += "?" + urlencode(kwargs.pop("query_string"))
        response = self.session.request(
            method, url, allow_redirects=False, timeout=30, **kwargs
        )
        return Reply(response.status_code, response.headers, response.text)


@dataclass
class Login:
    """The result of an authorization request: the redirect to the client."""

    client: dict[str, t.Any]
    verifier: str
    state: str
    reply: Reply
    params: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.params["code"]


class Flow:
    """One MCP client (registered on demand) and its user's browser."""

    def __init__(self, http: FlaskHttp | RequestsHttp, resource: str) -> None:
        self.http = http
        self.resource = resource
        self.upstream = requests.Session()

    def get(self, url: str, **kwargs: t.Any) -> Reply:
        return self.http.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: t.Any) -> Reply:
        return self.http.request("POST", url, **kwargs)

    def register(self, expect: int = 201, **metadata: t.Any) -> dict[str, t.Any]:
        body = {
            "client_name": "Test Client",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            **metadata,
        }
        reply = self.post("/oauth/register", json=body)
        assert reply.status == expect, reply.text
        return t.cast(dict[str, t.Any], reply.json())

    def authorize(
        self, client: dict[str, t.Any], *, challenge: str | None = None, **params: t.Any
    ) -> Reply:
        query_params = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": client["redirect_uris"][0],
            "state": "client-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": self.resource,
            "scope": "mcp:read",
            **params,
        }
        return self.get(
            "/oauth/authorize",
            query_string={k: v for k, v in query_params.items() if v is not None},
        )

    def consent(
        self, reply: Reply, decision: str = "approve", remember: bool = False
    ) -> Reply:
        """Load the consent page ``reply`` redirects to and answer it."""
        page = self.get(reply.location)
        assert page.status == 200, page.text
        form = {
            "txn": hidden(page.text, "txn"),
            "csrf_token": hidden(page.text, "csrf_token"),
            "action": decision,
        }
        if remember:
            form["remember"] = "1"
        return self.post("/oauth/consent", data=form)

    def through_upstream(self, reply: Reply) -> Reply:
        """Follow the redirect to the upstream and its redirect back."""
        upstream = self.upstream.get(reply.location, allow_redirects=False, timeout=10)
        assert upstream.status_code == 302, upstream.text
        return self.get(upstream.headers["Location"])

    def login(
        self,
        client: dict[str, t.Any] | None = None,
        *,
        remember: bool = False,
        **params: t.Any,
    ) -> Login:
        """A full authorization: consent (unless remembered), upstream, callback."""
        client = client or self.register()
        verifier, challenge = pkce()
        params.setdefault("state", secrets.token_urlsafe(8))
        reply = self.authorize(client, challenge=challenge, **params)
        assert reply.status == 302, reply.text
        if "/oauth/consent" in reply.location:
            reply = self.consent(reply, remember=remember)
            assert reply.status in (302, 303), reply.text
        done = self.through_upstream(reply)
        assert done.status == 302, done.text
        return Login(client, verifier, params["state"], done, query(done.location))

    def token(self, login: Login, **form: t.Any) -> Reply:
        client = login.client
        data = {
            "grant_type": "authorization_code",
            "code": login.code,
            "redirect_uri": client["redirect_uris"][0],
            "code_verifier": login.verifier,
            "client_id": client["client_id"],
            **form,
        }
        return self.post("/oauth/token", **_send(client, data))

    def tokens(
        self, client: dict[str, t.Any] | None = None, **params: t.Any
    ) -> dict[str, t.Any]:
        login = self.login(client, **params)
        reply = self.token(login)
        assert reply.status == 200, reply.text
        return dict(reply.json(), client=login.client)

    def refresh(
        self, client: dict[str, t.Any], refresh_token: str, **form: t.Any
    ) -> Reply:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client["client_id"],
            **form,
        }
        return self.post("/oauth/token", **_send(client, data))

    def revoke(self, client: dict[str, t.Any], token: str, **form: t.Any) -> Reply:
        data = {"token": token, "client_id": client["client_id"], **form}
        return self.post("/oauth/revoke", **_send(client, data))

    def whoami(self, access_token: str) -> Reply:
        return self.get("/whoami", headers={"Authorization": f"Bearer {access_token}"})


def _send(client: dict[str, t.Any], data: dict[str, t.Any]) -> dict[str, t.Any]:
    """Request arguments carrying the client's credentials as it registered."""
    data = {k: v for k, v in data.items() if v is not None}
    secret = data.pop("client_secret", client.get("client_secret"))
    method = client.get("token_endpoint_auth_method", "client_secret_basic")
    if secret and method == "client_secret_post":
        return {"data": {**data, "client_secret": secret}}
    if secret:
        data.pop("client_id", None)
        return {"data": data, "auth": (client["client_id"], secret)}
    return {"data": data}
