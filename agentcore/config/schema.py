"""The declarative schema machinery behind configuration and profiles.

A schema is a list of :class:`Key` entries, one per setting: its dotted name
(``*`` stands for a name the user chooses, as in ``providers.*.base_url``), its
kind, default, allowed values and a doc string. Validation walks a parsed TOML
document against the schema and returns a flat mapping of concrete key paths
(tuples of segments) to checked values; anything unknown or mistyped raises a
:class:`ConfigError` naming the file, the key and what is allowed.

This module is pure data and checks: no I/O, no heavy imports.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from agentcore.errors import ConfigError

KeyPath = tuple[str, ...]
WILDCARD = "*"


class Kind(enum.Enum):
    STR = "string"
    INT = "integer"
    FLOAT = "number"
    BOOL = "boolean"
    STR_LIST = "list of strings"
    STR_TABLE = "table of strings"
    MODELS = "list of model ids, or table of model id -> limits and prices"
    TABLE_LIST = "list of tables"


class Merge(enum.Enum):
    """How a value from a later layer combines with an earlier one."""

    REPLACE = "replace"
    APPEND = "append"  # lists concatenate (permission rules, hooks), duplicates dropped


@attrs.frozen
class Key:
    name: str
    kind: Kind
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    env: str | None = None  # AGENTCORE_* variable that sets it
    flag: str | None = None  # command-line flag that sets it (for origins and docs)
    merge: Merge = Merge.REPLACE
    secret: bool = False  # values are masked by `agent config show`
    nullable: bool = False  # None (absent) is a valid value
    item_schema: tuple[Key, ...] = ()  # for TABLE_LIST: the keys of each table
    item_check: Any = None  # optional callable(str) -> str | None (error text) for list items

    @property
    def path(self) -> KeyPath:
        return tuple(self.name.split("."))

    def describe_type(self) -> str:
        if self.choices:
            text = " | ".join(f'"{c}"' for c in self.choices)
        else:
            text = self.kind.value
            if self.minimum is not None and self.maximum is not None:
                text += f" in [{self.minimum:g}, {self.maximum:g}]"
            elif self.minimum is not None:
                text += f" >= {self.minimum:g}"
            elif self.maximum is not None:
                text += f" <= {self.maximum:g}"
        return text


# ----------------------------------------------------------------- key paths

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_key(path: Sequence[str]) -> str:
    """Dotted TOML key, quoting segments that are not bare keys."""
    return ".".join(p if _BARE_KEY.match(p) else '"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in path)


def loads_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` that also reports absurd nesting (``a = [[[[...``, which
    makes tomllib recurse past the interpreter's limit) as a ``TOMLDecodeError``:
    every TOML reader here (config, profiles, the trust summary of a cloned
    repository) gets a clear error instead of a crash."""
    import tomllib

    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("nested too deeply") from None


