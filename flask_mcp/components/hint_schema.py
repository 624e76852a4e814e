"""Type hints to JSON Schema (draft 2020-12), and validated JSON back to Python.

A hint is translated once, when a tool or prompt is registered, into a schema
and a *converter*: the function turning a JSON value that passed the schema
into the Python value the hint names (an :class:`~enum.Enum` member, a
dataclass instance, a tuple...). Hints whose JSON value is already right get
no converter, so calls of simple tools do no conversion work at all.

Dataclasses and TypedDicts go under ``$defs`` and are referenced, so
recursive ones work and repeated ones are written once.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
import json
import types
import typing as t
import uuid
from collections import abc

from . import pydantic_hints

#: Turns a validated JSON value into the Python value a hint names.
Convert = t.Callable[[t.Any], t.Any]
#: A schema, and its converter or ``None`` when the JSON value needs none.
Translation = tuple[dict[str, t.Any], Convert | None]


def _to_int(value: t.Any) -> t.Any:
    """JSON ``1.0`` is a valid integer; the function still deserves an int."""
    return int(value) if isinstance(value, float) else value


_SCALARS: dict[type, Translation] = {
    str: ({"type": "string"}, None),
    bool: ({"type": "boolean"}, None),
    int: ({"type": "integer"}, _to_int),
    float: ({"type": "number"}, None),
}
_STRING_FORMATS: dict[type, tuple[str, Convert]] = {
    datetime.datetime: ("date-time", datetime.datetime.fromisoformat),
    datetime.date: ("date", datetime.date.fromisoformat),
    datetime.time: ("time", datetime.time.fromisoformat),
    uuid.UUID: ("uuid", uuid.UUID),
}
#: Array-like origins and the Python container each one is loaded into.
_ARRAYS: dict[t.Any, type] = {
    list: list,
    abc.Sequence: list,
    abc.MutableSequence: list,
    set: set,
    abc.MutableSet: set,
    frozenset: frozenset,
    abc.Set: frozenset,
}
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)
#: TypedDict key qualifiers; they say nothing about the value's schema.
_KEY_QUALIFIERS = tuple(
    getattr(t, name)
    for name in ("Required", "NotRequired", "ReadOnly")
    if hasattr(t, name)
)
_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))
_EMPTY = inspect.Parameter.empty
#: A dataclass or TypedDict field: hint, default (``_EMPTY`` if none), description.
_Member = tuple[t.Any, t.Any, str | None]


class HintTranslator:
    """Translates type hints that share one ``$defs`` table.

    Use one translator per published schema: :attr:`defs` collects every
    dataclass and TypedDict the translated hints refer to.
    """

    def __init__(self) -> None:
        #: Named object schemas, to publish as the schema's ``$defs``.
        self.defs: dict[str, dict[str, t.Any]] = {}
        self._names: dict[type, str] = {}
        self._converters: dict[str, Convert | None] = {}

    def translate(self, hint: t.Any) -> Translation:
        """Schema and converter for ``hint``.

        :raises TypeError: for hints with no JSON form (unknown classes,
            dicts with non-string keys, unions of types needing conversion).
        """
        if hint is _EMPTY or hint is t.Any or hint is object:
            return {}, None
        if hint is None or hint is type(None):
            return {"type": "null"}, None
        if pydantic_hints.uses_pydantic(hint):
            return pydantic_hints.translate(hint, self.defs)
        origin = t.get_origin(hint)
        if origin is t.Annotated:
            return self._annotated(hint)
        if origin is t.Union or origin is types.UnionType:
            return self._union(t.get_args(hint))
        if origin is t.Literal:
            return _typed_enum(list(t.get_args(hint))), None
        if origin is None and (hint in _ARRAYS or hint in _MAPPINGS or hint is tuple):
            origin = hint
        if origin is not None:
            return self._generic(origin, t.get_args(hint))
        if isinstance(hint, type):
            return self._class(hint)
        raise TypeError(f"type hint {hint!r} has no JSON Schema form")

    def _annotated(self, hint: t.Any) -> Translation:
        """``Annotated`` extras: text describes, a dict adds schema keywords."""
        schema, convert = self.translate(hint.__origin__)
        extra: dict[str, t.Any] = {}
        for meta in hint.__metadata__:
            if isinstance(meta, str):
                extra["description"] = meta
            elif isinstance(meta, dict):
                extra.update(meta)
            elif isinstance(getattr(meta, "description", None), str):
                extra["description"] = meta.description
        return {**schema, **extra}, convert

    def _union(self, members: tuple[t.Any, ...]) -> Translation:
        others = [member for member in members if member is not type(None)]
        translated = [self.translate(member) for member in others]
        if len(translated) == 1:
            schema, convert = translated[0]
        elif any(convert not in (None, _to_int) for _, convert in translated):
            # Which member a JSON value was meant as is ambiguous, so is its conversion.
            raise TypeError(f"union {members!r} mixes types that need conversion")
        else:
            schema, convert = {"anyOf": [schema for schema, _ in translated]}, None
        if len(others) == len(members):
            return schema, convert
        return _nullable(schema), (_or_none(convert) if convert else None)

    def _generic(self, origin: t.Any, args: tuple[t.Any, ...]) -> Translation:
        if origin in _ARRAYS:
            return self._array(_ARRAYS[origin], args[0] if args else _EMPTY)
        if origin is tuple:
            return self._tuple(args)
        if origin in _MAPPINGS:
            return self._mapping(args)
        raise TypeError(f"generic type {origin!r} has no JSON Schema form")

    def _array(self, container: type, item: t.Any) -> Translation:
        item_schema, convert = self.translate(item)
        schema: dict[str, t.Any] = {"type": "array"}
        if item_schema:
            schema["items"] = item_schema
        if container in (set, frozenset):
            schema["uniqueItems"] = True
        if convert is None:
            return schema, (None if container is list else container)
        return schema, _each(container, convert)

    def _tuple(self, args: tuple[t.Any, ...]) -> Translation:
        if not args or args[-1] is Ellipsis:
            return self._array(tuple, args[0] if args else _EMPTY)
        items = [self.translate(arg) for arg in args]
        schema = {
            "type": "array",
            "prefixItems": [item_schema for item_schema, _ in items],
            "items": False,
            "minItems": len(items),
        }
        return schema, _positional([convert for _, convert in items])

    def _mapping(self, args: tuple[t.Any, ...]) -> Translation:
        if args and args[0] not in (str, t.Any):
            raise TypeError(f"JSON object keys are strings, not {args[0]!r}")
        schema: dict[str, t.Any] = {"type": "object"}
        value_schema, convert = self.translate(args[1] if args else _EMPTY)
        if value_schema:
            schema["additionalProperties"] = value_schema
        return schema, (_values(convert) if convert else None)

    def _class(self, cls: type) -> Translation:
        if cls in _SCALARS:
            return _SCALARS[cls]
        if cls in _STRING_FORMATS:
            format_, convert = _STRING_FORMATS[cls]
            return {"type": "string", "format": format_}, convert
        if issubclass(cls, enum.Enum):
            return _enum(cls), cls
        if dataclasses.is_dataclass(cls) or t.is_typeddict(cls):
            return self._named(cls)
        raise TypeError(f"class {cls.__qualname__} has no JSON Schema form")

    def _named(self, cls: type) -> Translation:
        """A ``$ref`` to ``cls`` under ``$defs``, translating it on first use."""
        name = self._names.get(cls)
        if name is None:
            name = self._new_name(cls.__name__)
            self._names[cls] = name
            self.defs[name] = {}  # holds the name while the fields are translated
            self.defs[name], self._converters[name] = self._object(cls)
        ref = {"$ref": f"#/$defs/{name}"}
        if name in self._converters:
            return ref, self._converters[name]
        # cls refers to itself: its converter exists only once its fields are done.
        return ref, _deferred(self._converters, name)

    def _new_name(self, name: str) -> str:
        candidate, counter = name, 1
        while candidate in self.defs:
            counter += 1
            candidate = f"{name}{counter}"
        return candidate

    def _object(self, cls: t.Any) -> Translation:
        fields, required = _members(cls)
        schema: dict[str, t.Any] = {"type": "object", "properties": {}}
        converters: dict[str, Convert] = {}
        for name, (hint, default, description) in fields.items():
            prop, convert = self.translate(hint)
            prop = with_description(with_default(prop, default), description)
            schema["properties"][name] = prop
            if convert:
                converters[name] = convert
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        description = _class_description(cls)
        if description:
            schema["description"] = description
        if dataclasses.is_dataclass(cls):
            return schema, _construct(cls, converters)
        return schema, (_fields(converters) if converters else None)


def _members(cls: t.Any) -> tuple[dict[str, _Member], list[str]]:
    """The fields of a dataclass or TypedDict, and those a client must send."""
    hints = t.get_type_hints(cls, include_extras=True)
    members: dict[str, _Member]
    if t.is_typeddict(cls):
        members = {
            name: (_unqualified(hint), _EMPTY, None) for name, hint in hints.items()
        }
        required = [
            name for name, hint in hints.items() if _is_required_key(cls, name, hint)
        ]
        return members, required
    members = {
        f.name: (hints[f.name], *_field_default(f))
        for f in dataclasses.fields(cls)
        if f.init
    }
    return members, [
        name for name, (_, default, _) in members.items() if default is _EMPTY
    ]


def with_default(schema: dict[str, t.Any], default: t.Any) -> dict[str, t.Any]:
    """Add ``default`` to ``schema`` when it has a JSON form (missing: unchanged)."""
    if default is _EMPTY or default is dataclasses.MISSING:
        return schema
    value = to_json(default)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return schema
    return {**schema, "default": value}


def with_description(
    schema: dict[str, t.Any], description: str | None
) -> dict[str, t.Any]:
    """Add ``description`` unless the hint already gave one (``Annotated`` wins)."""
    if not description or "description" in schema:
        return schema
    return {**schema, "description": description}


def to_json(value: t.Any) -> t.Any:
    """The JSON form of a Python value: Enums by value, dataclasses as dicts."""
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, abc.Mapping):
        return {str(to_json(key)): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(item) for item in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _json_type(value: t.Any) -> str | None:
    """JSON type name of a scalar; bool first, as it is also an int."""
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), None)


def _typed_enum(values: list[t.Any]) -> dict[str, t.Any]:
    """``enum``/``const``, with ``type`` when all values share one (clients read it)."""
    schema: dict[str, t.Any] = (
        {"const": values[0]} if len(values) == 1 else {"enum": values}
    )
    kinds = {_json_type(value) for value in values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), **schema}
    return schema


def _enum(cls: type[enum.Enum]) -> dict[str, t.Any]:
    return _typed_enum([to_json(member.value) for member in cls])


def _nullable(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """Also accept ``null``: OpenAPI 3.1 style, a type list when possible."""
    if not schema:
        return schema
    kind = schema.get("type")
    if isinstance(kind, str) and "enum" not in schema and "const" not in schema:
        return {**schema, "type": [kind, "null"]}
    if list(schema) == ["anyOf"]:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def _is_required_key(cls: t.Any, name: str, hint: t.Any) -> bool:
    """``__required_keys__``, unless a string annotation hid a qualifier from it."""
    qualifier = t.get_origin(hint)
    if qualifier is getattr(t, "NotRequired", None):
        return False
    return name in cls.__required_keys__ or qualifier is getattr(t, "Required", None)


def _unqualified(hint: t.Any) -> t.Any:
    while t.get_origin(hint) in _KEY_QUALIFIERS:
        hint = t.get_args(hint)[0]
    return hint


def _field_default(field: dataclasses.Field[t.Any]) -> tuple[t.Any, str | None]:
    """A dataclass field's default (``_EMPTY`` when required) and description."""
    if field.default is not dataclasses.MISSING:
        default = field.default
    elif field.default_factory is not dataclasses.MISSING:
        default = dataclasses.MISSING  # optional, but its value is made per call
    else:
        default = _EMPTY
    return default, field.metadata.get("description")


