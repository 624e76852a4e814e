"""The OAuth proxy behind nginx under a path prefix: the recipe of
docs/discovery.rst ("Behind a path prefix"), run as documented.

gunicorn serves ``docs/examples/prefix_app.py`` (copied into a temporary
folder, its instance folder); a real nginx serves
``docs/examples/nginx_prefix.conf`` (only its ports changed) at
``http://127.0.0.1:PORT/tools``; the upstream is the Python test issuer.
Three real clients sign in through their own OAuth code and call a tool:
the official Python client, the TypeScript SDK client and the Inspector
CLI. Every discovery document a client may try is either served complete
and valid for its kind, or not found; never a 5xx.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
import typing as t
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from flask_mcp.auth.metadata import AuthorizationServerMetadata
from flask_mcp.auth.metadata import ProtectedResourceMetadata
from support import GunicornServer
from support import free_port
from support import node_bin
from support.nginx import NginxServer
from support.oidc import OIDCIssuer

from .browser import FormBrowser
from .browser import RedirectCatcher
from .helpers import official_client
from .helpers import tool_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "examples"
HERE = Path(__file__).resolve().parent
INSPECTOR = (
    Path(__file__).resolve().parents[2]
    / "tools/node_modules/@modelcontextprotocol/inspector"
    / "clients/launcher/build/index.js"
)
PREFIX = "/tools"
SUBJECT = "johndoe"


class Deployment(t.NamedTuple):
    public: str  # http://127.0.0.1:PORT/tools
    issuer: OIDCIssuer
    nginx: NginxServer
    app: GunicornServer

    @property
    def mcp_url(self) -> str:
        return self.public + "/mcp"

    @property
    def origin(self) -> str:
        return self.nginx.url


def nginx_config(app_port: int) -> str:
    """The documented configuration, listening and proxying on test ports."""
    text = (DOCS / "nginx_prefix.conf").read_text()
    assert "listen 80;" in text and "server 127.0.0.1:8000;" in text
    return text.replace("listen 80;", "listen 127.0.0.1:{port};").replace(
        "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("prefix-app")
    shutil.copy(DOCS / "prefix_app.py", folder / "prefix_app.py")
    app_port = free_port()
    with OIDCIssuer() as issuer:
        nginx = NginxServer(nginx_config(app_port), tmp_path_factory.mktemp("nginx"))
        public = nginx.url + PREFIX
        env = {
            "PUBLIC_URL": public,
            "OIDC_ISSUER": issuer.issuer,
            "OIDC_CLIENT_ID": "prefix-app",
            "OIDC_CLIENT_SECRET": "prefix-app-secret",
            "REDIS_URL": None,
            "MCP_STORE_URL": None,
        }
        with (
            GunicornServer(
                app="prefix_app:app",
                env=env,
                port=app_port,
                args=("--chdir", str(folder)),
                clean_log=True,
            ) as app,
            nginx,
        ):
            yield Deployment(public, issuer, nginx, app)
            log = app.log()
    assert "Traceback" not in log


def get(deployment: Deployment, path: str) -> requests.Response:
    return requests.get(deployment.origin + path, timeout=10)


# -- the documents ----------------------------------------------------------------


def test_every_discovery_document_is_complete_or_absent(deployment: Deployment) -> None:
    public = deployment.public
    for path in (
        "/.well-known/oauth-protected-resource/tools/mcp",  # RFC 9728 form
        "/tools/.well-known/oauth-protected-resource/mcp",  # resource_metadata
    ):
        reply = get(deployment, path)
        assert reply.status_code == 200, (path, reply.text)
        document = ProtectedResourceMetadata(reply.json())
        document.validate()
        assert document["resource"] == public + "/mcp"
        assert document["authorization_servers"] == [public]
    reply = get(deployment, "/.well-known/oauth-authorization-server/tools")
    assert reply.status_code == 200, reply.text
    metadata = AuthorizationServerMetadata(reply.json())
    metadata.validate()
    assert metadata["issuer"] == public
    for name in ("authorization_endpoint", "token_endpoint", "registration_endpoint"):
        assert metadata[name].startswith(public + "/oauth/"), metadata[name]
    # Not an OpenID Provider: no OpenID configuration anywhere, and nothing
    # at the root that belongs to another app.
    for path in (
        "/.well-known/openid-configuration/tools",
        "/tools/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
        "/.well-known/openid-configuration",
    ):
        assert get(deployment, path).status_code == 404, path


def test_the_challenge_names_the_prefixed_document(deployment: Deployment) -> None:
    reply = requests.post(
        deployment.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert reply.status_code == 401
    challenge = reply.headers["WWW-Authenticate"]
    assert (
        f'resource_metadata="{deployment.public}/.well-known/'
        'oauth-protected-resource/mcp"' in challenge
    )


def test_a_client_looking_under_the_prefix_is_hinted_in_the_log(
    deployment: Deployment,
) -> None:
    assert get(deployment, "/tools/.well-known/openid-configuration").status_code == 404
    assert "route that path to this app" in deployment.app.log()


# -- three clients ------------------------------------------------------------------


def _no_server_errors(statuses: t.Iterable[tuple[int, str]]) -> None:
    errors = [(status, url) for status, url in statuses if status >= 500]
    assert errors == [], errors


def test_the_official_python_client(deployment: Deployment) -> None:
    with RedirectCatcher() as catcher:
        proxy = SimpleNamespace(
            mcp_url=deployment.mcp_url,
            upstream=SimpleNamespace(issuer=deployment.issuer.url),
        )
        client = official_client(t.cast(t.Any, proxy), catcher.redirect_uri)
        result = client.call_sync(deployment.mcp_url, "whoami")
    assert SUBJECT in tool_text(result)
    seen = [(e.status, e.url) for e in client.recorder.exchanges]
    _no_server_errors(seen)
    paths = [(urlsplit(url).path, status) for status, url in seen]
    assert ("/.well-known/oauth-authorization-server/tools", 200) in paths, paths
    assert ("/tools/oauth/register", 201) in paths
    assert ("/tools/oauth/token", 200) in paths


class _Lines:
    """The lines a process writes, read in a thread, waited for with a bound."""

    def __init__(self, stream: t.IO[str]) -> None:
        self.all: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        thread.start()

    def _read(self, stream: t.IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, test: t.Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "timed out; output so far:\n" + "\n".join(self.all)
                )
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("the process ended:\n" + "\n".join(self.all))
            self.all.append(line)
            if test(line):
                return line

    def rest(self, timeout: float = 30) -> list[str]:
        """Every line until the stream ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line is None:
                break
            self.all.append(line)
        return self.all


