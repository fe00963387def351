"""A tiny validator for tool arguments against the tools' JSON schemas.

Models send arguments that are almost right: a missing key, a number as a
string, a misspelled option. Each problem becomes one plain sentence the model
can act on, so the session's tool executor (:mod:`agentcore.turn.tool_calls`)
reports them as an error result, once per call and for every tool, instead of
the call failing somewhere deep inside the tool.

Only the subset of JSON Schema the tools use is understood: ``type`` (one name
or a list), ``required``, ``properties``, ``additionalProperties`` (unknown
keys are refused unless it is true or a schema), ``enum``, ``items``,
``minimum``/``maximum``, ``minItems``/``maxItems`` and ``minLength``.
Unknown schema keywords are ignored, never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# JSON type name -> predicate over the decoded Python value.
_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    # bool is an int subclass in Python but never a JSON integer; 3.0 is one.
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list | tuple),
    "object": lambda v: isinstance(v, Mapping),
    "null": lambda v: v is None,
}


def validate_args(schema: Mapping[str, Any], args: Any) -> list[str]:
    """Return the problems with ``args`` under ``schema``; empty when valid."""
    problems: list[str] = []
    _check(schema, args, "arguments", problems)
    return problems


def format_problems(tool_name: str, problems: Sequence[str]) -> str:
    """One message for the model listing every problem at once."""
    lines = "\n".join(f"- {p}" for p in problems)
    return f"Invalid arguments for {tool_name}:\n{lines}\nFix the arguments and call {tool_name} again."


def _type_name(value: Any) -> str:
    for name, ok in _TYPE_CHECKS.items():
        if name != "number" and ok(value):
            return name
    return "number" if _TYPE_CHECKS["number"](value) else type(value).__name__


def _check(schema: Mapping[str, Any], value: Any, where: str, problems: list[str]) -> None:
    expected = schema.get("type")
    if expected is not None:
        names = [expected] if isinstance(expected, str) else list(expected)
        if not any(_TYPE_CHECKS.get(n, lambda _: True)(value) for n in names):
            problems.append(f"{where}: expected {' or '.join(names)}, got {_type_name(value)} {_preview(value)}")
            return
    if "enum" in schema and value not in tuple(schema["enum"]):
        allowed = ", ".join(repr(v) for v in schema["enum"])
        problems.append(f"{where}: {value!r} is not one of {allowed}")
    if _TYPE_CHECKS["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} is above the maximum {schema['maximum']}")
    if isinstance(value, str) and "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"{where}: must not be empty" if schema["minLength"] == 1 else f"{where}: too short")
    if isinstance(value, list | tuple):
        _check_array(schema, value, where, problems)
    if isinstance(value, Mapping):
        _check_object(schema, value, where, problems)


def _check_array(schema: Mapping[str, Any], value: Sequence[Any], where: str, problems: list[str]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        problems.append(f"{where}: needs at least {schema['minItems']} item(s), got {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        problems.append(f"{where}: allows at most {schema['maxItems']} item(s), got {len(value)}")
    items = schema.get("items")
    if isinstance(items, Mapping):
        for i, item in enumerate(value):
            _check(items, item, f"{where}[{i}]", problems)


def _check_object(schema: Mapping[str, Any], value: Mapping[str, Any], where: str, problems: list[str]) -> None:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    prefix = "" if where == "arguments" else f"{where}."
    for key in schema.get("required", ()):
        if key not in value:
            problems.append(f"{prefix}{key}: required but missing")
    extra = schema.get("additionalProperties", False)
    for key, item in value.items():
        sub = properties.get(key)
        if sub is not None:
            _check(sub, item, f"{prefix}{key}", problems)
        elif isinstance(extra, Mapping):
            _check(extra, item, f"{prefix}{key}", problems)
        elif extra is not True and "properties" in schema:
            known = ", ".join(sorted(properties)) or "none"
            problems.append(f"{prefix}{key}: unknown argument (expected one of: {known})")


_PREVIEW_CHARS = 40  # enough to recognise the value, short enough for one line


def _preview(value: Any) -> str:
    text = repr(value)
    return f"({text[:_PREVIEW_CHARS]}...)" if len(text) > _PREVIEW_CHARS else f"({text})"
