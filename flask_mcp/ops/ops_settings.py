"""The operations settings (``MCP_METRICS``, ``MCP_AUDIT``...), read once at
``init_app`` and checked there, so a typo fails the start, not a request."""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass

from ..config import DEFAULTS


@dataclass(frozen=True)
class OpsSettings:
    metrics: bool
    metrics_path: str
    metrics_dir: str
    metrics_token: str | None
    metrics_public: bool
    audit: bool
    audit_arguments: bool
    tracing: bool
    rate_limit: str | None
    rate_limit_storage_uri: str | None
    rate_limit_strategy: str
    health_path: str | None
    ready_path: str | None

    @classmethod
    def from_config(
        cls, config: t.Mapping[str, t.Any], instance_path: str
    ) -> OpsSettings:
        """:raises ValueError: naming the key whose value cannot be used."""

        def get(key: str) -> t.Any:
            return config.get(key, DEFAULTS[key])

        def path(key: str, optional: bool = False) -> t.Any:
            value = get(key)
            if value is None and optional:
                return None
            if not isinstance(value, str) or not value.startswith("/"):
                raise ValueError(
                    f"{key} must be a path starting with '/', not {value!r}"
                )
            return value

        def text(key: str) -> str | None:
            value: str | None = get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{key} must be a non-empty string, not {value!r}")
            return value

        metrics_dir = (
            get("MCP_METRICS_DIR")
            or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
            or os.path.join(instance_path, "metrics")
        )
        return cls(
            metrics=bool(get("MCP_METRICS")),
            metrics_path=path("MCP_METRICS_PATH"),
            metrics_dir=str(metrics_dir),
            metrics_token=text("MCP_METRICS_TOKEN"),
            metrics_public=bool(get("MCP_METRICS_PUBLIC")),
            audit=bool(get("MCP_AUDIT")),
            audit_arguments=bool(get("MCP_AUDIT_ARGUMENTS")),
            tracing=bool(get("MCP_TRACING")),
            rate_limit=text("MCP_RATE_LIMIT"),
            rate_limit_storage_uri=text("MCP_RATE_LIMIT_STORAGE_URI"),
            rate_limit_strategy=str(get("MCP_RATE_LIMIT_STRATEGY")),
            health_path=path("MCP_HEALTH_PATH", optional=True),
            ready_path=path("MCP_READY_PATH", optional=True),
        )