def _stop(process: subprocess.Popen[str], lines: _Lines) -> None:
    """End ``process`` (killed if still running), read the rest of its
    output, close its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait()
    lines.rest(10)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def _sign_in(deployment: Deployment, url: str, stop_at: str) -> str:
    """Play the user: consent, upstream login; the URL the browser is sent
    back to (the client's redirect URI with the code)."""
    with FormBrowser(upstream=deployment.issuer.url) as browser:
        return browser.run(url, stop_at=stop_at).location


@pytest.mark.node
def test_the_typescript_sdk_client(deployment: Deployment) -> None:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    process = subprocess.Popen(
        [
            node_bin(),
            str(HERE / "ts_client.mjs"),
            deployment.mcp_url,
            redirect_uri,
            "whoami",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    lines = _Lines(process.stdout)
    try:
        authorize = lines.until(lambda line: line.startswith(("AUTHORIZE ", "ERROR ")))
        assert authorize.startswith("AUTHORIZE "), "\n".join(lines.all)
        back = _sign_in(deployment, authorize.split(" ", 1)[1], redirect_uri)
        code = parse_qs(urlsplit(back).query)["code"][0]
        process.stdin.write(code + "\n")
        process.stdin.flush()
        done = lines.until(lambda line: line.startswith(("RESULT ", "ERROR ")))
        assert done.startswith("RESULT "), "\n".join(lines.all)
        assert process.wait(30) == 0
    finally:
        _stop(process, lines)
    result = json.loads(done.split(" ", 1)[1])
    assert SUBJECT in json.dumps(result)
    fetches = [line.split(" ", 3) for line in lines.all if line.startswith("FETCH ")]
    seen = [(int(status), url) for _, status, _, url in fetches]
    _no_server_errors(seen)
    # It read the RFC 8414 document at the root form, nginx routing it.
    urls = {url: status for status, url in seen}
    assert (
        urls[deployment.origin + "/.well-known/oauth-authorization-server/tools"] == 200
    )
    assert any(url.endswith("/tools/oauth/token") and s == 200 for s, url in seen)


@pytest.mark.node
def test_the_inspector_cli(deployment: Deployment, tmp_path: Path) -> None:
    callback = f"http://127.0.0.1:{free_port()}/oauth/callback"
    home = tmp_path / "home"
    home.mkdir()
    process = subprocess.Popen(
        [
            node_bin(),
            str(INSPECTOR),
            "--cli",
            deployment.mcp_url,
            "--transport",
            "http",
            "--method",
            "tools/call",
            "--tool-name",
            "whoami",
            "--callback-url",
            callback,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            "HOME": str(home),
            "PATH": str(Path(node_bin()).parent),
            "MCP_AUTO_OPEN_ENABLED": "true",  # no TTY here; no browser either
            "MCP_CLIENT_CONFIG_PATH": str(home / "client.json"),
            "MCP_CATALOG_PATH": str(home / "catalog.json"),
            "NO_COLOR": "1",
        },
    )
    assert process.stdout is not None
    lines = _Lines(process.stdout)
    try:
        prompt = lines.until(lambda line: "Please navigate to:" in line, timeout=90)
        url = prompt.split("Please navigate to:", 1)[1].strip()
        back = _sign_in(deployment, url, callback)
        # The browser arrives at the Inspector's own callback listener.
        assert requests.get(back, timeout=30).status_code < 400
        status = process.wait(90)
    finally:
        _stop(process, lines)
    output = "\n".join(lines.all)
    assert status == 0, output
    assert SUBJECT in output, output
