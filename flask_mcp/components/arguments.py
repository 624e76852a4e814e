"""Declared arguments of tools and prompts: their ``inputSchema`` and their checks.

An :class:`ArgumentModel` is built once, when a tool or prompt is registered,
from one of three declarations: the function's own signature
(:class:`HintArguments`), a marshmallow schema (:class:`MarshmallowArguments`)
or a JSON Schema given verbatim (:class:`JsonSchemaArguments`). It publishes
:attr:`~ArgumentModel.json_schema` in ``tools/list`` and, on each call, turns
the client's JSON ``arguments`` into keyword arguments or raises
:exc:`InvalidArguments`.

Schemas follow JSON Schema draft 2020-12, which MCP assumes when a schema has
no ``$schema`` (MCP 2025-11-25, "Tool" and "JSON Schema Usage").
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import sys
import types
import typing as t
from collections import abc

from ..errors import FlaskMCPError
from . import pydantic_hints
from .docstrings import param_descriptions
from .hint_schema import Convert
from .hint_schema import HintTranslator
from .hint_schema import to_json
from .hint_schema import with_default
from .hint_schema import with_description
from .quick_check import quick_check

# jsonschema, marshmallow and apispec are imported where they are first
# needed: most tools take a few scalars (the quick check decides them) and
# never use marshmallow, so a worker does not pay their memory for nothing.
if t.TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

    from .marshmallow_schema import SchemaLike

_EMPTY = inspect.Parameter.empty
_NAMED_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class InvalidArguments(FlaskMCPError):
    """Arguments failed validation; ``str(exc)`` names the bad field(s).

    :param errors: one message per problem, each starting with its field.
    """

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        #: One message per problem, e.g. ``"count: 'abc' is not of type 'integer'"``.
        self.errors = errors


class ArgumentModel(t.Protocol):
    """What tools and prompts need from declared arguments."""

    #: The ``inputSchema`` published in ``tools/list``; always ``type: object``.
    json_schema: dict[str, t.Any]

    def load(self, arguments: abc.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        """Validated keyword arguments for the function.

        :raises InvalidArguments: when ``arguments`` do not fit the schema.
        """
        ...


class HintArguments:
    """Arguments declared by a function's signature and type hints.

    Parameters with a default are optional; ``:param:`` or Google ``Args:``
    docstring entries and ``Annotated[X, "text"]`` become descriptions. The
    function receives Python values: Enum members, dataclass instances, tuples.

    :param fn: the tool or prompt function.
    :param exclude: parameters the client does not send (the context one).
    :raises TypeError: for ``*args``, ``**kwargs``, positional-only
        parameters or hints with no JSON form.
    """

    def __init__(
        self, fn: t.Callable[..., t.Any], exclude: abc.Collection[str] = ()
    ) -> None:
        translator = HintTranslator()
        hints = _hints(fn, exclude)
        docs = param_descriptions(inspect.getdoc(fn))
        properties: dict[str, t.Any] = {}
        required: list[str] = []
        # Converters of the parameters whose JSON value is not the Python one.
        self._converters: dict[str, Convert] = {}
        for param in inspect.signature(fn).parameters.values():
            if param.name in exclude:
                continue
            if param.kind not in _NAMED_KINDS:
                raise TypeError(f"{fn.__qualname__}: {param} cannot be a JSON argument")
            schema, convert = _parameter(
                translator, param, hints.get(param.name, _EMPTY)
            )
            properties[param.name] = with_description(schema, docs.get(param.name))
            if param.default is _EMPTY:
                required.append(param.name)
            if convert:
                self._converters[param.name] = convert
        #: The published ``inputSchema``; unknown arguments are refused.
        self.json_schema = _object_schema(properties, required, translator.defs)
        self._validator: Validator | None = None  # made on first use
        self._quick = quick_check(self.json_schema)

    def load(self, arguments: abc.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        """Check ``arguments`` against :attr:`json_schema`, then convert them."""
        arguments = {} if arguments is None else arguments
        if self._quick is None or not self._quick(arguments):
            if self._validator is None:
                from jsonschema import Draft202012Validator

                self._validator = Draft202012Validator(self.json_schema)
            _validate(self._validator, arguments)
        kwargs = dict(arguments)
        for name, convert in self._converters.items():
            if name in kwargs:
                try:
                    kwargs[name] = convert(kwargs[name])
                except (TypeError, ValueError) as exc:
                    # e.g. a bad ISO date, or a dataclass __post_init__ refusing a value
                    raise InvalidArguments([f"{name}: {exc}"]) from exc
        return kwargs


class MarshmallowArguments:
    """Arguments declared by a marshmallow schema, loaded by that schema.

    :param schema: a :class:`~marshmallow.Schema` class or instance; its
        ``load`` result (a mapping) becomes the keyword arguments.
    """

    def __init__(self, schema: SchemaLike) -> None:
        from .marshmallow_schema import input_json_schema

        #: The schema instance that loads every call's arguments.
        self.schema = schema() if isinstance(schema, type) else schema
        #: The published ``inputSchema``: load fields only, nested ones under ``$defs``.
        self.json_schema = input_json_schema(self.schema)

    def load(self, arguments: abc.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        """``schema.load(arguments)``, its errors as :exc:`InvalidArguments`."""
        import marshmallow

        try:
            loaded = self.schema.load({} if arguments is None else arguments)
        except marshmallow.ValidationError as exc:
            raise InvalidArguments(_flatten(exc.messages)) from exc
        if not isinstance(loaded, abc.Mapping):
            raise TypeError(
                f"{type(self.schema).__name__}.load returned"
                f" {type(loaded).__name__}, not a mapping"
            )
        return dict(loaded)


class JsonSchemaArguments:
    """Arguments declared by a JSON Schema, published exactly as given.

    Validation uses the draft named by ``$schema`` (default 2020-12); the
    function receives the arguments unchanged.

    :param schema: an object schema.
    :raises ValueError: if the schema is not ``type: object`` (MCP requires it).
    :raises jsonschema.exceptions.SchemaError: if it is not a valid schema.
    """

    def __init__(self, schema: dict[str, t.Any]) -> None:
        if schema.get("type") != "object":
            raise ValueError('an inputSchema must have "type": "object"')
        from jsonschema import Draft202012Validator
        from jsonschema import validators

        cls = validators.validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema)
        #: A copy: later edits of the caller's dict must not desync validation.
        self.json_schema = copy.deepcopy(schema)
        self._validator = cls(self.json_schema)
        self._quick = quick_check(self.json_schema)

    def load(self, arguments: abc.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        arguments = {} if arguments is None else arguments
        if self._quick is None or not self._quick(arguments):
            _validate(self._validator, arguments)
        return dict(arguments)


def output_schema(annotation: t.Any) -> dict[str, t.Any] | None:
    """``outputSchema`` for a return annotation, when the result is structured.

    Structured means a mapping (``dict[str, X]``), a dataclass, a TypedDict or
    a marshmallow schema; anything else (``str``, ``None``, missing...) gives
    ``None``. ``annotation`` must be resolved (see :func:`typing.get_type_hints`).
    """
    # A marshmallow schema exists only once marshmallow was imported.
    marshmallow = sys.modules.get("marshmallow")
    if marshmallow is not None and (
        isinstance(annotation, marshmallow.Schema)
        or (isinstance(annotation, type) and issubclass(annotation, marshmallow.Schema))
    ):
        from .marshmallow_schema import output_json_schema

        return output_json_schema(annotation)
    bare = (
        t.get_args(annotation)[0]
        if t.get_origin(annotation) is t.Annotated
        else annotation
    )
    origin = t.get_origin(bare) or bare
    named = isinstance(bare, type) and (
        dataclasses.is_dataclass(bare)
        or t.is_typeddict(bare)
        or pydantic_hints.uses_pydantic(bare)
    )
    if not named and origin not in (dict, abc.Mapping, abc.MutableMapping):
        return None
    translator = HintTranslator()
    schema, _ = translator.translate(annotation)
    return _inline_root(schema, translator.defs)


def dump_structured(value: t.Any) -> dict[str, t.Any] | None:
    """JSON-ready ``structuredContent`` for a result, or ``None`` if unstructured.

    Mappings (TypedDicts included), dataclass instances and pydantic models
    are structured; Enums become their values, dates ISO strings, tuples lists.
    """
    value = pydantic_hints.dump(value)
    if isinstance(value, abc.Mapping) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        return t.cast(dict[str, t.Any], to_json(value))
    return None


def _hints(fn: t.Callable[..., t.Any], skip: abc.Collection[str]) -> dict[str, t.Any]:
    """Resolved hints of the JSON parameters only.

    The context parameter and the return value may be annotated with names
    imported for type checkers only; they must not stop the others resolving.
    """
    target = inspect.unwrap(fn)
    annotations = getattr(target, "__annotations__", {})
    skip = {*skip, "return"}
    kept = types.SimpleNamespace(
        __annotations__={k: v for k, v in annotations.items() if k not in skip},
        __globals__=getattr(target, "__globals__", {}),
    )
    return t.get_type_hints(kept, include_extras=True)


def _parameter(
    translator: HintTranslator, param: inspect.Parameter, hint: t.Any
) -> tuple[dict[str, t.Any], Convert | None]:
    """One parameter's schema; a ``None`` default also lets the client send ``null``."""
    if param.default is None and hint is not _EMPTY:
        hint = hint | None
    schema, convert = translator.translate(hint)
    return with_default(schema, param.default), convert


