"""How the operator commands fail when the store does not answer: one line
and exit status 1, not a traceback."""

from __future__ import annotations

import functools
import typing as t

import click

from ..store import StoreError

P = t.ParamSpec("P")


def store_errors(fn: t.Callable[P, None]) -> t.Callable[P, None]:
    """Report a :class:`~flask_mcp.store.StoreError` of the command ``fn``
    as a :class:`click.ClickException`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except StoreError as error:
            raise click.ClickException(f"the store does not answer: {error}") from None

    return wrapper
