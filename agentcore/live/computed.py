"""Computed (derived) state variables and the order they are evaluated in.

A :class:`Computed` names a state key whose value is a pure function of other
keys (its declared dependencies). :func:`order_computed` checks a set of them
once, when the store is built, and returns them in dependency order.

Invariant: a set of computed variables that :func:`order_computed` accepts has
no cycle and depends only on known keys, so evaluating them in the returned
order always sees up-to-date inputs; anything else is rejected with a
:class:`StateConfigError` naming the cycle or the unknown key, before any
conversation starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from agentcore.errors import VoiceError

ComputeFn = Callable[[Mapping[str, Any]], Any]


class StateConfigError(VoiceError, ValueError):
    """A state declaration that cannot work: a cycle, an unknown or reserved key."""


@attrs.frozen
class Computed:
    """``key`` = ``fn(state)``, recomputed whenever one of ``deps`` changes.

    ``fn`` receives a read-only mapping of the whole state; it should read only
    the keys it declares (the store recomputes on changes to those alone).
    """

    key: str
    deps: tuple[str, ...] = attrs.field(converter=tuple)
    fn: ComputeFn


def order_computed(computed: Sequence[Computed], known: Iterable[str]) -> list[Computed]:
    """``computed`` in dependency order; raises :class:`StateConfigError` for a
    duplicate, an unknown dependency or a cycle."""
    by_key: dict[str, Computed] = {}
    for c in computed:
        if c.key in by_key:
            raise StateConfigError(f"computed state {c.key!r} is declared twice")
        by_key[c.key] = c
    known_keys = set(known) | set(by_key)
    for c in computed:
        for dep in c.deps:
            if dep not in known_keys:
                raise StateConfigError(f"computed state {c.key!r} depends on unknown key {dep!r}")
    ordered: list[Computed] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(key: str) -> None:
        if key in done:
            return
        if key in visiting:
            cycle = [*visiting[visiting.index(key) :], key]
            raise StateConfigError(f"computed state has a cycle: {' -> '.join(cycle)}")
        visiting.append(key)
        for dep in by_key[key].deps:
            if dep in by_key:
                visit(dep)
        visiting.pop()
        done.add(key)
        ordered.append(by_key[key])

    for c in computed:
        visit(c.key)
    return ordered


def dependents(ordered: Sequence[Computed]) -> dict[str, tuple[Computed, ...]]:
    """For each key, the computed variables to re-evaluate (in order) when it changes,
    including those that depend on it through other computed variables."""
    direct: dict[str, set[str]] = {}
    for c in ordered:
        for dep in c.deps:
            direct.setdefault(dep, set()).add(c.key)
    result: dict[str, tuple[Computed, ...]] = {}
    position = {c.key: i for i, c in enumerate(ordered)}
    for key, first in direct.items():
        reached: set[str] = set()
        stack = list(first)
        while stack:
            k = stack.pop()
            if k not in reached:
                reached.add(k)
                stack.extend(direct.get(k, ()))
        result[key] = tuple(sorted((ordered[position[k]] for k in reached), key=lambda c: position[c.key]))
    return result
