"""``flask mcp ...`` commands."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .store import StoreError

mcp_cli = AppGroup("mcp", help="Inspect and maintain MCP servers of this app.")


@mcp_cli.command("list")
def list_components() -> None:
    """List the tools, resources and prompts of every MCP server."""
    for name, state in current_app.extensions.get("mcp", {}).items():
        registry = state.mcp.registry
        click.echo(f"{name}:")
        for kind, table in (
            ("tool", registry.tools),
            ("resource", registry.resources),
            ("template", registry.templates),
            ("prompt", registry.prompts),
        ):
            for key in table:
                click.echo(f"  {kind:9} {key}")


@mcp_cli.command("purge")
def purge() -> None:
    """Delete expired sessions, events and tokens from the file store.

    Only entries the store wrote are touched (other files in its folder are
    left alone); Redis expires entries by itself. Run it from cron when the
    server is idle for long stretches: busy servers sweep by themselves.
    """
    removed = 0
    for name, state in current_app.extensions.get("mcp", {}).items():
        try:
            removed += state.store.remove_expired()
        except StoreError as error:
            raise click.ClickException(f"store of {name!r}: {error}") from None
    click.echo(f"{removed} expired entries removed")
