"""The conversation's state: named values, computed variables, watchers.

:class:`StateStore` holds what the conversation accumulates (the caller's
name, an order number, how many attempts were made), the computed variables
derived from them and the ``session.*`` signals the control plane writes.
Watchers run when a key changes, optionally only when a predicate over the old
and new value holds.

Invariants: a computed variable always equals its function over the current
values of its dependencies (it is re-evaluated, in dependency order, within
the ``set`` that changed one of them); computed keys and the ``session.``
namespace cannot be written with :meth:`StateStore.set`; watchers see every
change exactly once, after the store is consistent.
"""

from __future__ import annotations

import collections
import logging
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agentcore.live.computed import (
    Computed,
    StateConfigError,
    dependents,
    order_computed,
)
from agentcore.live.signals import SIGNAL_KEYS, is_reserved

log = logging.getLogger(__name__)

Watcher = Callable[[str, Any, Any], None]  # key, old, new
ChangePredicate = Callable[[Any, Any], bool]  # old, new
ANY_KEY = "*"


class ReservedKeyError(StateConfigError):
    """A write to a key the store computes or the control plane owns."""


class StateStore:
    def __init__(self, values: Mapping[str, Any] | None = None, *, computed: Iterable[Computed] = (), keys: Iterable[str] = ()) -> None:
        """``values``: initial values; ``computed``: derived variables; ``keys``: other
        keys that will be set later (so computed variables may depend on them)."""
        initial = dict(values or {})
        for key in initial:
            if is_reserved(key):
                raise ReservedKeyError(f"state key {key!r} is in the reserved 'session.' namespace")
        computed = tuple(computed)
        for c in computed:
            if is_reserved(c.key):
                raise ReservedKeyError(f"computed state {c.key!r} is in the reserved 'session.' namespace")
            if c.key in initial:
                raise StateConfigError(f"computed state {c.key!r} also has an initial value")
        self._ordered = order_computed(computed, {*initial, *keys, *SIGNAL_KEYS})
        self._computed_keys = frozenset(c.key for c in self._ordered)
        self._dependents = dependents(self._ordered)
        self._values: dict[str, Any] = initial
        self._view = types.MappingProxyType(self._values)
        self._watchers: dict[str, list[tuple[Watcher, ChangePredicate | None]]] = collections.defaultdict(list)
        self._any: list[tuple[Watcher, ChangePredicate | None]] = []
        self._signals_claimed = False
        self.version = 0  # increases with every change (cheap "did anything change" checks)
        for c in self._ordered:
            self._values[c.key] = self._evaluate(c)

    # ------------------------------------------------------------ reading

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    @property
    def view(self) -> Mapping[str, Any]:
        """A read-only live view of every value."""
        return self._view

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    # ------------------------------------------------------------ writing

    def set(self, key: str, value: Any) -> None:
        if is_reserved(key):
            raise ReservedKeyError(f"state key {key!r} is written by the control plane (the 'session.' namespace is read-only)")
        if key in self._computed_keys:
            raise ReservedKeyError(f"state key {key!r} is computed; set its dependencies instead")
        self._write(key, value)

    def update(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            self.set(key, value)

    def claim_signals(self) -> Callable[[str, Any], None]:
        """The one writer of the ``session.`` namespace (the control plane's signals)."""
        if self._signals_claimed:
            raise ReservedKeyError("the session signals of this state store are already written by another owner")
        self._signals_claimed = True

        def write(key: str, value: Any) -> None:
            if not is_reserved(key):
                raise ReservedKeyError(f"signal key {key!r} is outside the 'session.' namespace")
            self._write(key, value)

        return write

    def restore(self, values: Mapping[str, Any]) -> None:
        """Reload values from a snapshot (signals included); computed keys are re-derived."""
        for key, value in values.items():
            if key not in self._computed_keys:
                self._write(key, value)

    def _write(self, key: str, value: Any) -> None:
        old = self._values.get(key)
        self._values[key] = value
        if old == value:
            return
        changes = [(key, old, value)]
        for c in self._dependents.get(key, ()):
            before = self._values.get(c.key)
            after = self._evaluate(c)
            self._values[c.key] = after
            if before != after:
                changes.append((c.key, before, after))
        self.version += 1
        for k, o, n in changes:
            self._fire(k, o, n)

    def _evaluate(self, c: Computed) -> Any:
        try:
            return c.fn(self._view)
        except Exception as exc:  # noqa: BLE001 - a computed function must not break the conversation
            log.warning("computed state %s failed: %s", c.key, exc)
            return None

    def _fire(self, key: str, old: Any, new: Any) -> None:
        for watcher, when in (*self._watchers.get(key, ()), *self._any):
            if when is None or when(old, new):
                watcher(key, old, new)

    # ------------------------------------------------------------ watching

    def watch(self, key: str, watcher: Watcher, *, when: ChangePredicate | None = None) -> Callable[[], None]:
        """Call ``watcher(key, old, new)`` when ``key`` changes (``"*"``: any key),
        and, with ``when``, only if ``when(old, new)`` holds."""
        target = self._any if key == ANY_KEY else self._watchers[key]
        entry = (watcher, when)
        target.append(entry)
        return lambda: target.remove(entry) if entry in target else None


# Predicates for ``watch(..., when=...)``.


def became(value: Any) -> ChangePredicate:
    """The key changed to ``value``."""
    return lambda old, new: new == value and old != value


def rose_to(threshold: float) -> ChangePredicate:
    """A number crossed ``threshold`` upwards."""
    return lambda old, new: isinstance(new, int | float) and new >= threshold and not (isinstance(old, int | float) and old >= threshold)


def filled() -> ChangePredicate:
    """The key went from empty (None or "") to a value."""
    return lambda old, new: old in (None, "") and new not in (None, "")
