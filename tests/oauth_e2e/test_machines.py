"""Sign-in without a browser, end to end: the official MCP client (PyPI
``mcp``) through enterprise-managed authorization (``EXAMPLE_IDJAG_ISSUER``,
``IdentityAssertionOAuthProvider``) and the client credentials grant
(``ClientCredentialsOAuthProvider``), against the example app on two hosts
(two gunicorn servers with two workers each, one Redis, the same keys)
behind nginx as their load balancer, the deployment's one public URL.

The enterprise IdP is the test issuer (``support.oidc``): the client gets
its ID-JAG there with the token exchange of leg 1, as a real one would. An
ID-JAG is good for one token request on every worker of every host: a
replay at the other host is refused.
"""

from __future__ import annotations

import base64
import json
import os
import typing as t

import anyio
import httpx2
import pytest
import requests
from joserfc.jwk import ECKey
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.auth.extensions.identity_assertion import IdentityAssertionOAuthProvider
from mcp.client.streamable_http import streamable_http_client

from support import GunicornServer
from support import free_port
from support.nginx import NginxServer
from support.oidc import ID_JAG_TOKEN_TYPE
from support.oidc import ID_TOKEN_TYPE
from support.oidc import TOKEN_EXCHANGE
from support.oidc import OIDCIssuer

from .helpers import MemoryStorage
from .helpers import Recorder
from .helpers import tool_text

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REGISTRATION_TOKEN = "e2e-registration-token"


@pytest.fixture(scope="module")
def idp() -> t.Iterator[OIDCIssuer]:
    with OIDCIssuer() as server:
        yield server


class Deployment(t.NamedTuple):
    """The public URL (nginx) and the two hosts behind it."""

    url: str
    hosts: list[GunicornServer]

    @property
    def mcp_url(self) -> str:
        return self.url + "/mcp"