def _object_schema(
    properties: dict[str, t.Any], required: list[str], defs: dict[str, t.Any]
) -> dict[str, t.Any]:
    schema: dict[str, t.Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    if defs:
        schema["$defs"] = defs
    return schema


def _inline_root(schema: dict[str, t.Any], defs: dict[str, t.Any]) -> dict[str, t.Any]:
    """Put a ``$ref`` root's definition in place (MCP wants ``type: object`` on top)."""
    ref = schema.get("$ref")
    if ref is None:
        return {**schema, "$defs": defs} if defs else schema
    extra = {key: value for key, value in schema.items() if key != "$ref"}
    root = {**defs[ref.removeprefix("#/$defs/")], **extra}
    others = {name: value for name, value in defs.items() if f"#/$defs/{name}" != ref}
    recursive = f'"{ref}"' in json.dumps([root, others])
    kept = defs if recursive else others
    return {**root, "$defs": kept} if kept else root


def _validate(validator: Validator, arguments: t.Any) -> None:
    errors = [_describe(error) for error in validator.iter_errors(arguments)]
    if errors:
        raise InvalidArguments(errors)


def _describe(error: ValidationError) -> str:
    """``path: message``, from the most relevant branch of an ``anyOf``."""
    from jsonschema.exceptions import best_match

    error = best_match([error])
    path = ".".join(str(part) for part in error.absolute_path)
    return f"{path}: {error.message}" if path else error.message


def _flatten(messages: t.Any, path: str = "") -> list[str]:
    """marshmallow's nested error dict as ``path: message`` lines."""
    from marshmallow.exceptions import SCHEMA

    if isinstance(messages, abc.Mapping):
        return [
            line
            for key, value in messages.items()
            for line in _flatten(
                value,
                path if key == SCHEMA else _join(path, key),
            )
        ]
    if isinstance(messages, list):
        return [line for message in messages for line in _flatten(message, path)]
    return [f"{path}: {messages}" if path else str(messages)]


def _join(path: str, key: t.Any) -> str:
    return f"{path}.{key}" if path else str(key)
