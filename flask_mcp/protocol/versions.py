"""MCP protocol revisions this server speaks and what differs between them.

Two eras share one endpoint (MCP 2026-07-28, "Versioning"): *legacy*
revisions negotiate once with ``initialize`` and live in a session; *modern*
ones carry the version and client capabilities in every request's ``_meta``.
"""

from __future__ import annotations

V2025_03_26 = "2025-03-26"
V2025_06_18 = "2025-06-18"
V2025_11_25 = "2025-11-25"
V2026_07_28 = "2026-07-28"

#: Revisions negotiated by ``initialize``, newest first: an unknown requested
#: version is answered with the first.
LEGACY_VERSIONS = (V2025_11_25, V2025_06_18, V2025_03_26)
#: Revisions served per request, without a handshake, newest first.
MODERN_VERSIONS = (V2026_07_28,)
#: Every revision this server speaks.
SUPPORTED_VERSIONS = MODERN_VERSIONS + LEGACY_VERSIONS
#: Kept for callers of the legacy negotiation.
LATEST_VERSION = LEGACY_VERSIONS[0]
#: What a request without an ``MCP-Protocol-Version`` header is assumed to speak.
DEFAULT_HEADER_VERSION = V2025_03_26


def negotiate(requested: object) -> str:
    """Echo a supported legacy version; otherwise offer the newest (lifecycle spec)."""
    if isinstance(requested, str) and requested in LEGACY_VERSIONS:
        return requested
    return LATEST_VERSION


def is_modern(version: str) -> bool:
    """Whether ``version`` is served per request (2026-07-28 and later)."""
    return version >= V2026_07_28


def allows_batching(version: str) -> bool:
    """JSON-RPC batches exist in 2025-03-26 only; 2025-06-18 removed them."""
    return version == V2025_03_26


def reports_invalid_arguments_as_result(version: str) -> bool:
    """From 2025-11-25, bad tool arguments are a tool error the model can read."""
    return version >= V2025_11_25


def has_legacy_tasks(version: str) -> bool:
    """Experimental tasks (``params.task``, ``tasks/*``) exist in 2025-11-25;
    2026-07-28 moved them to an extension."""
    return version == V2025_11_25


def supports_priming_events(version: str) -> bool:
    """SSE priming events (empty data with an id) arrived with 2025-11-25."""
    return version >= V2025_11_25
