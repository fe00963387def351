"""JSON from outside the process, parsed with a nesting limit.

Invariant: a value returned by :func:`loads_bounded` (or passed by
:func:`check_depth`) is nested at most ``max_depth`` levels, so every
recursive walk over it later (freezing, encoding, hashing, token counting,
journaling) stays far from Python's recursion limit. Input nested deeper is a
:class:`JsonTooDeep` error naming the limit, never a ``RecursionError`` that
escapes and ends the process.

The depth check is an explicit stack walk (no recursion), run after the C
parser; ``json.loads`` itself raising ``RecursionError`` on absurd input is
caught and reported the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agentcore.errors import InputError

# Levels of arrays/objects accepted from peers (ACP clients, models, MCP servers).
# Real messages stay under ~20; 100 leaves room for deep tool arguments while a
# recursive walk of 100 levels costs a tenth of the default recursion limit.
MAX_JSON_DEPTH = 100


class JsonTooDeep(InputError):
    """The value nests more than ``limit`` levels of arrays and objects.

    ``parsed`` is the value when the parser itself got through it (so a
    JSON-RPC error can still echo the request's id), else None."""

    def __init__(self, limit: int, parsed: Any = None) -> None:
        super().__init__(f"nested more than {limit} levels deep")
        self.limit = limit
        self.parsed = parsed


def check_depth(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`JsonTooDeep` when ``value`` nests deeper than ``max_depth``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > max_depth:
            raise JsonTooDeep(max_depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | tuple))


def _openings(text: str | bytes) -> int:
    """An upper bound on the nesting depth of JSON ``text`` (brackets inside
    strings count too), at C speed."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def loads_bounded(
    text: str | bytes,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """``json.loads`` that refuses input nested deeper than ``max_depth``.

    Raises ``ValueError`` (``json.JSONDecodeError``, ``UnicodeDecodeError`` or
    :class:`JsonTooDeep`) for anything that is not acceptable JSON.
    """
    try:
        value = json.loads(text, parse_constant=parse_constant)
    except RecursionError:
        raise JsonTooDeep(max_depth) from None
    if _openings(text) <= max_depth:
        return value  # cannot nest deeper than it opens brackets: the common, small message
    try:
        check_depth(value, max_depth)
    except JsonTooDeep:
        raise JsonTooDeep(max_depth, value) from None
    return value