@pytest.fixture(scope="module")
def deployment(
    idp: OIDCIssuer, redis_server: t.Any, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[Deployment]:
    """Two hosts of one deployment: own ports and instance folders, one
    Redis, the same configured keys, behind one nginx."""
    redis_server.flushall()
    keys = {
        "MCP_OAUTH_SIGNING_KEYS": json.dumps(
            [ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True)]
        ),
        "MCP_OAUTH_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    ports = [free_port(), free_port()]
    balancer = NginxServer(
        "upstream hosts {\n"
        + "".join(f"    server 127.0.0.1:{port};\n" for port in ports)
        + "}\n"
        "server {\n"
        "    listen 127.0.0.1:{port};\n"
        "    location / {\n"
        "        proxy_pass http://hosts;\n"
        "        proxy_set_header Host $http_host;\n"
        "        proxy_http_version 1.1;\n"
        "        proxy_buffering off;\n"
        "    }\n"
        "}\n",
        tmp_path_factory.mktemp("balancer"),
    )
    servers: list[GunicornServer] = []
    try:
        for port in ports:
            env: dict[str, str | None] = {
                "MCP_STORE_URL": redis_server.url,
                # Never contacted here: the proxy needs an upstream provider.
                "EXAMPLE_OIDC_ISSUER": idp.issuer,
                "EXAMPLE_OIDC_CLIENT_ID": "unused",
                "EXAMPLE_OIDC_CLIENT_SECRET": "unused",
                # The public URL: its host is allowed without MCP_ALLOWED_HOSTS.
                "EXAMPLE_BASE_URL": balancer.url,
                "EXAMPLE_IDJAG_ISSUER": idp.issuer,
                "EXAMPLE_INSTANCE_PATH": str(tmp_path_factory.mktemp("host")),
                "MCP_OAUTH_CLIENT_CREDENTIALS": "true",
                "MCP_OAUTH_REGISTRATION_TOKEN": REGISTRATION_TOKEN,
                "EXAMPLE_API_KEYS": None,
                "EXAMPLE_JWT_ISSUER": None,
                **keys,
            }
            server = GunicornServer(env=env, port=port, clean_log=True)
            server.__enter__()
            servers.append(server)
        with balancer:
            yield Deployment(balancer.url, servers)
    finally:
        for server in reversed(servers):
            server.__exit__(None, None, None)


def register(url: str, **metadata: t.Any) -> dict[str, t.Any]:
    reply = requests.post(
        url + "/oauth/register",
        json=metadata,
        headers={"Authorization": f"Bearer {REGISTRATION_TOKEN}"},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    return t.cast(dict[str, t.Any], reply.json())


async def _call(
    auth: httpx2.Auth, mcp_url: str, recorder: Recorder
) -> tuple[t.Any, t.Any]:
    async with httpx2.AsyncClient(
        auth=auth, timeout=httpx2.Timeout(30), event_hooks={"response": [recorder]}
    ) as http:
        async with Client(
            streamable_http_client(mcp_url, http_client=http),
            read_timeout_seconds=30,
            cache=None,
        ) as client:
            whoami = await client.call_tool("whoami", {})
            data = await client.call_tool("read_data", {})
            return whoami, data


def test_the_official_client_signs_in_with_an_id_jag(
    deployment: Deployment, idp: OIDCIssuer
) -> None:
    client = register(
        deployment.url,
        client_name="Corp assistant",
        grant_types=[JWT_BEARER],
        token_endpoint_auth_method="client_secret_post",
    )
    # The user signed in to the assistant at the company's IdP: an ID token.
    id_token = idp.mint({"sub": "alice@corp", "aud": "corp-assistant"})
    minted: list[str] = []

    async def fetch_id_jag(audience: str, resource: str) -> str:
        # Leg 1: the token exchange at the IdP, where its policy decides.
        reply = requests.post(
            idp.url + "/token",
            data={
                "grant_type": TOKEN_EXCHANGE,
                "requested_token_type": ID_JAG_TOKEN_TYPE,
                "audience": audience,
                "resource": resource,
                "scope": "data:read",
                "subject_token": id_token,
                "subject_token_type": ID_TOKEN_TYPE,
                "client_id_at_audience": client["client_id"],
            },
            auth=("corp-assistant", "assistant-secret-at-the-idp"),
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        minted.append(reply.json()["access_token"])
        return minted[-1]

    for _ in range(2):  # two clients, each with its own assertion
        recorder = Recorder()
        provider = IdentityAssertionOAuthProvider(
            server_url=deployment.mcp_url,
            storage=MemoryStorage(),
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            issuer=deployment.url,
            assertion_provider=fetch_id_jag,
        )
        whoami, data = anyio.run(_call, provider, deployment.mcp_url, recorder)
        assert "alice@corp" in tool_text(whoami)
        assert "alice@corp" in tool_text(data)  # data:read was granted
        grants = [
            e for e in recorder.exchanges if e.form.get("grant_type") == JWT_BEARER
        ]
        assert [e.status for e in grants] == [200]
    # A used assertion replayed at either host is refused (one Redis).
    assert len(minted) == 2
    for host in deployment.hosts:
        replay = requests.post(
            f"{host.url}/oauth/token",
            data={
                "grant_type": JWT_BEARER,
                "assertion": minted[0],
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
            headers={"Host": deployment.url.split("//")[1]},
            timeout=30,
        )
        assert replay.status_code == 400
        assert replay.json()["error"] == "invalid_grant"
        assert "already used" in replay.json()["error_description"]
        assert "access_token" not in replay.json()


def test_an_id_jag_is_used_once_across_hosts_and_workers(
    deployment: Deployment, idp: OIDCIssuer
) -> None:
    """The same assertion sent to both hosts at once, several times: one 200."""
    from concurrent.futures import ThreadPoolExecutor

    public = deployment.url
    client = register(
        public,
        grant_types=[JWT_BEARER],
        token_endpoint_auth_method="client_secret_post",
    )
    assertion = idp.mint(
        {
            "sub": "bob@corp",
            "aud": public,
            "client_id": client["client_id"],
            "resource": public + "/mcp",
            "jti": "one-use-only",
        },
        {"typ": "oauth-id-jag+jwt"},
        expires_in=300,
    )
    data = {
        "grant_type": JWT_BEARER,
        "assertion": assertion,
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    urls = [f"{host.url}/oauth/token" for host in deployment.hosts] * 4
    headers = {"Host": public.split("//")[1]}
    with ThreadPoolExecutor(len(urls)) as pool:
        replies = list(
            pool.map(
                lambda url: requests.post(url, data=data, headers=headers, timeout=30),
                urls,
            )
        )
    assert sorted(r.status_code for r in replies) == [200] + [400] * (len(urls) - 1)
    assert all(
        r.json()["error"] == "invalid_grant" for r in replies if r.status_code != 200
    )


def test_the_official_client_as_a_machine_client(deployment: Deployment) -> None:
    public = deployment.url
    client = register(
        public,
        client_name="nightly job",
        grant_types=["client_credentials"],
        token_endpoint_auth_method="client_secret_basic",
        scope="data:read",
    )
    for _ in range(2):
        recorder = Recorder()
        provider = ClientCredentialsOAuthProvider(
            server_url=deployment.mcp_url,
            storage=MemoryStorage(),
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            scope="data:read",
            issuer=public,
        )
        whoami, data = anyio.run(_call, provider, deployment.mcp_url, recorder)
        assert client["client_id"] in tool_text(whoami)
        assert client["client_id"] in tool_text(data)
        grants = [
            e
            for e in recorder.exchanges
            if e.form.get("grant_type") == "client_credentials"
        ]
        assert [e.status for e in grants] == [200]
    # Without the registration token, no machine client.
    refused = requests.post(
        public + "/oauth/register",
        json={"grant_types": ["client_credentials"], "scope": "data:read"},
        timeout=30,
    )
    assert refused.status_code == 401
