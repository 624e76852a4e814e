"""pydantic models and fields in type hints, when the app uses pydantic.

A parameter annotated with a ``BaseModel`` (or ``list[Model]``, ``Model |
None``, ``Annotated[int, Field(ge=0)]``...) is described by pydantic's own
JSON Schema and converted by pydantic's own validation, so a model means
here what it means everywhere else in the app. pydantic is optional: it is
never imported here, only recognised once the app has imported it.
"""

from __future__ import annotations

import sys
import typing as t

#: ``(schema, converter)`` as :class:`~.hint_schema.HintTranslator` returns them.
Translation = tuple[dict[str, t.Any], t.Callable[[t.Any], t.Any] | None]


def uses_pydantic(hint: t.Any) -> bool:
    """Whether ``hint`` names a pydantic model or ``Field`` anywhere."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return False
    if isinstance(hint, type) and issubclass(hint, pydantic.BaseModel):
        return True
    if t.get_origin(hint) is t.Annotated and any(
        isinstance(meta, pydantic.fields.FieldInfo) for meta in hint.__metadata__
    ):
        return True
    return any(uses_pydantic(arg) for arg in t.get_args(hint))


def translate(hint: t.Any, defs: dict[str, dict[str, t.Any]]) -> Translation:
    """pydantic's schema of ``hint`` (its ``$defs`` moved into ``defs``) and
    a converter that validates with pydantic.

    :raises TypeError: when pydantic cannot describe the hint.
    """
    pydantic = sys.modules["pydantic"]
    try:
        adapter = pydantic.TypeAdapter(hint)
        schema = adapter.json_schema(ref_template="#/$defs/{model}")
    except pydantic.PydanticUserError as exc:
        raise TypeError(f"pydantic cannot describe {hint!r}: {exc}") from None
    found = schema.pop("$defs", {})
    if isinstance(hint, type) and issubclass(hint, pydantic.BaseModel):
        # A model is named, as dataclasses are: one definition, referenced.
        found[hint.__name__] = schema
        schema = {"$ref": f"#/$defs/{hint.__name__}"}
    for name, definition in found.items():
        if defs.get(name, definition) != definition:
            raise TypeError(f"two different models are both named {name!r}")
        defs[name] = definition

    def convert(value: t.Any) -> t.Any:
        # ValidationError is a ValueError: it becomes InvalidArguments.
        return adapter.validate_python(value)

    return schema, convert


def dump(value: t.Any) -> t.Any:
    """A pydantic model's JSON form, for ``structuredContent``; else ``value``."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    return value
