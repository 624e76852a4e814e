"""MCP protocol revisions this server speaks and what differs between them."""

from __future__ import annotations

V2025_03_26 = "2025-03-26"
V2025_06_18 = "2025-06-18"
V2025_11_25 = "2025-11-25"

#: Newest first: an unknown requested version is answered with the first.
SUPPORTED_VERSIONS = (V2025_11_25, V2025_06_18, V2025_03_26)
LATEST_VERSION = SUPPORTED_VERSIONS[0]
#: What a request without an ``MCP-Protocol-Version`` header is assumed to speak.
DEFAULT_HEADER_VERSION = V2025_03_26


def negotiate(requested: object) -> str:
    """Echo a supported version; otherwise offer the newest (lifecycle spec)."""
    if isinstance(requested, str) and requested in SUPPORTED_VERSIONS:
        return requested
    return LATEST_VERSION


def allows_batching(version: str) -> bool:
    """JSON-RPC batches exist in 2025-03-26 only; 2025-06-18 removed them."""
    return version == V2025_03_26


def reports_invalid_arguments_as_result(version: str) -> bool:
    """From 2025-11-25, bad tool arguments are a tool error the model can read."""
    return version >= V2025_11_25


def supports_priming_events(version: str) -> bool:
    """SSE priming events (empty data with an id) arrived with 2025-11-25."""
    return version >= V2025_11_25
