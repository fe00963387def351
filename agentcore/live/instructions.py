"""Instructions from state: templates, modifiers and the context narrative.

* :func:`render` fills ``{key}`` placeholders from state. ``{key|fallback}``
  gives a default; a missing key renders as its declared default or as empty.
  ``{{`` and ``}}`` are literal braces.
* :class:`InstructionModifier` adds text while a predicate over state holds.
* :class:`ContextBuilder` renders selected state keys into a short narrative
  ("Known so far: the caller's name is Ada; the order number is 42.").

Invariant: rendering never raises and never executes anything: a placeholder
is a plain key lookup (no attribute access, indexing, format specs or calls),
values are shown with ``str`` and cut to :data:`VALUE_CHARS`, and a predicate
that raises counts as false. A template that cannot be parsed renders as is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

log = logging.getLogger(__name__)

StatePredicate = Callable[[Mapping[str, Any]], bool]
VALUE_CHARS = 300  # a state value shown in instructions; longer values are cut
NARRATIVE_CHARS = 1_200  # the whole context narrative
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.\-]*)(?:\|([^{}]*))?\}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_show(v) for v in value)
    text = str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def render(template: str, state: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> str:
    """``template`` with each ``{key}`` replaced by the state's value (see the module doc)."""
    defaults = defaults or {}

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        key, fallback = match.group(1), match.group(2)
        value = state.get(key)
        if _empty(value):
            value = fallback if fallback is not None else defaults.get(key, "")
        return _show(value)

    return _PLACEHOLDER.sub(replace, template)


def holds(predicate: StatePredicate, state: Mapping[str, Any]) -> bool:
    try:
        return bool(predicate(state))
    except Exception as exc:  # noqa: BLE001 - a user predicate must not break the conversation
        log.warning("instruction predicate failed: %s", exc)
        return False


@attrs.frozen
class InstructionModifier:
    """Adds ``text`` (a template) to the instructions while ``when(state)`` holds."""

    text: str
    when: StatePredicate
    name: str = ""


@attrs.frozen
class ContextField:
    key: str
    label: str  # "the caller's name": rendered "the caller's name is Ada"


@attrs.frozen
class ContextBuilder:
    """Renders the filled ``fields`` as one short sentence for the model."""

    fields: tuple[ContextField, ...] = attrs.field(converter=lambda fs: tuple(f if isinstance(f, ContextField) else ContextField(*f) for f in fs))
    intro: str = "Known so far:"
    missing: str = ""  # e.g. "Still missing: {missing}." -- rendered with the unfilled labels

    def render(self, state: Mapping[str, Any]) -> str:
        known = [f"{f.label} is {_show(state[f.key])}" for f in self.fields if not _empty(state.get(f.key))]
        absent = [f.label for f in self.fields if _empty(state.get(f.key))]
        parts = []
        if known:
            parts.append(f"{self.intro} {'; '.join(known)}.")
        if absent and self.missing:
            parts.append(render(self.missing, {"missing": ", ".join(absent)}))
        text = " ".join(parts)
        return text if len(text) <= NARRATIVE_CHARS else text[: NARRATIVE_CHARS - 1] + "…"


def compose(
    template: str,
    modifiers: Sequence[InstructionModifier],
    context: ContextBuilder | None,
    state: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
) -> str:
    """A template, the modifiers that hold now and the narrative, as one text."""
    parts = [render(template, state, defaults)] if template else []
    parts += [render(m.text, state, defaults) for m in modifiers if holds(m.when, state)]
    if context is not None:
        parts.append(context.render(state))
    return "\n\n".join(p for p in parts if p)
