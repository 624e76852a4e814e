"""``flask mcp keys create|list|revoke``: managed API keys.

Keys live in the server's store (:mod:`flask_mcp.auth.keyring`), so a key
created or revoked here is seen at once by every worker and host sharing
that store. The key is printed once, at creation; only its hash is kept.
"""

from __future__ import annotations

import datetime
import typing as t

import click
from flask import current_app

from ..auth.keyring import KeyRing
from ..auth.keyring import KeyringError
from ..auth.keyring import ManagedKey
from ..store import StoreError
from .group import mcp_cli

if t.TYPE_CHECKING:
    from ..state import MCPState


@mcp_cli.group("keys")
def keys() -> None:
    """Create, list and revoke managed API keys."""


def _server_option(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    return click.option(
        "--server",
        metavar="NAME",
        help="The MCP server (its blueprint_name) when the app has several.",
    )(f)


@keys.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="A role the key holds (repeat).")
@click.option(
    "--scope", "scopes", multiple=True, help="A scope the key holds (repeat)."
)
@click.option(
    "--expires",
    type=click.FloatRange(min=0, min_open=True, max=36500),
    metavar="DAYS",
    help="Days the key works (at most 36500); without it, until revoked.",
)
@_server_option
def create(
    name: str,
    roles: tuple[str, ...],
    scopes: tuple[str, ...],
    expires: float | None,
    server: str | None,
) -> None:
    """Create the key NAME and print it, once."""
    ring = _keyring(server)
    try:
        key, managed = ring.create(
            name,
            roles=roles,
            scopes=scopes,
            expires_in=None if expires is None else expires * 86400,
        )
    except (KeyringError, StoreError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created key {managed.name!r}. Copy it now: it is not shown again.")
    click.echo(key)


@keys.command("list")
@_server_option
def list_keys(server: str | None) -> None:
    """List the keys: name, roles, scopes, created, expires, last used."""
    ring = _keyring(server)
    try:
        found = ring.keys()
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    if not found:
        click.echo("No keys.")
        return
    now = ring.clock()
    rows: list[tuple[str, ...]] = [
        ("NAME", "ROLES", "SCOPES", "CREATED", "EXPIRES", "LAST USED")
    ]
    rows += [_row(managed, now) for managed in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@keys.command("revoke")
@click.argument("name")
@_server_option
def revoke(name: str, server: str | None) -> None:
    """Revoke the key NAME: the next request with it is refused."""
    try:
        _keyring(server).revoke(name)
    except (KeyringError, StoreError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Revoked key {name!r}.")


def _keyring(server: str | None) -> KeyRing:
    states: dict[str, MCPState] = current_app.extensions.get("mcp", {})
    if not states:
        raise click.ClickException("this app has no MCP server")
    if server is None:
        if len(states) > 1:
            names = ", ".join(sorted(states))
            raise click.ClickException(
                f"this app has several MCP servers: --server {names}"
            )
        (state,) = states.values()
    elif server in states:
        state = states[server]
    else:
        raise click.ClickException(f"no MCP server named {server!r}")
    return KeyRing(state.store)


def _row(managed: ManagedKey, now: float) -> tuple[str, ...]:
    expires = _when(managed.expires_at) if managed.expires_at else "never"
    if managed.expired(now):
        expires += " (expired)"
    return (
        managed.name,
        ",".join(managed.roles) or "-",
        ",".join(managed.scopes) or "-",
        _when(managed.created_at),
        expires,
        _when(managed.last_used_at) if managed.last_used_at else "never",
    )


def _when(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