def parse_key(text: str, *, source: str) -> KeyPath:
    """A dotted TOML key (``a.b``, ``providers."my.host".base_url``) as a path."""
    import tomllib

    try:
        doc = loads_toml(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        raise ConfigError("not a valid dotted key", source=source, key=text) from None
    path: list[str] = []
    node: Any = doc
    while isinstance(node, dict):
        (name, node), = node.items()
        path.append(name)
    return tuple(path)


# ------------------------------------------------------------------- schema


@attrs.define
class _Node:
    key: Key | None = None
    children: dict[str, _Node] = attrs.field(factory=dict)


class Schema:
    """A set of keys, indexed as a tree for validation and lookup."""

    def __init__(self, keys: Iterable[Key], *, what: str = "key") -> None:
        self.keys: tuple[Key, ...] = tuple(keys)
        self.what = what
        self._root = _Node()
        for key in self.keys:
            node = self._root
            for segment in key.path:
                node = node.children.setdefault(segment, _Node())
            if node.key is not None:
                raise ValueError(f"duplicate schema key {key.name}")
            node.key = key

    def lookup(self, path: KeyPath) -> Key | None:
        node = self._find(path)
        return node.key if node is not None else None

    def is_table(self, path: KeyPath) -> bool:
        node = self._find(path)
        return node is not None and node.key is None

    def _find(self, path: KeyPath) -> _Node | None:
        node = self._root
        for segment in path:
            child = node.children.get(segment) or node.children.get(WILDCARD)
            if child is None:
                return None
            node = child
        return node

    def allowed_at(self, path: KeyPath) -> str:
        node = self._find(path)
        if node is None:
            return ""
        names = sorted(node.children)
        return ", ".join("<name>" if n == WILDCARD else n for n in names)

    def validate(self, doc: Mapping[str, Any], *, source: str) -> dict[KeyPath, Any]:
        """Check a parsed document; return concrete key path -> checked value."""
        flat: dict[KeyPath, Any] = {}
        self._walk(self._root, (), doc, source, flat)
        return flat

    def _walk(self, node: _Node, prefix: KeyPath, table: Mapping[str, Any], source: str, out: dict) -> None:
        for name, value in table.items():
            path = (*prefix, name)
            child = node.children.get(name) or node.children.get(WILDCARD)
            if child is None:
                raise ConfigError(
                    f"unknown {self.what}", source=source, key=format_key(path), allowed=self.allowed_at(prefix)
                )
            if child.key is not None:
                out[path] = check_value(child.key, value, source=source, path=path)
            elif isinstance(value, Mapping):
                self._walk(child, path, value, source, out)
            else:
                raise ConfigError(
                    f"expected a table, got {_type_name(value)}",
                    source=source,
                    key=format_key(path),
                    allowed=self.allowed_at(path),
                )

    def defaults(self) -> dict[KeyPath, Any]:
        """Defaults of the keys with no wildcard segment."""
        return {k.path: k.default for k in self.keys if WILDCARD not in k.path}

    def wildcard_defaults(self, path: KeyPath) -> dict[KeyPath, Key]:
        """For a concrete table instance (``providers.openai``), its keys with defaults."""
        node = self._find(path)
        if node is None:
            return {}
        return {(*path, name): child.key for name, child in node.children.items() if child.key is not None}


# ----------------------------------------------------------- value checking


def _type_name(value: Any) -> str:
    match value:
        case bool():
            return f"boolean {str(value).lower()}"
        case int() | float():
            return f"number {value}"
        case str():
            return f'string "{value}"'
        case Mapping():
            return "a table"
        case list() | tuple():
            return "a list"
        case _:
            return type(value).__name__


def check_value(key: Key, value: Any, *, source: str, path: KeyPath | None = None) -> Any:
    """Return ``value`` converted to the key's kind, or raise :class:`ConfigError`."""
    name = format_key(path or key.path)

    def fail(message: str, allowed: str | None = None) -> ConfigError:
        return ConfigError(message, source=source, key=name, allowed=allowed or key.describe_type())

    match key.kind:
        case Kind.STR:
            if not isinstance(value, str):
                raise fail(f"expected a string, got {_type_name(value)}")
            if key.choices and value not in key.choices:
                raise fail(f'"{value}" is not an allowed value')
            return value
        case Kind.BOOL:
            if not isinstance(value, bool):
                raise fail(f"expected true or false, got {_type_name(value)}")
            return value
        case Kind.INT | Kind.FLOAT:
            ok = isinstance(value, int) and not isinstance(value, bool)
            if key.kind is Kind.FLOAT:
                ok = ok or isinstance(value, float)
            if not ok:
                raise fail(f"expected {'an integer' if key.kind is Kind.INT else 'a number'}, got {_type_name(value)}")
            if (key.minimum is not None and value < key.minimum) or (key.maximum is not None and value > key.maximum):
                raise fail(f"{value} is out of range")
            return float(value) if key.kind is Kind.FLOAT else value
        case Kind.STR_LIST:
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise fail(f"expected a list of strings, got {_type_name(value)}")
            for item in value:
                problem = key.item_check(item) if key.item_check else None
                if problem:
                    raise fail(problem)
            return tuple(value)
        case Kind.STR_TABLE:
            if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
                raise fail(f"expected a table of strings, got {_type_name(value)}")
            return dict(value)
        case Kind.MODELS:
            return _check_models(value, fail)
        case Kind.TABLE_LIST:
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, Mapping) for v in value):
                raise fail(f"expected a list of tables, got {_type_name(value)}")
            return tuple(_check_item_table(key, item, i, source, name) for i, item in enumerate(value))
        case _:
            raise AssertionError(key.kind)


