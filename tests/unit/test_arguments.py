"""Declared arguments: schemas, validation and conversion, without Flask."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import json
import time
import typing as t
import uuid
from collections import abc

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from marshmallow import EXCLUDE
from marshmallow import INCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validate
from marshmallow import validates_schema

from flask_mcp.components.arguments import HintArguments
from flask_mcp.components.arguments import InvalidArguments
from flask_mcp.components.arguments import JsonSchemaArguments
from flask_mcp.components.arguments import MarshmallowArguments
from flask_mcp.components.arguments import dump_structured
from flask_mcp.components.arguments import output_schema
from flask_mcp.components.docstrings import param_descriptions


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass
class Shape:
    """A shape on the canvas."""

    name: str
    color: Color
    corners: list[Point]
    origin: Point | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    label: str = dataclasses.field(default="", metadata={"description": "Shown text."})


@dataclasses.dataclass
class Tree:
    value: int
    children: list[Tree] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Positive:
    n: int

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("n must be positive")


class Movie(t.TypedDict):
    title: str
    year: t.NotRequired[int]


class Rating(t.TypedDict, total=False):
    """A rating of a movie."""

    movie: t.Required[Movie]
    color: Color


class Described:
    """Stands for pydantic's ``Field(description=...)`` in ``Annotated``."""

    description = "from an object"


def schema_of(fn: t.Callable[..., t.Any]) -> dict[str, t.Any]:
    schema = HintArguments(fn).json_schema
    Draft202012Validator.check_schema(schema)
    return schema


def prop(fn: t.Callable[..., t.Any], name: str) -> dict[str, t.Any]:
    return schema_of(fn)["properties"][name]


def errors_of(model: t.Any, arguments: t.Any) -> list[str]:
    with pytest.raises(InvalidArguments) as info:
        model.load(arguments)
    assert str(info.value) == "; ".join(info.value.errors)
    return info.value.errors


