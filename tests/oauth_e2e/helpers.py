"""Helpers of the OAuth proxy end-to-end tests: the official MCP client's
OAuth plumbing (token storage, redirect and callback handlers), a recorder of
every HTTP exchange it makes, and direct calls to the proxy's endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import typing as t
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlencode
from urllib.parse import urlsplit

import anyio
import httpx2
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult
from mcp.shared.auth import OAuthClientInformationFull
from mcp.shared.auth import OAuthClientMetadata
from mcp.shared.auth import OAuthToken
from pydantic import AnyUrl

from .browser import FlowResult
from .browser import FormBrowser

if t.TYPE_CHECKING:
    from .conftest import Proxy

CLIENT_NAME = "flask_mcp e2e client"

PRM_PATH = "/.well-known/oauth-protected-resource/mcp"
ASM_PATH = "/.well-known/oauth-authorization-server"


def pkce() -> tuple[str, str]:
    """``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# ---------------------------------------------------------------------------
# the official client


class MemoryStorage:
    """``mcp.client.auth.TokenStorage`` in memory, with a history of tokens."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None
        self.token_history: list[OAuthToken] = []

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.token_history.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Exchange:
    """One HTTP request the MCP client sent and the status it got."""

    method: str
    url: str
    status: int
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def bearer(self) -> str | None:
        value = self.request_headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


class Recorder:
    """httpx2 event hook keeping every exchange (auth flow requests included)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    async def __call__(self, response: httpx2.Response) -> None:
        request = response.request
        form: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            from urllib.parse import parse_qsl

            form = dict(parse_qsl(request.content.decode()))
        self.exchanges.append(
            Exchange(
                request.method,
                str(request.url),
                response.status_code,
                {k.lower(): v for k, v in request.headers.items()},
                {k.lower(): v for k, v in response.headers.items()},
                form,
            )
        )

    def at(self, path: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.path == path]

    def summary(self) -> list[tuple[str, str, int]]:
        return [(e.method, e.path, e.status) for e in self.exchanges]


class Authorizer:
    """``redirect_handler`` and ``callback_handler`` of ``OAuthClientProvider``.

    The redirect handler is handed the authorization URL and plays the user in
    a :class:`FormBrowser`: upstream login, consents, until the browser is
    sent to the client's redirect URI. The callback handler returns the
    ``code``, ``state`` and ``iss`` of that redirect. ``between`` callbacks
    (e.g. a gunicorn restart) run before the browser starts (``"authorize"``)
    and after it got the code, before the client redeems it (``"token"``).
    """

    def __init__(
        self,
        browser: FormBrowser,
        redirect_uri: str,
        *,
        between: t.Mapping[str, t.Callable[[], None]] | None = None,
    ) -> None:
        self.browser = browser
        self.redirect_uri = redirect_uri
        self.between = dict(between or {})
        self.authorization_urls: list[str] = []
        self.results: list[FlowResult] = []

    async def redirect(self, authorization_url: str) -> None:
        self.authorization_urls.append(authorization_url)
        if "authorize" in self.between:
            await anyio.to_thread.run_sync(self.between["authorize"])
        result = await anyio.to_thread.run_sync(
            lambda: self.browser.run(authorization_url, stop_at=self.redirect_uri)
        )
        self.results.append(result)
        if "token" in self.between:
            await anyio.to_thread.run_sync(self.between["token"])

    async def callback(self) -> AuthorizationCodeResult:
        params = self.results[-1].params
        if "code" not in params:
            raise AssertionError(f"no code in the redirect: {params}")
        return AuthorizationCodeResult(
            code=params["code"], state=params.get("state"), iss=params.get("iss")
        )


