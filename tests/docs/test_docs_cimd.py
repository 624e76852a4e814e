"""The client metadata document shown in the proxy guide is one the proxy accepts."""

from __future__ import annotations

import json
from pathlib import Path

from flask_mcp.auth.proxy import OAuthLimits
from flask_mcp.auth.proxy.cimd.document import check_client_id
from flask_mcp.auth.proxy.cimd.document import check_document

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def test_the_guide_s_document_passes_the_proxy_s_checks() -> None:
    document = json.loads((EXAMPLES / "cimd_client.json").read_text())
    assert check_client_id(document["client_id"], 2048) == "app.example.com"
    checked = check_document(
        document["client_id"],
        document,
        server_metadata={"scopes_supported": ["mcp:read"]},
        patterns=None,
        limits=OAuthLimits(),
    )
    assert checked["client_name"] == "Example MCP Client"
    assert checked["token_endpoint_auth_method"] == "none"