# HintArguments: schemas


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (str, {"type": "string"}),
        (bool, {"type": "boolean"}),
        (list, {"type": "array"}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (t.Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (
            set[int],
            {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
        ),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (dict, {"type": "object"}),
        (
            dict[str, int],
            {"type": "object", "additionalProperties": {"type": "integer"}},
        ),
        (t.Mapping[str, t.Any], {"type": "object"}),
        (t.Any, {}),
        (t.Optional[int], {"type": ["integer", "null"]}),  # noqa: UP045 - the old spelling
        (str | None, {"type": ["string", "null"]}),
        (int | str, {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        (t.Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
        (t.Literal[1, "a"], {"enum": [1, "a"]}),
        (t.Literal["only"], {"type": "string", "const": "only"}),
        (Color, {"type": "string", "enum": ["red", "blue"]}),
        (Size, {"type": "integer", "enum": [1, 2]}),
        (datetime.date, {"type": "string", "format": "date"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        (
            t.Annotated[int, "How many."],
            {"type": "integer", "description": "How many."},
        ),
        (t.Annotated[int, {"minimum": 0}], {"type": "integer", "minimum": 0}),
        (
            t.Annotated[str, Described()],
            {"type": "string", "description": "from an object"},
        ),
    ],
)
def test_hint_schema(hint: t.Any, expected: dict[str, t.Any]) -> None:
    def fn(value: hint) -> None: ...  # type: ignore[valid-type]

    fn.__annotations__["value"] = hint
    assert schema_of(fn) == {
        "type": "object",
        "properties": {"value": expected},
        "required": ["value"],
        "additionalProperties": False,
    }


def test_fixed_tuple_schema() -> None:
    def fn(pair: tuple[int, str]) -> None: ...

    assert prop(fn, "pair") == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string"}],
        "items": False,
        "minItems": 2,
    }


def test_missing_annotation_has_no_constraint() -> None:
    def fn(anything, count=3):  # type: ignore[no-untyped-def]
        ...

    schema = schema_of(fn)
    assert schema["properties"] == {"anything": {}, "count": {"default": 3}}
    assert schema["required"] == ["anything"]


def test_defaults_are_optional_and_published() -> None:
    def fn(
        a: int, b: str = "x", c: Color = Color.BLUE, d: object = object()
    ) -> None: ...

    schema = schema_of(fn)
    assert schema["required"] == ["a"]
    assert schema["properties"]["b"] == {"type": "string", "default": "x"}
    assert schema["properties"]["c"]["default"] == "blue"
    assert "default" not in schema["properties"]["d"]


def test_none_default_accepts_null() -> None:
    def fn(a: int = None, b: list[int] | None = None) -> None: ...  # type: ignore[assignment]

    schema = schema_of(fn)
    assert schema["properties"]["a"] == {"type": ["integer", "null"], "default": None}
    assert schema["properties"]["b"]["type"] == ["array", "null"]
    assert HintArguments(fn).load({"a": None, "b": None}) == {"a": None, "b": None}


def test_optional_enum_and_dataclass_use_any_of() -> None:
    def fn(color: Color | None, point: Point | None) -> None: ...

    schema = schema_of(fn)
    assert schema["properties"]["color"] == {
        "anyOf": [{"type": "string", "enum": ["red", "blue"]}, {"type": "null"}]
    }
    assert schema["properties"]["point"] == {
        "anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}]
    }


def test_dataclass_schema_under_defs() -> None:
    def fn(shape: Shape) -> None: ...

    schema = schema_of(fn)
    assert schema["properties"]["shape"] == {"$ref": "#/$defs/Shape"}
    shape = schema["$defs"]["Shape"]
    assert shape["required"] == ["name", "color", "corners"]
    assert shape["additionalProperties"] is False
    assert shape["description"] == "A shape on the canvas."
    assert shape["properties"]["corners"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/Point"},
    }
    assert shape["properties"]["label"] == {
        "type": "string",
        "default": "",
        "description": "Shown text.",
    }
    assert "default" not in shape["properties"]["tags"]
    assert schema["$defs"]["Point"]["required"] == ["x"]
    assert "description" not in schema["$defs"]["Point"]


def test_recursive_dataclass_schema() -> None:
    def fn(tree: Tree) -> None: ...

    schema = schema_of(fn)
    assert schema["$defs"]["Tree"]["properties"]["children"]["items"] == {
        "$ref": "#/$defs/Tree"
    }


def test_typeddict_schema() -> None:
    def fn(rating: Rating) -> None: ...

    schema = schema_of(fn)
    assert schema["$defs"]["Rating"]["required"] == ["movie"]
    assert schema["$defs"]["Rating"]["description"] == "A rating of a movie."
    assert schema["$defs"]["Movie"] == {
        "type": "object",
        "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
        "required": ["title"],
        "additionalProperties": False,
    }


def test_same_class_name_gets_distinct_defs() -> None:
    Other = dataclasses.make_dataclass("Point", [("z", str)])

    def fn(a: Point, b: t.Any) -> None: ...

    fn.__annotations__["b"] = Other
    schema = schema_of(fn)
    assert schema["properties"]["b"] == {"$ref": "#/$defs/Point2"}
    assert schema["$defs"]["Point2"]["required"] == ["z"]


def test_docstring_descriptions() -> None:
    def fn(a: int, b: t.Annotated[str, "From the hint."], c: bool) -> None:
        """Do a thing.

        :param a: The a,
            on two lines.
        :param b: Loses to the hint.
        :param c: The c.
        """

    schema = schema_of(fn)
    assert schema["properties"]["a"]["description"] == "The a, on two lines."
    assert schema["properties"]["b"]["description"] == "From the hint."
    assert schema["properties"]["c"]["description"] == "The c."


def test_param_descriptions_google_style() -> None:
    doc = """Summary.

    Args:
        city (str): The city,
            with its country.
        days: How many days.

    Returns:
        days: not a parameter.
    """
    assert param_descriptions(doc) == {
        "city": "The city, with its country.",
        "days": "How many days.",
    }
    assert param_descriptions(None) == {}


def test_excluded_parameter_is_not_published() -> None:
    def fn(ctx: object, query: str) -> None: ...

    # names imported under TYPE_CHECKING only: unresolvable, but not needed
    fn.__annotations__["ctx"] = "OnlyForTypeCheckers"
    fn.__annotations__["return"] = "Neither"
    model = HintArguments(fn, exclude={"ctx"})
    assert list(model.json_schema["properties"]) == ["query"]
    assert model.load({"query": "q"}) == {"query": "q"}
    with pytest.raises(NameError):
        HintArguments(fn)


def test_wrapped_function_uses_original_hints() -> None:
    def fn(count: int) -> None: ...

    @functools.wraps(fn)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> None: ...

    assert schema_of(wrapper)["properties"] == {"count": {"type": "integer"}}


@pytest.mark.parametrize(
    "fn",
    [
        lambda *args: None,
        lambda **kwargs: None,
        eval("lambda a, /: None"),  # positional-only cannot be passed by keyword
    ],
)
def test_unnamed_parameters_are_refused(fn: t.Callable[..., t.Any]) -> None:
    with pytest.raises(TypeError, match="cannot be a JSON argument"):
        HintArguments(fn)


@pytest.mark.parametrize(
    "hint",
    [complex, dict[int, str], Color | Point, type(Ellipsis)],
)
def test_hints_without_json_form_are_refused(hint: t.Any) -> None:
    def fn(value: t.Any) -> None: ...

    fn.__annotations__["value"] = hint
    with pytest.raises(TypeError):
        HintArguments(fn)


# HintArguments: validation and conversion


def two_ints(a: int, b: int) -> int:
    return a + b


def test_load_valid_arguments() -> None:
    assert HintArguments(two_ints).load({"a": 1, "b": 2}) == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"a": "abc", "b": 1}, ["a: 'abc' is not of type 'integer'"]),
        ({"a": True, "b": 1}, ["a: True is not of type 'integer'"]),
        ({"a": 1.5, "b": 1}, ["a: 1.5 is not of type 'integer'"]),
        ({"a": 1}, ["'b' is a required property"]),
        (None, ["'a' is a required property", "'b' is a required property"]),
        ([1, 2], ["[1, 2] is not of type 'object'"]),
    ],
)
def test_load_invalid_arguments(arguments: t.Any, expected: list[str]) -> None:
    assert errors_of(HintArguments(two_ints), arguments) == expected


def test_unknown_arguments_are_named() -> None:
    errors = errors_of(HintArguments(two_ints), {"a": 1, "b": 2, "c": 3, "d": 4})
    assert errors == [
        "Additional properties are not allowed ('c', 'd' were unexpected)"
    ]


def test_scalars_are_strict() -> None:
    def fn(flag: bool, ratio: float, name: str) -> None: ...

    model = HintArguments(fn)
    assert model.load({"flag": True, "ratio": 2, "name": "n"})["ratio"] == 2
    assert errors_of(model, {"flag": 1, "ratio": "2", "name": 3}) == [
        "flag: 1 is not of type 'boolean'",
        "ratio: '2' is not of type 'number'",
        "name: 3 is not of type 'string'",
    ]


def test_integral_float_becomes_int() -> None:
    loaded = HintArguments(two_ints).load({"a": 1.0, "b": 2})
    assert loaded == {"a": 1, "b": 2}
    assert type(loaded["a"]) is int


def test_load_does_not_change_the_input() -> None:
    arguments = {"color": "red"}

    def fn(color: Color) -> None: ...

    assert HintArguments(fn).load(arguments) == {"color": Color.RED}
    assert arguments == {"color": "red"}


def test_enum_and_literal_conversion() -> None:
    def fn(
        color: Color, size: Size, mode: t.Literal["fast", "slow"] = "fast"
    ) -> None: ...

    model = HintArguments(fn)
    loaded = model.load({"color": "blue", "size": 2, "mode": "slow"})
    assert loaded == {"color": Color.BLUE, "size": Size.LARGE, "mode": "slow"}
    assert loaded["color"] is Color.BLUE
    assert errors_of(model, {"color": "green", "size": 3, "mode": "medium"}) == [
        "color: 'green' is not one of ['red', 'blue']",
        "size: 3 is not one of [1, 2]",
        "mode: 'medium' is not one of ['fast', 'slow']",
    ]


def test_literal_keeps_bool_and_int_apart() -> None:
    def fn(flag: t.Literal[True]) -> None: ...

    model = HintArguments(fn)
    assert model.load({"flag": True}) == {"flag": True}
    assert errors_of(model, {"flag": 1}) == [
        "flag: 1 is not of type 'boolean'",
        "flag: True was expected",
    ]


def test_dataclass_conversion_is_recursive() -> None:
    def fn(shape: Shape) -> None: ...

    loaded = HintArguments(fn).load(
        {
            "shape": {
                "name": "tri",
                "color": "red",
                "corners": [{"x": 0}, {"x": 1, "y": 2}],
                "origin": {"x": 5, "y": 5},
            }
        }
    )
    assert loaded["shape"] == Shape(
        name="tri",
        color=Color.RED,
        corners=[Point(0), Point(1, 2)],
        origin=Point(5, 5),
    )


def test_dataclass_errors_name_the_path() -> None:
    def fn(shape: Shape) -> None: ...

    shape = {"name": "s", "color": "red", "corners": [{"x": 0}, {"x": "1"}], "z": 1}
    assert errors_of(HintArguments(fn), {"shape": shape}) == [
        "shape.corners.1.x: '1' is not of type 'integer'",
        "shape: Additional properties are not allowed ('z' was unexpected)",
    ]


def test_optional_dataclass_errors_come_from_the_object_branch() -> None:
    def fn(point: Point | None = None) -> None: ...

    model = HintArguments(fn)
    assert model.load({"point": None}) == {"point": None}
    assert model.load({"point": {"x": 1}}) == {"point": Point(1)}
    assert errors_of(model, {"point": {"x": "a"}}) == [
        "point.x: 'a' is not of type 'integer'"
    ]


def test_recursive_dataclass_conversion() -> None:
    def fn(tree: Tree) -> None: ...

    loaded = HintArguments(fn).load({"tree": {"value": 1, "children": [{"value": 2}]}})
    assert loaded["tree"] == Tree(1, [Tree(2)])


def test_dataclass_post_init_error_is_invalid_arguments() -> None:
    def fn(p: Positive) -> None: ...

    assert errors_of(HintArguments(fn), {"p": {"n": -1}}) == ["p: n must be positive"]


def test_typeddict_conversion() -> None:
    def fn(rating: Rating, movie: Movie) -> None: ...

    loaded = HintArguments(fn).load(
        {"rating": {"movie": {"title": "M"}, "color": "red"}, "movie": {"title": "N"}}
    )
    assert loaded["rating"] == {"movie": {"title": "M"}, "color": Color.RED}
    assert loaded["movie"] == {"title": "N"}


def test_containers_are_converted() -> None:
    def fn(
        pair: tuple[int, Color],
        many: tuple[Color, ...],
        unique: frozenset[str],
        points: dict[str, Point],
        colors: list[Color],
    ) -> None: ...

    loaded = HintArguments(fn).load(
        {
            "pair": [1, "red"],
            "many": ["red", "blue"],
            "unique": ["a", "b"],
            "points": {"o": {"x": 0}},
            "colors": ["blue"],
        }
    )
    assert loaded == {
        "pair": (1, Color.RED),
        "many": (Color.RED, Color.BLUE),
        "unique": frozenset({"a", "b"}),
        "points": {"o": Point(0)},
        "colors": [Color.BLUE],
    }


def test_fixed_tuple_length_is_checked() -> None:
    def fn(pair: tuple[int, str]) -> None: ...

    model = HintArguments(fn)
    assert errors_of(model, {"pair": [1]}) == ["pair: [1] is too short"]
    assert errors_of(model, {"pair": [1, "a", 2]}) == [
        "pair: Expected at most 2 items but found 1 extra: 2"
    ]


def test_string_formats_are_converted() -> None:
    def fn(when: datetime.datetime, day: datetime.date, key: uuid.UUID) -> None: ...

    model = HintArguments(fn)
    key = uuid.uuid4()
    loaded = model.load(
        {"when": "2025-01-02T03:04:05", "day": "2025-01-02", "key": str(key)}
    )
    assert loaded == {
        "when": datetime.datetime(2025, 1, 2, 3, 4, 5),
        "day": datetime.date(2025, 1, 2),
        "key": key,
    }
    errors = errors_of(model, {"when": "soon", "day": "2025-01-02", "key": str(key)})
    assert errors == ["when: Invalid isoformat string: 'soon'"]


def test_annotated_keywords_are_enforced() -> None:
    def fn(count: t.Annotated[int, {"minimum": 1}]) -> None: ...

    assert errors_of(HintArguments(fn), {"count": 0}) == [
        "count: 0 is less than the minimum of 1"
    ]


def test_load_cost_per_call() -> None:
    """The validator is built once; a call stays far below a millisecond."""
    model = HintArguments(two_ints)
    calls = 2000
    start = time.perf_counter()
    for _ in range(calls):
        model.load({"a": 1, "b": 2})
    assert (time.perf_counter() - start) / calls < 0.0005


# MarshmallowArguments


class AddressSchema(Schema):
    street = fields.Str(required=True)
    verified = fields.Bool(dump_only=True)


class PersonSchema(Schema):
    class Meta:
        description = "A person to add."

    name = fields.Str(
        required=True, metadata={"description": "Full name.", "example": "Ada"}
    )
    id = fields.Int(dump_only=True)
    password = fields.Str(load_only=True)
    age = fields.Int(validate=validate.Range(min=0, max=150, max_inclusive=False))
    score = fields.Float(
        validate=[validate.Range(min=0, min_inclusive=False), validate.Range(min=1)]
    )
    home = fields.Nested(AddressSchema)
    previous = fields.List(fields.Nested(AddressSchema))
    street_only = fields.Nested(AddressSchema(only=("street",)))
    site = fields.Url()
    point = fields.Tuple((fields.Int(), fields.Int()))
    kind = fields.Constant("person")
    color = fields.Enum(Color, by_value=True)
    nick = fields.Str(data_key="nickName", allow_none=True)
    born = fields.DateTime(format="rfc")


def test_marshmallow_schema_is_self_contained() -> None:
    schema = MarshmallowArguments(PersonSchema).json_schema
    Draft202012Validator.check_schema(schema)
    assert "#/components" not in json.dumps(schema)
    assert schema["properties"]["home"] == {"$ref": "#/$defs/Address"}
    assert schema["properties"]["previous"]["items"] == {"$ref": "#/$defs/Address"}
    assert schema["properties"]["street_only"] == {"$ref": "#/$defs/Address1"}
    assert schema["$defs"]["Address"] == {
        "type": "object",
        "properties": {"street": {"type": "string"}},
        "required": ["street"],
        "additionalProperties": False,
    }


def test_marshmallow_fields_gaps_are_fixed() -> None:
    properties = MarshmallowArguments(PersonSchema()).json_schema["properties"]
    assert "id" not in properties
    assert properties["password"]["type"] == "string"
    assert properties["name"] == {
        "type": "string",
        "description": "Full name.",
        "examples": ["Ada"],
    }
    assert properties["age"] == {
        "type": "integer",
        "minimum": 0,
        "exclusiveMaximum": 150,
    }
    assert properties["score"] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "minimum": 1,
    }
    assert properties["site"] == {"type": "string", "format": "uri"}
    assert properties["point"] == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "integer"}],
        "items": False,
        "minItems": 2,
    }
    assert properties["kind"]["const"] == "person"
    assert properties["color"]["enum"] == ["red", "blue"]
    assert properties["nickName"]["type"] == ["string", "null"]
    assert "format" not in properties["born"]