@dataclass
class OfficialClient:
    """The official MCP client with OAuth, and everything it did."""

    oauth: OAuthClientProvider
    storage: MemoryStorage
    authorizer: Authorizer
    recorder: Recorder

    async def call(
        self, mcp_url: str, tool: str, arguments: dict | None = None
    ) -> t.Any:
        async with httpx2.AsyncClient(
            auth=self.oauth,
            timeout=httpx2.Timeout(30),
            event_hooks={"response": [self.recorder]},
        ) as http:
            async with Client(
                streamable_http_client(mcp_url, http_client=http),
                read_timeout_seconds=30,
                cache=None,
            ) as client:
                return await client.call_tool(tool, arguments or {})

    def call_sync(
        self, mcp_url: str, tool: str, arguments: dict | None = None
    ) -> t.Any:
        return anyio.run(self.call, mcp_url, tool, arguments)


def official_client(
    proxy: Proxy,
    redirect_uri: str,
    *,
    between: t.Mapping[str, t.Callable[[], None]] | None = None,
    client_metadata_url: str | None = None,
) -> OfficialClient:
    """The official client; with ``client_metadata_url`` it identifies
    itself by that document (CIMD) instead of registering."""
    storage = MemoryStorage()
    browser = FormBrowser(upstream=proxy.upstream.issuer)
    authorizer = Authorizer(browser, redirect_uri, between=between)
    oauth = OAuthClientProvider(
        server_url=proxy.mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name=CLIENT_NAME,
            redirect_uris=[AnyUrl(redirect_uri)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=authorizer.redirect,
        callback_handler=authorizer.callback,
        client_metadata_url=client_metadata_url,
    )
    return OfficialClient(oauth, storage, authorizer, Recorder())


def tool_text(result: t.Any) -> str:
    """All text content of a ``CallToolResult``, plus its structured content."""
    parts = [getattr(block, "text", "") for block in result.content]
    if getattr(result, "structured_content", None) is not None:
        parts.append(repr(result.structured_content))
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# direct calls to the proxy


def metadata(proxy: Proxy) -> dict[str, t.Any]:
    reply = requests.get(proxy.url + ASM_PATH, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def register(proxy: Proxy, redirect_uri: str, **extra: t.Any) -> dict[str, t.Any]:
    """RFC 7591 registration at the advertised ``registration_endpoint``."""
    body = {
        "client_name": CLIENT_NAME,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **extra,
    }
    reply = requests.post(
        metadata(proxy)["registration_endpoint"], json=body, timeout=10
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def authorize_url(
    proxy: Proxy,
    client: dict[str, t.Any],
    *,
    state: str,
    challenge: str,
    scope: str | None = None,
) -> str:
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": proxy.mcp_url,
    }
    if scope:
        params["scope"] = scope
    return metadata(proxy)["authorization_endpoint"] + "?" + urlencode(params)


def client_auth(
    client: dict[str, t.Any], data: dict[str, str]
) -> tuple[dict[str, str], tuple[str, str] | None]:
    """Form data and HTTP Basic credentials per the client's registered method."""
    method = client.get("token_endpoint_auth_method", "client_secret_basic")
    if method == "client_secret_basic":
        return data, (client["client_id"], client["client_secret"])
    data = data | {"client_id": client["client_id"]}
    if method == "client_secret_post":
        data["client_secret"] = client["client_secret"]
    return data, None


def token_call(
    proxy: Proxy, client: dict[str, t.Any], data: dict[str, str]
) -> requests.Response:
    form, basic = client_auth(client, data)
    return requests.post(
        metadata(proxy)["token_endpoint"], data=form, auth=basic, timeout=10
    )


def revoke_call(
    proxy: Proxy, client: dict[str, t.Any], token: str, hint: str | None = None
) -> requests.Response:
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    form, basic = client_auth(client, data)
    return requests.post(
        metadata(proxy)["revocation_endpoint"], data=form, auth=basic, timeout=10
    )


def mcp_post(proxy: Proxy, access_token: str | None) -> requests.Response:
    """A bare ``initialize`` POST to /mcp with this bearer token."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "oauth-e2e", "version": "1"},
        },
    }
    return requests.post(proxy.mcp_url, json=body, headers=headers, timeout=10)
