"""marshmallow schemas to self-contained JSON Schema (draft 2020-12).

apispec's marshmallow converter does the work, as in flask-smorest; it writes
OpenAPI 3.1 schema objects, and :class:`JsonSchemaConverter` closes the gaps
between those and a JSON Schema a client can use on its own:

- nested schemas are referenced as ``#/$defs/X`` and shipped under ``$defs``
  (not ``#/components/schemas/X``, which only exists in an OpenAPI document);
- inputs leave ``dump_only`` fields out, outputs leave ``load_only`` ones out;
- inputs say ``additionalProperties: false`` unless ``unknown=INCLUDE``, even
  with ``Meta.description`` (apispec 6.10.1 drops it then);
- exclusive :class:`~marshmallow.validate.Range` bounds stay exclusive;
- ``Tuple`` gets ``prefixItems``, ``Constant`` gets ``const``, ``URL`` gets
  ``format: uri`` and ``example`` becomes ``examples``.
"""

from __future__ import annotations

import functools
import typing as t
import warnings

import marshmallow
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import make_schema_key
from apispec.ext.marshmallow.common import resolve_schema_instance
from apispec.ext.marshmallow.field_converter import DEFAULT_FIELD_MAPPING
from apispec.ext.marshmallow.field_converter import make_type_list
from apispec.ext.marshmallow.openapi import OpenAPIConverter

SchemaLike = type[marshmallow.Schema] | marshmallow.Schema


def input_json_schema(schema: SchemaLike) -> dict[str, t.Any]:
    """The JSON Schema of what ``schema.load`` accepts."""
    return _convert(schema, for_input=True)


def output_json_schema(schema: SchemaLike) -> dict[str, t.Any]:
    """The JSON Schema of what ``schema.dump`` returns."""
    return _convert(schema, for_input=False)


def _convert(schema: SchemaLike, *, for_input: bool) -> dict[str, t.Any]:
    """Run a throwaway spec, then lift its components into ``$defs``."""
    plugin = MarshmallowPlugin()
    plugin.Converter = functools.partial(JsonSchemaConverter, for_input=for_input)  # type: ignore[assignment]
    spec = APISpec("flask-mcp", "1", "3.1.0", plugins=[plugin])
    with warnings.catch_warnings():
        # $defs names are private to this one schema: a renamed duplicate is harmless.
        warnings.filterwarnings("ignore", "Multiple schemas resolved", UserWarning)
        result: dict[str, t.Any] = plugin.converter.schema2jsonschema(schema)  # type: ignore[union-attr]
    defs = spec.components.schemas
    return {**result, "$defs": dict(defs)} if defs else result


class JsonSchemaConverter(OpenAPIConverter):
    """apispec's converter, writing JSON Schema for one direction of data.

    :param for_input: describe ``load`` input (else ``dump`` output).
    """

    def __init__(self, *, for_input: bool, **kwargs: t.Any) -> None:
        self.for_input = for_input
        super().__init__(**kwargs)
        # A copy: apispec's table is shared by every converter in the process.
        self.field_mapping = {
            **DEFAULT_FIELD_MAPPING,
            marshmallow.fields.URL: ("string", "uri"),
            marshmallow.fields.Tuple: ("array", None),
        }

    def init_attribute_functions(self) -> None:
        super().init_attribute_functions()
        self.attribute_functions += [self.tuple2properties, self.constant2properties]

    def schema2jsonschema(self, schema: SchemaLike) -> dict[str, t.Any]:
        """The object schema of ``schema``'s fields for this direction."""
        instance = resolve_schema_instance(schema)
        fields = instance.load_fields if self.for_input else instance.dump_fields
        result: dict[str, t.Any] = self.fields2jsonschema(
            fields, partial=instance.partial
        )
        for key in ("title", "description"):
            if hasattr(instance.Meta, key):
                result[key] = getattr(instance.Meta, key)
        if self.for_input:
            result["additionalProperties"] = instance.unknown == marshmallow.INCLUDE
        return result

    def get_ref_dict(self, schema: marshmallow.Schema) -> dict[str, t.Any]:
        ref = {"$ref": f"#/$defs/{self.refs[make_schema_key(schema)]}"}
        if getattr(schema, "many", False):
            return {"type": "array", "items": ref}
        return ref

    def field2property(
        self, field: marshmallow.fields.Field[t.Any]
    ) -> dict[str, t.Any]:
        prop: dict[str, t.Any] = super().field2property(field)
        if "example" in prop:
            prop.setdefault("examples", [prop.pop("example")])
        for key in ("format", "pattern"):
            # apispec writes None for DateTime formats it has no name for.
            if key in prop and prop[key] is None:
                del prop[key]
        return prop

    def field2range(
        self, field: marshmallow.fields.Field[t.Any], ret: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """Numeric bounds, keeping ``min_inclusive=False`` exclusive."""
        if not set(make_type_list(ret.get("type"))) & {"number", "integer"}:
            return t.cast(dict[str, t.Any], super().field2range(field, ret=ret))
        bounds: dict[str, t.Any] = {}
        for validator in field.validators:
            if not isinstance(validator, marshmallow.validate.Range):
                continue
            low = "minimum" if validator.min_inclusive else "exclusiveMinimum"
            high = "maximum" if validator.max_inclusive else "exclusiveMaximum"
            _tighten(bounds, low, validator.min, max)
            _tighten(bounds, high, validator.max, min)
        return bounds

    def tuple2properties(
        self, field: marshmallow.fields.Field[t.Any], **kwargs: t.Any
    ) -> dict[str, t.Any]:
        if not isinstance(field, marshmallow.fields.Tuple):
            return {}
        items = [self.field2property(inner) for inner in field.tuple_fields]
        return {"prefixItems": items, "items": False, "minItems": len(items)}

    def constant2properties(
        self, field: marshmallow.fields.Field[t.Any], **kwargs: t.Any
    ) -> dict[str, t.Any]:
        if not isinstance(field, marshmallow.fields.Constant):
            return {}
        return {"const": field.constant}


def _tighten(
    bounds: dict[str, t.Any], key: str, value: t.Any, pick: t.Callable[..., t.Any]
) -> None:
    """Keep the strictest of several validators' bounds; Decimals as JSON numbers."""
    if value is None:
        return
    number = value if isinstance(value, (int, float)) else float(value)
    bounds[key] = pick(bounds[key], number) if key in bounds else number
