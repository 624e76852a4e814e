"""A worker imports only what it uses (issue 14: worker memory).

Measured in a fresh interpreter: an app whose tools are plain ``def`` with
scalar arguments, behind JWT verification, serves calls without importing
asyncio, jsonschema, marshmallow, apispec or requests; each comes in when
something needs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from flask_mcp.auth.discovery import DiscoveryDocumentCache
from flask_mcp.auth.discovery import DiscoveryError

PROGRAM = textwrap.dedent(
    """
    import json, sys
    from flask import Flask
    from flask_mcp import FlaskMCP
    from flask_mcp.auth import JWTVerifier, bearer_auth

    app = Flask("lazy", instance_path=sys.argv[1])
    app.config["MCP_STATELESS"] = True
    verifier = JWTVerifier(issuer="https://issuer.example", audience="a",
                           jwks_uri="https://issuer.example/jwks")
    mcp = FlaskMCP(app, authenticate=bearer_auth(verifier))

    @mcp.tool()
    def add(a: int, b: int) -> int:
        "Add."
        return a + b

    headers = {"Accept": "application/json, text/event-stream",
               "Content-Type": "application/json",
               "MCP-Protocol-Version": "2025-11-25",
               "Authorization": "Bearer not-a-token"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}
    status = app.test_client().post("/mcp", json=body, headers=headers).status_code
    heavy = ["asyncio", "jsonschema", "marshmallow", "apispec", "requests"]
    print(json.dumps({"status": status,
                      "loaded": [m for m in heavy if m in sys.modules]}))
    """
)


def test_an_everyday_worker_leaves_heavy_modules_unloaded(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"status": 401, "loaded": []}, done.stderr


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "data:application/json,{}", "ftp://example.com/x"]
)
def test_documents_come_over_http_only(url: str) -> None:
    """The standard-library fetch refuses what requests would refuse."""
    with pytest.raises(DiscoveryError) as refused:
        DiscoveryDocumentCache().get(url)
    assert "not an http or https URL" in str(refused.value)
