"""An app under a path prefix behind a reverse proxy (``ProxyFix``).

Every URL it advertises (the challenge's ``resource_metadata``, the
discovery documents, the proxy's endpoints) must be one the app itself
serves: the official client completes discovery and registration, and the
authorization URL it gets leads to the consent page.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import anyio
import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull
from mcp.shared.auth import OAuthClientMetadata
from mcp.shared.auth import OAuthToken
from pydantic import AnyUrl

from support import GunicornServer
from support import free_port

APPS = Path(__file__).parent / "apps"


class _Stop(Exception):
    """Raised by the redirect handler: discovery and registration are done."""


class _Storage:
    def __init__(self) -> None:
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        raise AssertionError("no tokens expected")

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[GunicornServer]:
    port = free_port()
    env = {
        "PREFIX_APP_URL": f"http://127.0.0.1:{port}",
        "PREFIX_APP_INSTANCE": str(tmp_path_factory.mktemp("prefix")),
        "MCP_STORE_URL": None,
    }
    with GunicornServer(
        app="prefix_app:create_app()",
        env=env,
        port=port,
        args=("--chdir", str(APPS)),
        ready_path="/tools/.well-known/oauth-protected-resource/mcp",
    ) as srv:
        yield srv
        log = srv.log()
    assert "Traceback" not in log


def test_the_official_client_discovers_and_registers_under_the_prefix(
    server: GunicornServer,
) -> None:
    mcp_url = server.url + "/tools/mcp"
    seen: list[tuple[str, str, int]] = []
    authorization: list[str] = []

    async def record(response: httpx2.Response) -> None:
        seen.append(
            (response.request.method, response.request.url.path, response.status_code)
        )

    async def redirect(url: str) -> None:
        authorization.append(url)
        raise _Stop()

    async def callback() -> tuple[str, str | None]:
        raise AssertionError("not reached")

    storage = _Storage()
    oauth = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="prefix test",
            redirect_uris=[AnyUrl("http://127.0.0.1:9/callback")],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=redirect,
        callback_handler=callback,
    )

    async def main() -> None:
        async with httpx2.AsyncClient(
            auth=oauth, event_hooks={"response": [record]}, timeout=30
        ) as http:
            with pytest.raises(BaseException) as stopped:
                async with Client(streamable_http_client(mcp_url, http_client=http)):
                    pass
            assert _Stop in _causes(stopped.value)

    anyio.run(main)

    # Outside the prefix the client only probed the RFC 8414 and OpenID
    # path-inserted URLs, which no reverse proxy routes to the app; every
    # document it needed was found inside.
    outside = [
        (path, status) for _, path, status in seen if not path.startswith("/tools/")
    ]
    assert outside == [
        ("/.well-known/oauth-authorization-server/tools", 404),
        ("/.well-known/openid-configuration/tools", 404),
    ], seen
    found = {path: status for _, path, status in seen}
    assert found["/tools/.well-known/oauth-protected-resource/mcp"] == 200, seen
    assert found["/tools/.well-known/openid-configuration"] == 200, seen
    assert found["/tools/oauth/register"] == 201, seen
    assert storage.client is not None
    (url,) = authorization
    assert url.startswith(server.url + "/tools/oauth/authorize?")
    # The authorization URL leads to the consent page, inside the app.
    page = requests.get(url, allow_redirects=False, timeout=10)
    assert page.status_code == 302, page.text
    assert page.headers["Location"].startswith("/tools/oauth/consent?txn=")


def test_the_challenge_names_a_metadata_url_the_app_serves(
    server: GunicornServer,
) -> None:
    reply = requests.post(
        server.url + "/tools/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert reply.status_code == 401
    challenge = reply.headers["WWW-Authenticate"]
    metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
    assert (
        metadata_url == server.url + "/tools/.well-known/oauth-protected-resource/mcp"
    )
    document = requests.get(metadata_url, timeout=10).json()
    assert document["resource"] == server.url + "/tools/mcp"
    (issuer,) = document["authorization_servers"]
    assert issuer == server.url + "/tools"
    metadata = requests.get(
        issuer + "/.well-known/openid-configuration", timeout=10
    ).json()
    for key in ("authorization_endpoint", "token_endpoint", "registration_endpoint"):
        assert metadata[key].startswith(server.url + "/tools/oauth/"), metadata[key]


def _causes(error: BaseException) -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        found.add(type(current))
        stack.extend(getattr(current, "exceptions", ()))
        if current.__cause__ is not None:
            stack.append(current.__cause__)
        if current.__context__ is not None:
            stack.append(current.__context__)
    return found
