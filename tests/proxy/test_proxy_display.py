"""Names as the consent page shows them: both forms of an international
host name, and the provider's display name."""

from __future__ import annotations

import pytest

from flask_mcp.auth.providers import GitHubProvider
from flask_mcp.auth.providers import GoogleProvider
from flask_mcp.auth.providers import OAuthProvider
from flask_mcp.auth.proxy.display import provider_display_name
from flask_mcp.auth.proxy.display import shown_host


@pytest.mark.parametrize(
    ("netloc", "text", "ascii_form"),
    [
        ("аpple.com", "аpple.com", "xn--pple-43d.com"),
        ("xn--pple-43d.com", "аpple.com", "xn--pple-43d.com"),
        ("XN--PPLE-43D.com:8443", "аpple.com:8443", "xn--pple-43d.com:8443"),
        ("bücher.example:443", "bücher.example:443", "xn--bcher-kva.example:443"),
        # IDNA 2008, as requests connects: ß is kept, not mapped to ss.
        ("faß.de", "faß.de", "xn--fa-hia.de"),
    ],
)
def test_international_names_have_two_forms(netloc, text, ascii_form):
    shown = shown_host(netloc)
    assert (shown.text, shown.ascii) == (text, ascii_form)
    assert shown.international and shown.ascii_if_different == ascii_form


@pytest.mark.parametrize(
    "netloc", ["apple.com", "localhost:8080", "127.0.0.1:9", "[::1]:8443", "[::1]"]
)
def test_plain_names_have_one(netloc):
    shown = shown_host(netloc)
    assert shown.text == shown.ascii == netloc.lower()
    assert not shown.international and shown.ascii_if_different is None


def test_names_idna_refuses_are_shown_escaped():
    # A label IDNA refuses (a symbol) is still told apart from ASCII.
    shown = shown_host("exa\u2044mple.com")
    assert shown.international
    assert shown.ascii.isascii() and "\\u2044" in shown.ascii
    # An xn-- label that does not decode is shown as the network has it.
    broken = shown_host("xn--zzzz-zzz.com")
    assert broken.text == broken.ascii == "xn--zzzz-zzz.com"


def test_provider_display_names():
    common = {"base_url": "https://mcp.example.com", "client_id": "c"}
    google = GoogleProvider(**common, client_secret="s")
    assert provider_display_name(google) == "Google"
    assert (
        provider_display_name(GitHubProvider(**common, client_secret="s")) == "GitHub"
    )
    generic = OAuthProvider(
        **common,
        client_secret="s",
        authorize_url="https://login.example.org/authorize",
        token_url="https://login.example.org/token",
        name="internal-key",
    )
    assert provider_display_name(generic) == "login.example.org"
    named = OAuthProvider(
        **common,
        client_secret="s",
        authorize_url="https://login.example.org/authorize",
        token_url="https://login.example.org/token",
        display_name="  Acme SSO ",
    )
    assert provider_display_name(named) == "Acme SSO"
