"""``flask mcp clients``, ``flask mcp consents`` and ``flask mcp tokens``:
the OAuth proxy's clients, remembered approvals and token families.

Every change takes effect on the next request, on every worker of every
host: the records live in the shared store, and the cuts of
:mod:`flask_mcp.auth.proxy.revocations` are read with each token.
"""

from __future__ import annotations

import typing as t

import click
from flask import current_app

from .errors import store_errors
from .group import mcp_cli
from .output import show
from .output import when

if t.TYPE_CHECKING:
    from ..auth.proxy.proxy_state import ProxyAppState
    from ..auth.proxy.records import BrowserSession


def proxy() -> ProxyAppState:
    """The app's OAuth proxy; a clear error when it has none."""
    from ..auth.proxy.proxy_state import EXTENSION_KEY

    state = current_app.extensions.get(EXTENSION_KEY)
    if state is None:
        raise click.ClickException("this app runs no OAuth proxy (auth=...)")
    return t.cast("ProxyAppState", state)


def end_grants(state: ProxyAppState, kind: str, name: str) -> int:
    """End every live grant of one subject or client; how many."""
    return sum(
        state.upstream.end_grant(grant_id, reason="operator")
        for grant_id in state.storage.grants_of(kind, name).names()
    )


# -- clients ---------------------------------------------------------------------


@mcp_cli.group("clients")
def clients() -> None:
    """The OAuth clients registered with the proxy."""


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@store_errors
def list_clients(as_json: bool) -> None:
    """Registered clients: id, name, authentication, redirect URIs."""
    storage = proxy().storage
    for client_id in storage.clients.names():
        client = storage.client(client_id)
        if client is None:
            continue
        row: dict[str, t.Any] = {
            "client_id": client.client_id,
            "name": client.name,
            "auth_method": client.auth_method,
            "registered": when(client.issued_at) if client.issued_at else None,
            "redirect_uris": client.redirect_uris,
            "vetted": client.vetted,
        }
        show(
            row,
            as_json,
            f"{row['client_id']}  {row['name']!r}  {row['auth_method']}"
            f"  registered {row['registered'] or '?'}"
            f"  {', '.join(row['redirect_uris'])}",
        )


@clients.command("revoke")
@click.argument("client_id")
@store_errors
def revoke_client(client_id: str) -> None:
    """Cut a client off: its tokens stop working at once, its registration
    and the approvals users gave it are deleted. It may register again (and
    users then see the consent page again)."""
    state = proxy()
    storage = state.storage
    storage.revocations.cut_client(client_id)
    ended = end_grants(state, "client", client_id)
    storage.delete_client(client_id)
    forgotten = sum(
        storage.forget(browser, client_id, None) for browser in storage.browsers.names()
    )
    click.echo(
        f"client {client_id} revoked: {ended} token famil"
        f"{'y' if ended == 1 else 'ies'} ended, {forgotten} approval"
        f"{'' if forgotten == 1 else 's'} forgotten"
    )


# -- consents --------------------------------------------------------------------


@mcp_cli.group("consents")
def consents() -> None:
    """The approvals users remembered on the proxy's consent page."""


def _approvals(
    client_id: str | None, browser: str | None
) -> t.Iterator[tuple[str, str, BrowserSession]]:
    """(browser id, its short name, its record) of the matching browsers."""
    from ..auth.hashing import digest

    storage = proxy().storage
    for browser_id in storage.browsers.names():
        short = digest(browser_id)[:12]
        if browser is not None and not short.startswith(browser):
            continue
        session = storage.browser(browser_id)
        if client_id is not None and all(
            approval.client_id != client_id for approval in session.approvals.values()
        ):
            continue
        yield browser_id, short, session


@consents.command("list")
@click.option("--client", "client_id", default=None, help="Only this client's.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@store_errors
def list_consents(client_id: str | None, as_json: bool) -> None:
    """Remembered approvals: browser, client, endpoint, scopes, when."""
    for _, short, session in _approvals(client_id, None):
        for _, approval in sorted(session.approvals.items()):
            approved = approval.client_id
            if client_id is not None and approved != client_id:
                continue
            row = {
                "browser": short,
                "client_id": approved,
                "resource": approval.resource,
                "client_name": approval.client_name,
                "scopes": list(approval.scopes),
                "approved": when(approval.approved_at),
            }
            show(
                row,
                as_json,
                f"{short}  {approved}  {approval.resource}  {approval.client_name!r}"
                f"  scopes {' '.join(approval.scopes) or '-'}"
                f"  approved {row['approved']}",
            )


@consents.command("revoke")
@click.option("--client", "client_id", default=None, help="The client's approvals.")
@click.option("--browser", default=None, help="One browser's (as `list` names it).")
@store_errors
def revoke_consents(client_id: str | None, browser: str | None) -> None:
    """Forget remembered approvals: the next authorization asks again.
    Tokens already issued keep working (``flask mcp tokens revoke``,
    ``flask mcp clients revoke`` end them)."""
    if client_id is None and browser is None:
        raise click.UsageError("give --client, --browser or both")
    storage = proxy().storage
    forgotten = 0
    for browser_id, _, session in _approvals(client_id, browser):
        approved = {approval.client_id for approval in session.approvals.values()}
        for client in [client_id] if client_id else sorted(approved):
            forgotten += storage.forget(browser_id, client, None)
    click.echo(f"{forgotten} approval{'' if forgotten == 1 else 's'} forgotten")


# -- tokens ------------------------------------------------------------------------


@mcp_cli.group("tokens")
def tokens() -> None:
    """The token families (grants) the proxy issued."""


@tokens.command("revoke")
@click.option(
    "--subject",
    required=True,
    help="The user, as the upstream provider names them (its 'sub').",
)
@store_errors
def revoke_tokens(subject: str) -> None:
    """End every access token, refresh token and code of one user, on every
    host, from the next request on; their upstream tokens are revoked too.
    The user can sign in again (block them at the provider to stop that)."""
    state = proxy()
    state.storage.revocations.cut_subject(subject)
    ended = end_grants(state, "subject", subject)
    click.echo(
        f"tokens of {subject} revoked: {ended} token famil"
        f"{'y' if ended == 1 else 'ies'} ended"
    )
