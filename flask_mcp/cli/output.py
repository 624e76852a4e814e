"""How the operator commands print: a line of text per record, or with
``--json`` one JSON object per line (for scripts and ``jq``)."""

from __future__ import annotations

import datetime
import json
import typing as t

import click


def show(row: t.Mapping[str, t.Any], as_json: bool, text: str) -> None:
    """Print one record: ``row`` as JSON, or ``text``."""
    click.echo(json.dumps(row) if as_json else text)


def when(timestamp: float) -> str:
    """A Unix time as ISO 8601, UTC, to the second."""
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")
