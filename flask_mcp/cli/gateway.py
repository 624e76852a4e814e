"""``flask mcp gateway-config`` and ``flask mcp gateway-end``: a stream
gateway's configuration, and the graceful end of what it holds."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from .group import mcp_cli


@mcp_cli.command("gateway-config")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=7999, show_default=True, help="Where clients connect.")
@click.option(
    "--control-port",
    default=5561,
    show_default=True,
    help="Pushpin's publishing endpoint (MCP_GRIP_URL).",
)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    default=["127.0.0.1:8000"],
    show_default=True,
    help="host:port of gunicorn; repeat for fallbacks.",
)
def gateway_config(
    folder: Path, port: int, control_port: int, origins: tuple[str, ...]
) -> None:
    """Write pushpin.conf and routes for a Pushpin in front of this app.

    Pushpin signs with the app's MCP_GRIP_KEY; everything Pushpin writes at
    run time goes into FOLDER too. Run it with ``pushpin --config
    FOLDER/pushpin.conf``.
    """
    from ..gateway.pushpin_config import PushpinConfig

    key = current_app.config.get("MCP_GRIP_KEY")
    if not isinstance(key, str) or not key:
        raise click.UsageError(
            "set MCP_GRIP_KEY to a random key (python -c 'import secrets;"
            " print(secrets.token_hex(32))'): Pushpin signs with it"
        )
    try:
        config = PushpinConfig(
            run_dir=folder.absolute(),
            port=port,
            control_port=control_port,
            origins=origins,
            sig_key=key,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    path = config.write()
    click.echo(f"wrote {path} and {folder / 'routes'}")
    click.echo(f"run: pushpin --config {path}")
    click.echo(f"set: MCP_GRIP_URL={config.grip_url}")


@mcp_cli.command("gateway-end")
@click.option(
    "--wait", default=10.0, show_default=True, help="Seconds to wait for the gateway."
)
def gateway_end(wait: float) -> None:
    """End every stream held at the gateway, gracefully.

    Listens get their result and GET streams close; clients listen or
    reconnect at once, so the new streams follow what the app serves now
    (its credentials checks, its settings).
    """
    relays = current_app.extensions.get("mcp_gateway", {})
    if not relays:
        raise click.UsageError("no stream gateway here: MCP_GRIP_URL is not set")
    for name, relay in relays.items():
        relay.end_all()
        if not relay.publisher.flush(wait):
            raise click.ClickException(
                f"{name}: the gateway at {relay.publisher.url} did not answer"
            )
        click.echo(f"{name}: every stream held at {relay.publisher.url} ends now")