@pytest.mark.parametrize(
    ("unknown", "expected"),
    [(None, False), (EXCLUDE, False), (INCLUDE, True)],
)
def test_marshmallow_additional_properties(unknown: str | None, expected: bool) -> None:
    schema = PersonSchema() if unknown is None else PersonSchema(unknown=unknown)
    json_schema = MarshmallowArguments(schema).json_schema
    assert json_schema["additionalProperties"] is expected
    assert json_schema["description"] == "A person to add."


def test_marshmallow_load() -> None:
    model = MarshmallowArguments(PersonSchema)
    loaded = model.load(
        {"name": "Ada", "nickName": None, "color": "red", "home": {"street": "Main"}}
    )
    assert loaded == {
        "name": "Ada",
        "nick": None,
        "color": Color.RED,
        "home": {"street": "Main"},
        "kind": "person",
    }


def test_marshmallow_errors_name_fields() -> None:
    model = MarshmallowArguments(PersonSchema)
    errors = errors_of(
        model,
        {
            "age": 150,
            "home": {"street": 1},
            "previous": [{"street": "a"}, {}],
            "id": 3,
        },
    )
    assert sorted(errors) == [
        "age: Must be greater than or equal to 0 and less than 150.",
        "home.street: Not a valid string.",
        "id: Unknown field.",
        "name: Missing data for required field.",
        "previous.1.street: Missing data for required field.",
    ]
    assert errors_of(model, None) == ["name: Missing data for required field."]


