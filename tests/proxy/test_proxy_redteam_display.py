"""Second look at what the consent page shows: names chosen by clients.

A ``client_name`` is shown as the heading of the consent page of a
registered client and beside the verified host of a document client. The
page says the name is the client's own choice; a name must not be able to
rearrange that sentence (Unicode bidirectional overrides and isolates) nor
put control characters in the page or in the server's log (a newline forges
a log line).
"""

from __future__ import annotations

import html
import logging

import pytest

from .flow import REDIRECT_URI
from .flow import pkce
from .test_proxy_cimd_flow import client_of
from .test_proxy_cimd_refusals import OPTIONS
from .test_proxy_cimd_refusals import UNUSABLE

#: Characters that reorder the text around them, or are no text at all.
HOSTILE = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u202b",  # RIGHT-TO-LEFT EMBEDDING
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u061c",  # ARABIC LETTER MARK
    "\n",
    "\r",
    "\x1b",
    "\x00",
    "\x85",  # NEXT LINE (C1)
]


@pytest.mark.parametrize("char", HOSTILE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_client_name_with_format_or_control_characters_is_refused(flow, caplog, char):
    caplog.set_level(logging.INFO, logger="flask_mcp.auth.proxy")
    name = f"Good App{char}deifirev ton ,nwo sti"
    reply = flow.post(
        "/oauth/register",
        json={
            "client_name": name,
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
        },
    )
    assert reply.status == 400, reply.text
    assert reply.json()["error"] == "invalid_client_metadata"
    assert "client_name" in reply.json()["error_description"]
    assert name not in caplog.text


@pytest.mark.parametrize(
    "name",
    [
        "Zoë's Assistant",
        "Ассистент",
        "مساعد البريد",  # Arabic: right-to-left letters, no override
        "עוזר",
        "커서 🤖",
        "👩‍💻 dev tools",  # ZERO WIDTH JOINER inside an emoji sequence
        "می‌خواهم",  # ZERO WIDTH NON-JOINER, as Persian writes it
    ],
)
def test_names_in_any_script_are_welcome(flow, name):
    client = flow.register(client_name=name)
    reply = flow.authorize(client, challenge=pkce()[1])
    page = flow.get(reply.location)
    assert page.status == 200
    assert name in html.unescape(page.text)


def test_a_metadata_document_with_such_a_name_is_refused(
    make_app, make_flow, documents, doc_path, caplog
):
    caplog.set_level(logging.WARNING, logger="flask_mcp.auth.proxy")
    flow = make_flow(make_app(cimd=OPTIONS))
    documents.document(doc_path, client_name="Good App\u202edeifirev ton")
    client = client_of(documents.url(doc_path), REDIRECT_URI)
    page = flow.authorize(client, challenge=pkce()[1])
    assert page.status == 400, page.text
    assert UNUSABLE in html.unescape(page.text)
    assert "client_name" in caplog.text


def test_markup_in_names_is_text(make_app, make_flow, upstream):
    """A client's name and the operator's display name of the provider are
    shown as text, never as markup."""
    from .app import make_provider

    provider = make_provider("http://localhost", upstream.url)
    object.__setattr__(provider, "display_name", '<b id="op">Corp</b>')
    flow = make_flow(make_app(provider=provider))
    client = flow.register(client_name='<img src=x onerror="alert(1)">')
    page = flow.get(flow.authorize(client, challenge=pkce()[1]).location)
    assert page.status == 200
    assert "<img" not in page.text and '<b id="op">' not in page.text
    assert "&lt;img src=x" in page.text and "&lt;b id=" in page.text