def _class_description(cls: type) -> str | None:
    """The docstring, unless it is the signature dataclasses write by default."""
    doc = cls.__doc__  # not inspect.getdoc: a TypedDict would inherit dict's
    if not doc or doc.startswith(f"{cls.__name__}("):
        return None
    return inspect.cleandoc(doc)


def _or_none(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _each(container: type, convert: Convert) -> Convert:
    return lambda value: container(map(convert, value))


def _positional(converters: list[Convert | None]) -> Convert:
    def convert(value: list[t.Any]) -> tuple[t.Any, ...]:
        return tuple(
            c(item) if c else item for c, item in zip(converters, value, strict=True)
        )

    return convert


def _values(convert: Convert) -> Convert:
    return lambda value: {key: convert(item) for key, item in value.items()}


def _fields(converters: dict[str, Convert]) -> Convert:
    def convert(value: dict[str, t.Any]) -> dict[str, t.Any]:
        return {k: converters[k](v) if k in converters else v for k, v in value.items()}

    return convert


def _construct(cls: t.Any, converters: dict[str, Convert]) -> Convert:
    convert_fields = _fields(converters)
    return lambda value: cls(**convert_fields(value))


def _deferred(table: dict[str, Convert | None], name: str) -> Convert:
    def convert(value: t.Any) -> t.Any:
        found = table[name]
        return value if found is None else found(value)

    return convert