# Limits and prices a model entry may carry, with their kinds.
MODEL_FIELDS: dict[str, Kind] = {
    "context_window": Kind.INT,
    "max_output": Kind.INT,
    "input_price": Kind.FLOAT,  # US dollars per million tokens
    "output_price": Kind.FLOAT,
    "cache_read_price": Kind.FLOAT,
    "cache_write_price": Kind.FLOAT,
}


def _check_models(value: Any, fail: Any) -> dict[str, dict[str, Any]]:
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            raise fail("expected model ids (strings)")
        return {model_id: {} for model_id in value}
    if not isinstance(value, Mapping):
        raise fail(f"expected a list or a table, got {_type_name(value)}")
    models: dict[str, dict[str, Any]] = {}
    for model_id, entry in value.items():
        if not isinstance(entry, Mapping):
            raise fail(f"model {model_id!r}: expected a table of limits and prices, got {_type_name(entry)}")
        checked: dict[str, Any] = {}
        for field, field_value in entry.items():
            kind = MODEL_FIELDS.get(field)
            if kind is None:
                raise fail(f"model {model_id!r}: unknown field {field!r}", ", ".join(MODEL_FIELDS))
            is_number = isinstance(field_value, (int, float)) and not isinstance(field_value, bool)
            if not is_number or (kind is Kind.INT and not isinstance(field_value, int)) or field_value < 0:
                raise fail(f"model {model_id!r}: {field} must be a non-negative {kind.value}")
            checked[field] = field_value
        models[model_id] = checked
    return models


def _check_item_table(key: Key, item: Mapping[str, Any], index: int, source: str, name: str) -> dict[str, Any]:
    fields = {k.name: k for k in key.item_schema}
    out: dict[str, Any] = {}
    for field, field_value in item.items():
        field_key = fields.get(field)
        if field_key is None:
            raise ConfigError(
                f"unknown field {field!r} in entry {index + 1}", source=source, key=name, allowed=", ".join(fields)
            )
        out[field] = check_value(field_key, field_value, source=source, path=(*key.path, str(index + 1), field))
    for field_key in key.item_schema:
        if field_key.name not in out:
            if field_key.default is None and not field_key.nullable:
                raise ConfigError(f"entry {index + 1} is missing {field_key.name!r}", source=source, key=name)
            out[field_key.name] = field_key.default
    return out


def parse_text_value(key: Key, text: str, *, source: str) -> Any:
    """Interpret a string from the environment or a flag for ``key``.

    Strings stay strings; booleans accept true/false/1/0/yes/no; numbers parse;
    lists are comma-separated; anything else must be a TOML literal.
    """
    match key.kind:
        case Kind.STR:
            return check_value(key, text, source=source)
        case Kind.BOOL:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f'"{text}" is not a boolean', source=source, key=key.name, allowed="true, false")
        case Kind.INT | Kind.FLOAT:
            try:
                number: int | float = int(text) if key.kind is Kind.INT else float(text)
            except ValueError:
                raise ConfigError(
                    f'"{text}" is not a {key.kind.value}', source=source, key=key.name, allowed=key.describe_type()
                ) from None
            return check_value(key, number, source=source)
        case Kind.STR_LIST:
            return check_value(key, [p.strip() for p in text.split(",") if p.strip()], source=source)
        case _:
            return check_value(key, parse_toml_literal(text), source=source)


def parse_toml_literal(text: str) -> Any:
    """``text`` as a TOML value if it is one (``3``, ``true``, ``["a"]``), else the string itself."""
    import tomllib

    try:
        return loads_toml(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
