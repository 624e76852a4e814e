"""``x-mcp-header``: tool arguments mirrored into HTTP headers (MCP 2026-07-28).

A tool's ``inputSchema`` may mark string, integer or boolean properties with
``"x-mcp-header": "Region"``; clients then send the value as
``Mcp-Param-Region`` so gateways can route on it. The annotations are read
and checked once, when the tool is registered.
"""

from __future__ import annotations

import re
import typing as t
from collections import abc


def header_parameters(schema: abc.Mapping[str, t.Any]) -> dict[tuple[str, ...], str]:
    """The ``x-mcp-header`` annotations of an ``inputSchema``: path -> name.

    :raises ValueError: for an annotation the spec forbids (bad token,
        duplicate name, non-primitive type, not reachable through
        ``properties`` alone).
    """
    found: dict[tuple[str, ...], str] = {}

    def walk(node: t.Any, path: tuple[str, ...]) -> None:
        properties = node.get("properties") if isinstance(node, abc.Mapping) else None
        if not isinstance(properties, abc.Mapping):
            return
        for key, child in properties.items():
            if not isinstance(child, abc.Mapping):
                continue
            here = (*path, str(key))
            name = child.get("x-mcp-header")
            if name is not None:
                _check_annotation(name, child, here)
                found[here] = name
            walk(child, here)

    walk(schema, ())
    names = [n.lower() for n in found.values()]
    if len(set(names)) != len(names):
        raise ValueError("x-mcp-header names must be unique (ignoring case)")
    _check_unreachable(schema, found)
    return found


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _check_annotation(
    name: object, schema: abc.Mapping[str, t.Any], path: tuple[str, ...]
) -> None:
    where = ".".join(path)
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise ValueError(f"x-mcp-header of {where} must be an HTTP token, not {name!r}")
    kind = schema.get("type")
    if kind not in ("string", "integer", "boolean"):
        raise ValueError(
            f"x-mcp-header of {where} needs type string, integer or boolean,"
            f" not {kind!r}"
        )


def _check_unreachable(
    schema: abc.Mapping[str, t.Any], found: dict[tuple[str, ...], str]
) -> None:
    """Refuse annotations under ``items``, ``$defs``, ``anyOf`` and the like."""

    def count(node: t.Any) -> int:
        if isinstance(node, abc.Mapping):
            own = 1 if "x-mcp-header" in node else 0
            return own + sum(count(v) for v in node.values())
        if isinstance(node, list):
            return sum(count(v) for v in node)
        return 0

    if count(schema) != len(found):
        raise ValueError(
            "x-mcp-header is only allowed on properties reached through"
            " 'properties' keys from the schema root"
        )
