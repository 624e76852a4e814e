"""Rate limit strings (``"10/minute"``) checked when a tool is registered.

They are Flask-Limiter's notation (its ``limits`` package parses them), so
a typo fails at import time, naming the tool, instead of on the first call.
"""

from __future__ import annotations

import typing as t

from .component import RegistrationError


def check_rate_limit(value: t.Any, where: str) -> str | None:
    """``value`` if it is a rate limit string Flask-Limiter understands.

    :raises RegistrationError: for anything else, or when Flask-Limiter is
        not installed (``pip install 'flask-mcp[limits]'``).
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RegistrationError(
            f"{where}: rate_limit must be a string such as '10/minute', not {value!r}"
        )
    try:
        from limits import parse_many
    except ImportError:
        raise RegistrationError(
            f"{where}: rate_limit needs Flask-Limiter: pip install 'flask-mcp[limits]'"
        ) from None
    try:
        parse_many(value)
    except ValueError:
        raise RegistrationError(
            f"{where}: rate_limit {value!r} is not a rate limit; write"
            " '<count>/<second|minute|hour|day>' ('10/minute', '5 per second'),"
            " several separated by ';'"
        ) from None
    return value
