"""The settings of Client ID Metadata Documents: ``OAuthProxy(cimd=...)``
or the ``MCP_OAUTH_CIMD_*`` keys of the app config."""

from __future__ import annotations

import pytest

from flask_mcp.auth.proxy import CIMDOptions

from .flow import pkce
from .test_proxy_cimd_flow import client_of


def test_config_keys_reach_the_fetch(make_app, make_flow, documents, doc_path, caplog):
    config = {"MCP_OAUTH_CIMD_ALLOW_HOSTS": "localhost", "MCP_OAUTH_CIMD_MAX_SIZE": 100}
    flow = make_flow(make_app(config=config))
    url = documents.document(doc_path)
    page = flow.authorize(client_of(url), challenge=pkce()[1])
    assert page.status == 400 and "cannot be used" in page.text
    assert "larger than 100 bytes" in caplog.text


def test_an_explicit_argument_wins_over_the_config(
    make_app, make_flow, documents, doc_path
):
    flow = make_flow(
        make_app(
            cimd=CIMDOptions(allow_hosts=("localhost",)),
            config={"MCP_OAUTH_CIMD_ENABLED": False},
        )
    )
    url = documents.document(doc_path)
    assert flow.authorize(client_of(url), challenge=pkce()[1]).status == 302


def test_from_config():
    options = CIMDOptions.from_config(
        {
            "MCP_OAUTH_CIMD_ENABLED": True,
            "MCP_OAUTH_CIMD_ALLOW_HOSTS": ["Localhost.", "10.0.0.0/8", "[::1]"],
            "MCP_OAUTH_CIMD_MIN_CACHE": 10,
            "MCP_OAUTH_CIMD_MAX_CACHE": 20,
            "MCP_OAUTH_CIMD_TIMEOUT": 1.5,
            "MCP_OAUTH_CIMD_MAX_SIZE": 1000,
            "MCP_OAUTH_CIMD_FETCHES_PER_MINUTE": 0,
            "MCP_OAUTH_OTHER": "ignored",
        }
    )
    assert options.allowed_names() == {"localhost"}
    assert [str(n) for n in options.allowed_networks()] == ["10.0.0.0/8", "::1/128"]
    assert (options.min_cache, options.max_cache, options.timeout) == (10, 20, 1.5)
    assert (options.max_size, options.fetches_per_minute) == (1000, 0)
    assert CIMDOptions.from_config({}) == CIMDOptions()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"enabled": "yes"}, "enabled"),
        ({"allow_hosts": ("bad host",)}, "allow_hosts"),
        ({"allow_hosts": (1,)}, "allow_hosts"),
        ({"min_cache": 0}, "min_cache"),
        ({"min_cache": 100, "max_cache": 10}, "max_cache"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 61}, "timeout"),
        ({"max_size": True}, "max_size"),
        ({"fetches_per_minute": -1}, "fetches_per_minute"),
    ],
)
def test_bad_values_name_their_field(values, field):
    with pytest.raises(ValueError, match=f"CIMDOptions.{field}"):
        CIMDOptions(**values)
