"""The example gateway app served by gunicorn: the origin behind Pushpin."""

from __future__ import annotations

import typing as t
from pathlib import Path

from support import GunicornServer

APPS = Path(__file__).parent / "apps"


def origin(port: int, env: dict[str, str], **options: t.Any) -> GunicornServer:
    """``gateway_app`` on ``port`` (2 workers unless ``workers`` says)."""
    options.setdefault("workers", 2)
    return GunicornServer(
        app="gateway_app:create_app()",
        port=port,
        env=env,
        args=("--chdir", str(APPS)),
        **options,
    )
