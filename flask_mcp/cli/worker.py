"""``flask mcp worker``: a Celery worker for the tasks of this app's servers."""

from __future__ import annotations

import click
from flask import current_app

from .group import mcp_cli


@mcp_cli.command(
    "worker",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option(
    "--server",
    "name",
    default=None,
    help="The FlaskMCP (blueprint name) whose legs to run; the only one by default.",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(name: str | None, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker for the tasks of an MCP server (``MCP_TASKS_CELERY``).

    Extra arguments go to ``celery worker`` (``--concurrency 4``,
    ``--loglevel INFO``, ``-Q queue``). The worker runs every leg inside this
    app's context, as the principal that created the task.
    """
    states = current_app.extensions.get("mcp", {})
    if name is None:
        if len(states) != 1:
            raise click.UsageError(
                f"this app has {len(states)} MCP servers: choose one with --server"
                f" ({', '.join(sorted(states)) or 'none'})"
            )
        (name,) = states
    state = states.get(name)
    if state is None:
        raise click.UsageError(f"no MCP server named {name!r} on this app")
    celery = state.tasks.celery
    if celery is None:
        raise click.ClickException(
            f"MCP server {name!r} runs its tasks in threads: set MCP_TASKS_CELERY"
            " (a broker URL or a Celery app) to run them on Celery workers"
        )
    celery.worker_main(argv=["worker", *celery_args])
