"""A plain-Python check for flat argument schemas, ahead of jsonschema.

Most tools take a few scalars. Checking those with ``isinstance`` costs a
microsecond; a full JSON Schema validator costs tens on every call. The quick
check only ever *accepts*: anything it is unsure of goes to the full
validator, which also writes the error messages.
"""

from __future__ import annotations

import typing as t
from collections import abc

#: JSON Schema types a quick check can decide, by Python type.
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
#: Keywords that add no constraint a quick check would have to enforce.
_ANNOTATIONS = frozenset({"type", "title", "description", "default", "examples"})

Check = t.Callable[[abc.Mapping[str, t.Any]], bool]


def quick_check(schema: abc.Mapping[str, t.Any]) -> Check | None:
    """A function that says ``True`` only for arguments ``schema`` accepts.

    ``None`` when the schema is not flat enough to decide in plain Python.
    """
    if set(schema) - {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "title",
        "description",
        "$schema",
    }:
        return None
    if (
        schema.get("type") != "object"
        or schema.get("additionalProperties") is not False
    ):
        return None
    types: dict[str, tuple[type, ...]] = {}
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type")
        if set(prop) - _ANNOTATIONS or not isinstance(kind, str) or kind not in _TYPES:
            return None
        types[name] = _TYPES[kind]
    required = frozenset(schema.get("required") or ())

    def check(arguments: abc.Mapping[str, t.Any]) -> bool:
        if not isinstance(arguments, abc.Mapping) or not required.issubset(arguments):
            return False
        for name, value in arguments.items():
            allowed = types.get(name)
            if allowed is None or not isinstance(value, allowed):
                return False
            if isinstance(value, bool) and bool not in allowed:
                return False  # JSON true is not a number
        return True

    return check
