"""``flask mcp list`` and ``flask mcp purge``: what a server offers, and
housekeeping of the file store."""

from __future__ import annotations

import inspect

import click
from flask import current_app

from ..components.component import Component
from ..components.tools import Tool
from ..store import StoreError
from .group import mcp_cli


@mcp_cli.command("list")
def list_components() -> None:
    """List the tools, resources and prompts of every MCP server, with the
    access check guarding each and the tools' annotations."""
    for name, state in current_app.extensions.get("mcp", {}).items():
        registry = state.mcp.registry
        click.echo(f"{name} ({state.settings.path}):")
        for kind, table in (
            ("tool", registry.tools),
            ("resource", registry.resources),
            ("template", registry.templates),
            ("prompt", registry.prompts),
        ):
            for key in sorted(table):
                click.echo(f"  {kind:9} {key}{_details(table[key])}")


def _details(component: Component) -> str:
    """`` [can_access=..., step_up, readOnlyHint]`` for one component."""
    parts = []
    if component.can_access is not None:
        check = component.can_access
        # Plain functions by name; check objects (require_role(...)) name themselves.
        shown = check.__qualname__ if inspect.isfunction(check) else repr(check)
        parts.append(f"can_access={shown}")
    if isinstance(component, Tool):
        if component.step_up:
            parts.append("step_up")
        parts.extend(
            key if value is True else f"{key}={value!r}"
            for key, value in component.annotations.items()
        )
    return f"  [{', '.join(parts)}]" if parts else ""


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
