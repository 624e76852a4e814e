"""The consent page: shown before any upstream redirect, CSRF-protected,
unframeable, works without JavaScript; approvals remembered and forgotten."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest
from jinja2 import ChoiceLoader
from jinja2 import DictLoader

from .conftest import BASE_URL
from .conftest import MCP_URL
from .flow import hidden
from .flow import pkce
from .flow import query


def start(flow, client, **params):
    reply = flow.authorize(client, challenge=pkce()[1], state="s1", **params)
    assert reply.status == 302 and "/oauth/consent?txn=" in reply.location
    return reply


def test_page_shows_client_redirect_host_and_scopes(app, flow):
    client = flow.register(
        client_name="<b>Evil</b> & Co", redirect_uris=["https://app.example.com/cb"]
    )
    page = flow.get(start(flow, client, scope="mcp:read mcp:write").location)
    assert page.status == 200
    assert html.escape("<b>Evil</b> & Co") in page.text
    assert "<b>Evil</b>" not in page.text
    assert '<strong class="host">app.example.com</strong>' in page.text
    assert "https://app.example.com/cb" in page.text
    assert (
        "<code>mcp:read</code>" in page.text and "<code>mcp:write</code>" in page.text
    )
    # The provider by its display name (none set: the host of its sign-in
    # page), never by the internal name that keys the store.
    upstream_host = urlsplit(app.extensions["proxy_test"].provider.authorize_url).netloc
    assert f"sign in with <strong>{upstream_host}</strong>" in page.text
    assert "mock-upstream" not in page.text
    assert client["client_id"] in page.text
    # The endpoint the client asks for.
    assert f"the MCP server at <code>{MCP_URL}</code>" in page.text


def test_page_headers(flow):
    client = flow.register()
    page = flow.get(start(flow, client).location)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_plain_html_form_without_javascript(flow):
    client = flow.register()
    page = flow.get(start(flow, client).location)
    assert "<script" not in page.text
    assert '<form method="post" action="/oauth/consent">' in page.text
    assert 'name="action" value="approve"' in page.text
    assert 'name="action" value="deny"' in page.text
    assert 'type="hidden" name="csrf_token"' in page.text


def test_deny_redirects_access_denied(flow, upstream):
    client = flow.register()
    before = upstream.stats()["authorize"]
    reply = flow.consent(start(flow, client), decision="deny")
    assert reply.status == 302
    assert reply.location.startswith(client["redirect_uris"][0] + "?")
    assert query(reply.location) == {
        "error": "access_denied",
        "error_description": (
            "The resource owner or authorization server denied the request"
        ),
        "state": "s1",
        "iss": BASE_URL,
    }
    assert upstream.stats()["authorize"] == before


def test_approve_goes_upstream_with_its_own_state_and_pkce(flow, upstream):
    client = flow.register()
    verifier, challenge = pkce()
    reply = flow.authorize(client, challenge=challenge, state="s1")
    reply = flow.consent(reply)
    assert reply.status == 303
    assert reply.location.startswith(upstream.url + "/authorize?")
    params = query(reply.location)
    assert params["redirect_uri"] == BASE_URL + "/oauth/callback"
    assert params["client_id"] == "proxy-upstream-client"
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] != challenge
    assert params["state"] != "s1" and len(params["state"]) >= 32


def _form(page, **overrides):
    form = {
        "txn": hidden(page.text, "txn"),
        "csrf_token": hidden(page.text, "csrf_token"),
        "action": "approve",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_csrf_token_missing_or_stale(flow, upstream):
    client = flow.register()
    old_page = flow.get(start(flow, client).location)
    old_form = _form(old_page)
    page = flow.get(start(flow, client).location)
    before = upstream.stats()["authorize"]
    for form in (
        _form(page, csrf_token=None),
        _form(page, csrf_token=""),
        _form(page, csrf_token=old_form["csrf_token"]),  # another request's token
        _form(page, csrf_token=old_form["csrf_token"][:-2] + "xx"),
    ):
        reply = flow.post("/oauth/consent", data=form)
        assert reply.status == 403
        assert "Location" not in reply.headers
        assert "CSRF" in reply.text
    assert upstream.stats()["authorize"] == before
    # The genuine form still works, once.
    reply = flow.post("/oauth/consent", data=_form(page))
    assert reply.status == 303
    again = flow.post("/oauth/consent", data=_form(page))
    assert again.status == 400 and "Location" not in again.headers


def test_other_browser_cannot_answer(flow, app, make_flow):
    client = flow.register()
    page = flow.get(start(flow, client).location)
    intruder = make_flow(app)
    assert intruder.get(start(flow, client).location).status == 400
    reply = intruder.post("/oauth/consent", data=_form(page))
    assert reply.status == 400 and "Location" not in reply.headers
    assert flow.post("/oauth/consent", data=_form(page)).status == 303


def test_unknown_or_missing_action(flow):
    client = flow.register()
    page = flow.get(start(flow, client).location)
    assert flow.post("/oauth/consent", data=_form(page, action=None)).status == 400
    assert flow.post("/oauth/consent", data=_form(page, txn="nope")).status == 400


def test_remembered_approval(flow, app, make_flow, upstream):
    client = flow.register(
        redirect_uris=["http://127.0.0.1:8765/callback", "https://app.example.com/cb"]
    )
    flow.login(client, remember=True, scope="mcp:read")
    # Same client, same redirect URI, no new scope: straight upstream.
    reply = flow.authorize(client, challenge=pkce()[1], scope="mcp:read")
    assert reply.location.startswith(upstream.url + "/authorize?")
    login = flow.login(client, scope="mcp:read")
    assert flow.token(login).status == 200
    # A new scope, another redirect URI or another browser: asked again.
    reply = flow.authorize(client, challenge=pkce()[1], scope="mcp:read mcp:write")
    assert "/oauth/consent" in reply.location
    other_uri = "https://app.example.com/cb"
    reply = flow.authorize(client, challenge=pkce()[1], redirect_uri=other_uri)
    assert "/oauth/consent" in reply.location
    assert (
        "/oauth/consent"
        in make_flow(app).authorize(client, challenge="x" * 43).location
    )
    # Another client: asked.
    assert (
        "/oauth/consent" in flow.authorize(flow.register(), challenge="x" * 43).location
    )


def test_not_remembered_without_the_checkbox(flow):
    client = flow.register()
    flow.login(client)
    assert "/oauth/consent" in flow.authorize(client, challenge=pkce()[1]).location


def test_approvals_page_and_forget(flow):
    client = flow.register(client_name="Remembered App")
    flow.login(client, remember=True)
    page = flow.get("/oauth/consent")
    assert page.status == 200
    assert "Remembered App" in page.text and client["client_id"] in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    form = {
        "action": "forget",
        "client_id": client["client_id"],
        "csrf_token": hidden(page.text, "csrf_token"),
    }
    forged = flow.post("/oauth/consent", data={**form, "csrf_token": "forged"})
    assert forged.status == 403
    assert flow.authorize(client, challenge=pkce()[1]).location.startswith("http://127")
    reply = flow.post("/oauth/consent", data=form)
    assert reply.status == 303 and reply.location.endswith("/oauth/consent")
    assert "Remembered App" not in flow.get("/oauth/consent").text
    assert "/oauth/consent" in flow.authorize(client, challenge=pkce()[1]).location


def test_approvals_page_without_cookie(app):
    page = app.test_client().get("/oauth/consent")
    assert page.status_code == 200
    assert "No application is remembered" in page.get_data(True)


def test_template_can_be_overridden(app, flow):
    custom = (
        "CUSTOM {{ client_name }} {{ redirect_host }}"
        ' <input name="txn" value="{{ txn }}">'
        ' <input name="csrf_token" value="{{ csrf_token }}">'
    )
    app.jinja_loader = ChoiceLoader(
        [DictLoader({"flask_mcp/consent.html": custom}), app.jinja_loader]
    )
    client = flow.register(client_name="Mine")
    page = flow.get(start(flow, client).location)
    assert page.text.startswith("CUSTOM Mine 127.0.0.1:8765")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert flow.post("/oauth/consent", data=_form(page)).status == 303


def test_remembered_approval_covers_any_loopback_port(flow, upstream):
    client = flow.register(redirect_uris=["http://127.0.0.1:8765/callback"])
    flow.login(client, remember=True, redirect_uri="http://127.0.0.1:50001/callback")
    reply = flow.authorize(
        client, challenge=pkce()[1], redirect_uri="http://127.0.0.1:50002/callback"
    )
    assert reply.location.startswith(upstream.url + "/authorize?")


# -- names as people read them ------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["аpple.example", "xn--pple-43d.example", "XN--PPLE-43D.example"],
)
def test_a_look_alike_redirect_host_is_shown_in_both_forms(flow, host):
    """Red team: ``https://аpple.com`` (a Cyrillic ``а``) reads as apple.com,
    whichever form the client registered."""
    client = flow.register(redirect_uris=[f"https://{host}/cb"])
    page = flow.get(start(flow, client).location)
    assert page.status == 200
    assert '<strong class="host">аpple.example</strong>' in page.text
    assert "(<code>xn--pple-43d.example</code>)" in page.text
    assert 'class="warning">The name <strong>аpple.example</strong>' in page.text


def test_a_plain_host_gets_no_warning(flow):
    client = flow.register(redirect_uris=["https://apple.example/cb"])
    page = flow.get(start(flow, client).location)
    assert '<strong class="host">apple.example</strong>' in page.text
    assert "xn--" not in page.text and "beyond plain" not in page.text


def test_the_provider_display_name_setting(make_app, make_flow, upstream):
    from .app import make_provider

    provider = make_provider(BASE_URL, upstream.url)
    provider.display_name = "Acme Single Sign-On"
    flow = make_flow(make_app(provider=provider))
    page = flow.get(start(flow, flow.register()).location)
    assert "sign in with <strong>Acme Single Sign-On</strong>" in page.text
    assert provider.name not in page.text
