"""``flask mcp sessions``: count, list and end the MCP sessions of the
2025 revisions, as every worker of every host sees them (the shared store)."""

from __future__ import annotations

import typing as t

import click
from flask import current_app

from ..auth.principals import principals_of_subject
from ..transport.sessions import Session
from .errors import store_errors
from .group import mcp_cli
from .output import show
from .output import when

if t.TYPE_CHECKING:
    from ..state import MCPState


@mcp_cli.group("sessions")
def sessions() -> None:
    """Count, list and end MCP sessions."""


def servers(name: str | None) -> list[tuple[str, MCPState]]:
    """The servers of the app (``--server`` picks one by its name)."""
    states: dict[str, MCPState] = current_app.extensions.get("mcp", {})
    if name is not None:
        if name not in states:
            known = ", ".join(sorted(states)) or "none"
            raise click.BadParameter(f"no server {name!r} (known: {known})")
        return [(name, states[name])]
    return sorted(states.items())


server_option = click.option(
    "--server", "server", default=None, help="Only this server (its blueprint name)."
)


def live_sessions(state: MCPState) -> t.Iterator[Session]:
    manager = state.endpoint.sessions
    for session_id in manager.index.names():
        session = manager.load(session_id, touch=False)
        if session is not None:
            yield session


@sessions.command("count")
@server_option
@store_errors
def count(server: str | None) -> None:
    """How many sessions are open, per server."""
    for name, state in servers(server):
        click.echo(f"{name}: {sum(1 for _ in live_sessions(state))}")


@sessions.command("list")
@server_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@store_errors
def list_sessions(server: str | None, as_json: bool) -> None:
    """The open sessions: id, protocol version, client, last activity."""
    for name, state in servers(server):
        for session in live_sessions(state):
            row = _row(name, session)
            show(
                row,
                as_json,
                f"{row['server']}  {row['id']}  {row['protocol_version']}"
                f"  {row['client']}  active {row['active']}"
                f"  principal {row['principal'] or '-'}",
            )


@sessions.command("end")
@server_option
@click.argument("session_ids", nargs=-1)
@click.option(
    "--subject",
    default=None,
    help="End every session of the user (or client) of this id, as authenticate"
    " names them (sub, id, email...).",
)
@store_errors
def end(server: str | None, session_ids: tuple[str, ...], subject: str | None) -> None:
    """End sessions by id, or all sessions of one subject. Their clients get
    404 on their next request and open a new session (after authenticating)."""
    if not session_ids and subject is None:
        raise click.UsageError("give session ids or --subject")
    wanted = set(session_ids)
    ended = 0
    for _, state in servers(server):
        principals = (
            principals_of_subject(subject, state.endpoint.gate.sources)
            if subject is not None
            else set()
        )
        for session in live_sessions(state):
            if session.id in wanted or session.principal in principals:
                state.endpoint.sessions.end(session)
                ended += 1
    click.echo(f"{ended} session{'s' if ended != 1 else ''} ended")


def _row(server: str, session: Session) -> dict[str, t.Any]:
    info = session.client_info
    client = f"{info.get('name', '?')} {info.get('version', '')}".strip()
    return {
        "server": server,
        "id": session.id,
        "protocol_version": session.protocol_version,
        "client": client,
        "active": when(session.touched),
        "principal": session.principal[:12] if session.principal else None,
        "subscriptions": len(session.subscriptions),
    }