class NodeSchema(Schema):
    name = fields.Str(required=True)
    children = fields.List(fields.Nested(lambda: NodeSchema()))


def test_marshmallow_recursive_schema() -> None:
    model = MarshmallowArguments(NodeSchema)
    schema = model.json_schema
    Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {
        "$ref": "#/$defs/Node"
    }
    tree = {"name": "a", "children": [{"name": "b", "children": []}]}
    Draft202012Validator(schema).validate(tree)
    assert model.load(tree) == tree


class WindowSchema(Schema):
    start = fields.Int(required=True)
    end = fields.Int(required=True)

    @validates_schema
    def check_order(self, data: dict[str, int], **kwargs: t.Any) -> None:
        if data["start"] > data["end"]:
            raise ValidationError("start must not be after end")


def test_marshmallow_schema_level_errors_have_no_field() -> None:
    errors = errors_of(MarshmallowArguments(WindowSchema), {"start": 2, "end": 1})
    assert errors == ["start must not be after end"]


class ObjectSchema(Schema):
    x = fields.Int()

    @post_load
    def make(self, data: dict[str, int], **kwargs: t.Any) -> Point:
        return Point(**data)


def test_marshmallow_load_must_give_a_mapping() -> None:
    with pytest.raises(TypeError, match="not a mapping"):
        MarshmallowArguments(ObjectSchema).load({"x": 1})


