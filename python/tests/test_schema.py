"""snakepit_bridge.schema: type hints -> JSON Schema, docstring parameter descriptions, and the argument checks."""

from __future__ import annotations

import enum
import sys
import typing
from typing import Any, Dict, List, Literal, Optional, Tuple, Union

import pytest

from snakepit_bridge.schema import (MAX_ITEMS_CHECKED, compile_check, ensure_input_schema, input_schema,
                                    param_descriptions, type_schema)


class Color(enum.Enum):
    RED = "r"
    GREEN = "g"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


UserId = typing.NewType("UserId", int)


@pytest.mark.parametrize("hint, schema", [
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (str, {"type": "string"}),
    (bool, {"type": "boolean"}),
    (bytes, {"type": "string", "format": "binary"}),
    (type(None), {"type": "null"}),
    (None, {"type": "null"}),
    (Any, {}),
    (object, {}),
    (list, {"type": "array"}),
    (List[int], {"type": "array", "items": {"type": "integer"}}),
    (typing.Sequence[str], {"type": "array", "items": {"type": "string"}}),
    (typing.Set[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
    (Tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
    (Tuple[int, str], {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                       "minItems": 2, "maxItems": 2}),
    (dict, {"type": "object"}),
    (Dict[str, Any], {"type": "object"}),
    (Dict[str, List[float]], {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}}),
    (typing.Mapping[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
    (Optional[int], {"type": ["integer", "null"]}),
    (Union[int, str, None], {"type": ["integer", "string", "null"]}),
    (Union[List[int], None], {"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]}),
    (Union[int, Any], {}),
    (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
    (Literal[1, "x"], {"enum": [1, "x"]}),
    (Color, {"type": "string", "enum": ["r", "g"]}),
    (Level, {"type": "integer", "enum": [1, 2]}),
    (UserId, {"type": "integer"}),
    (typing.Callable[[int], int], {}),
    ("int", {"type": "integer"}),
    ("list[str]", {"type": "array", "items": {"type": "string"}}),
    ("int | None", {"type": ["integer", "null"]}),
    ("NoSuchName", {}),
])
def test_type_schema(hint, schema):
    assert type_schema(hint) == schema


def test_annotated_gives_a_description():
    assert type_schema(typing.Annotated[int, "how many"]) == {"type": "integer", "description": "how many"}


@pytest.mark.skipif(sys.version_info < (3, 10), reason="X | Y types need Python 3.10")
def test_pep604_union_objects():
    assert type_schema(eval("int | None")) == {"type": ["integer", "null"]}


def test_typeddict_properties_and_required_keys():
    class Point(typing.TypedDict):
        x: int
        y: float

    class Partial(typing.TypedDict, total=False):
        label: str

    assert type_schema(Point) == {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "number"}},
                                  "required": ["x", "y"]}
    assert type_schema(Partial) == {"type": "object", "properties": {"label": {"type": "string"}}}


def test_input_schema_defaults_kinds_and_nullable_defaults():
    def f(a: int, b: str = "x", c: int = None, *args, d: Color = Color.GREEN, e=(), **kw: float):  # noqa: RUF013
        pass

    assert input_schema(f) == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "string", "default": "x"},
            "c": {"type": ["integer", "null"], "default": None},
            "d": {"type": "string", "enum": ["r", "g"], "default": "g"},
            "e": {"default": []},
        },
        "required": ["a"],
        "additionalProperties": {"type": "number"},
    }


def test_input_schema_of_positional_only_and_params_style():
    def positional(a: int, /, b: int):
        pass

    def snakepit_style(params):
        pass

    assert input_schema(positional)["properties"] == {"b": {"type": "integer"}}
    assert input_schema(snakepit_style) == {"type": "object", "additionalProperties": True}


def test_forward_references_that_do_not_resolve_become_any():
    def f(a: "Missing", b: "int"):  # noqa: F821
        pass

    assert input_schema(f)["properties"] == {"a": {}, "b": {"type": "integer"}}


def test_param_descriptions_in_three_styles():
    google = """Summary.

    Args:
        a (int): first
            continued.
        b: second.

    Returns:
        something
    """
    numpy = """Summary.

    Parameters
    ----------
    a : int
        first
    b
        second

    Returns
    -------
    int
    """
    rest = """Summary.

    :param a: first
    :param int b: second
    :returns: x
    """
    assert param_descriptions(google) == {"a": "first continued.", "b": "second."}
    assert param_descriptions(numpy) == {"a": "first", "b": "second"}
    assert param_descriptions(rest) == {"a": "first", "b": "second"}
    assert param_descriptions(None) == {}


def test_ensure_input_schema_from_annotation_texts():
    spec = {"name": "f", "parameters": [
        {"name": "x", "kind": "positional_or_keyword", "annotation": "Optional[float]", "required": False,
         "default": None},
        {"name": "items", "kind": "keyword_only", "annotation": "list[int]", "required": True},
        {"name": "opaque", "kind": "positional_or_keyword", "annotation": "np.ndarray", "required": False},
        {"name": "rest", "kind": "var_keyword", "required": False},
    ]}
    assert ensure_input_schema(spec)["input_schema"] == {
        "type": "object",
        "properties": {"x": {"type": ["number", "null"], "default": None},
                       "items": {"type": "array", "items": {"type": "integer"}},
                       "opaque": {}},
        "required": ["items"],
        "additionalProperties": True,
    }
    kept = {"name": "g", "parameters": [], "input_schema": {"type": "object"}}
    assert ensure_input_schema(kept)["input_schema"] == {"type": "object"}


@pytest.mark.parametrize("schema, value, problem", [
    ({"type": "integer"}, 3, None),
    ({"type": "integer"}, 3.0, None),
    ({"type": "integer"}, 3.5, "x: expected integer, got number 3.5"),
    ({"type": "integer"}, True, "x: expected integer, got boolean True"),
    ({"type": "number"}, 2, None),
    ({"type": "number"}, "2", "x: expected number, got string '2'"),
    ({"type": "string", "format": "binary"}, b"ab", None),
    ({"type": "string", "format": "binary"}, "ab", "x: expected bytes, got string 'ab'"),
    ({"type": ["integer", "null"]}, None, None),
    ({"enum": [1, "a"]}, True, "x: expected one of 1, 'a', got True"),
    ({"type": "array", "items": {"type": "string"}}, ["a", 1], "x[1]: expected string, got integer 1"),
    ({"type": "array", "maxItems": 1}, [1, 2], "x: expected at most 1 items, got 2"),
    ({"type": "object", "properties": {"k": {"type": "integer"}}, "required": ["k"]}, {}, "x: missing required key 'k'"),
    ({"type": "object", "additionalProperties": False}, {"z": 1}, "x: unexpected key 'z'"),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, {"z": "1"}, "x.z: expected integer, got string '1'"),
    ({"type": "integer", "minimum": 1}, 0, "x: must be >= 1, got 0"),
    ({"type": "string", "pattern": "^a"}, "b", "x: must match ^a, got 'b'"),
    ({"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]}, ["a"],
     "x[0]: expected integer, got string 'a'"),
    ({"type": "integer"}, object(), None),  # not a wire type (a resolved reference, say): not ours to judge
])
def test_compile_check(schema, value, problem):
    assert compile_check(schema)(value, "x") == problem


def test_accept_anything_compiles_to_none():
    assert compile_check({}) is None
    assert compile_check({"description": "only words"}) is None


def test_long_arrays_are_checked_up_to_the_limit():
    check = compile_check({"type": "array", "items": {"type": "number"}})
    assert check([1.0] * MAX_ITEMS_CHECKED + ["late"], "x") is None
    assert check([1.0] * (MAX_ITEMS_CHECKED - 1) + ["in range"], "x") is not None