def test_marshmallow_output_schema_uses_dump_fields() -> None:
    schema = output_schema(PersonSchema)
    assert schema is not None
    Draft202012Validator.check_schema(schema)
    assert "id" in schema["properties"]
    assert "password" not in schema["properties"]
    assert "verified" in schema["$defs"]["Address"]["properties"]
    assert output_schema(PersonSchema()) == schema


# JsonSchemaArguments

VERBATIM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "where": {"$ref": "#/$defs/Place"},
        "limit": {"type": "integer", "minimum": 1},
    },
    "required": ["where"],
    "additionalProperties": False,
    "$defs": {"Place": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def test_verbatim_schema_is_kept_identical() -> None:
    model = JsonSchemaArguments(VERBATIM)
    assert json.dumps(model.json_schema) == json.dumps(VERBATIM)


def test_verbatim_schema_is_a_private_copy() -> None:
    given = json.loads(json.dumps(VERBATIM))
    model = JsonSchemaArguments(given)
    given["required"].append("limit")
    assert model.json_schema["required"] == ["where"]
    assert model.load({"where": {}}) == {"where": {}}


def test_verbatim_schema_validates() -> None:
    model = JsonSchemaArguments(VERBATIM)
    arguments = {"where": {"city": "Paris"}, "limit": 3}
    assert model.load(arguments) == arguments
    assert errors_of(model, {"where": {"city": 1}, "limit": 0, "x": 1}) == [
        "where.city: 1 is not of type 'string'",
        "limit: 0 is less than the minimum of 1",
        "Additional properties are not allowed ('x' was unexpected)",
    ]
    assert errors_of(model, None) == ["'where' is a required property"]


def test_verbatim_schema_uses_its_draft() -> None:
    draft7 = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "dependencies": {"a": ["b"]},
    }
    assert errors_of(JsonSchemaArguments(draft7), {"a": 1}) == [
        "'b' is a dependency of 'a'"
    ]
    # draft 2020-12 renamed the keyword: the old one is only an annotation there
    plain = {key: value for key, value in draft7.items() if key != "$schema"}
    assert JsonSchemaArguments(plain).load({"a": 1}) == {"a": 1}


def test_verbatim_schema_must_be_an_object_schema() -> None:
    with pytest.raises(ValueError, match="object"):
        JsonSchemaArguments({"type": "array"})
    with pytest.raises(SchemaError):
        JsonSchemaArguments({"type": "object", "properties": {"a": {"type": "int"}}})


# output_schema and dump_structured


@pytest.mark.parametrize(
    "annotation",
    [str, bytes, None, type(None), int, list[int], dict | None, t.Any, Color],
)
def test_unstructured_annotations_have_no_output_schema(annotation: t.Any) -> None:
    assert output_schema(annotation) is None


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (dict, {"type": "object"}),
        (
            dict[str, int],
            {"type": "object", "additionalProperties": {"type": "integer"}},
        ),
        (abc.Mapping[str, t.Any], {"type": "object"}),
        (
            Point,
            {
                "type": "object",
                "properties": {
                    "x": {"type": "integer"},
                    "y": {"type": "integer", "default": 0},
                },
                "required": ["x"],
                "additionalProperties": False,
            },
        ),
        (
            t.Annotated[Movie, "a movie"],
            {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "year": {"type": "integer"},
                },
                "required": ["title"],
                "additionalProperties": False,
                "description": "a movie",
            },
        ),
    ],
)
def test_output_schema(annotation: t.Any, expected: dict[str, t.Any]) -> None:
    schema = output_schema(annotation)
    assert schema == expected
    Draft202012Validator.check_schema(schema)


def test_output_schema_keeps_nested_and_recursive_defs() -> None:
    shape = output_schema(Shape)
    assert shape is not None
    assert shape["type"] == "object"
    assert set(shape["$defs"]) == {"Point"}
    tree = output_schema(Tree)
    assert tree is not None
    assert tree["$defs"]["Tree"]["properties"] == tree["properties"]


def test_dump_structured_matches_output_schema() -> None:
    shape = Shape("s", Color.BLUE, [Point(1, 2)], tags=["a"])
    dumped = dump_structured(shape)
    assert dumped == {
        "name": "s",
        "color": "blue",
        "corners": [{"x": 1, "y": 2}],
        "origin": None,
        "tags": ["a"],
        "label": "",
    }
    Draft202012Validator(output_schema(Shape)).validate(dumped)
    json.dumps(dumped)


def test_dump_structured_values() -> None:
    when = datetime.datetime(2025, 1, 2, 3, 4)
    key = uuid.UUID(int=1)
    movie: Movie = {"title": "M", "year": 1999}
    assert dump_structured(movie) == {"title": "M", "year": 1999}
    assert dump_structured(
        {"c": Color.RED, "at": when, "k": key, "t": (1, Size.SMALL)}
    ) == {
        "c": "red",
        "at": "2025-01-02T03:04:00",
        "k": str(key),
        "t": [1, 1],
    }
    assert dump_structured({Color.RED: 1, 2: 3}) == {"red": 1, "2": 3}


@pytest.mark.parametrize("value", ["text", b"bytes", None, [1, 2], 3, Point])
def test_dump_structured_refuses_unstructured(value: t.Any) -> None:
    assert dump_structured(value) is None


def test_invalid_arguments_message() -> None:
    exc = InvalidArguments(["a: bad", "b: worse"])
    assert str(exc) == "a: bad; b: worse"
    assert exc.errors == ["a: bad", "b: worse"]
