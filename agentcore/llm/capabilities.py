"""Model capabilities: parsing them from the catalog, and fitting requests to them.

Invariant: a request that reaches a provider's wire carries only parameters
the model's :class:`Capabilities` say it accepts. :func:`fit_request` drops
the rest (and names them), and :func:`capability_notices` turns what the user
configured but the model ignores into one start-up notice each, so nothing is
dropped silently. Unknown models get the conservative profile (the
:class:`Capabilities` defaults, or the catalog's family profile for a
recognisable name such as ``claude-*``).

Hosted tools (``hosted_tools``) are offered through
:mod:`agentcore.llm.web_search`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from agentcore.errors import InputError
from agentcore.llm.base import API_CHAT, API_MESSAGES, API_RESPONSES, Capabilities, LlmRequest, ModelInfo

APIS = frozenset({API_CHAT, API_RESPONSES, API_MESSAGES})
EFFORT_LEVELS = ("minimal", "low", "medium", "high", "xhigh")
HOSTED_TOOLS = frozenset({"web_search"})
# The keys of a capability table (a [capabilities.NAME] profile or inline in a model's table).
CAPABILITY_KEYS = frozenset(
    {"api", "temperature", "top_p", "reasoning_efforts", "thinking_budget", "image_input", "hosted_tools",
     "prompt_caching"}
)  # fmt: skip


class CapabilityError(InputError):
    """A capability table is malformed (names the file and the key)."""


def _bool(table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise CapabilityError(f"{where}.{key} must be true or false, not {value!r}")
    return value


def _names(table: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...] | frozenset[str],
           default: tuple[str, ...]) -> tuple[str, ...]:  # fmt: skip
    value = table.get(key, default)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise CapabilityError(f"{where}.{key} must be a list of names")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise CapabilityError(f"{where}.{key}: unknown {unknown}; known: {sorted(allowed)}")
    return tuple(value)


def capabilities_from_table(
    table: Mapping[str, Any], *, where: str, base: Capabilities = Capabilities()
) -> Capabilities:
    """The capability keys of ``table`` on top of ``base``; other keys are the caller's."""
    api = table.get("api", base.api)
    if api not in APIS:
        raise CapabilityError(f"{where}.api must be one of {sorted(APIS)}, not {api!r}")
    return Capabilities(
        api=api,
        temperature=_bool(table, "temperature", where, base.temperature),
        top_p=_bool(table, "top_p", where, base.top_p),
        reasoning_efforts=_names(table, "reasoning_efforts", where, EFFORT_LEVELS, base.reasoning_efforts),
        thinking_budget=_bool(table, "thinking_budget", where, base.thinking_budget),
        image_input=_bool(table, "image_input", where, base.image_input),
        hosted_tools=_names(table, "hosted_tools", where, HOSTED_TOOLS, base.hosted_tools),
        prompt_caching=_bool(table, "prompt_caching", where, base.prompt_caching),
    )


def takes_reasoning(caps: Capabilities) -> bool:
    return bool(caps.reasoning_efforts) or caps.thinking_budget


def fit_request(request: LlmRequest, caps: Capabilities) -> tuple[LlmRequest, tuple[str, ...]]:
    """``request`` without the parameters ``caps`` rule out, and their names.
    An effort level the model lacks becomes the nearest one it has."""
    changes: dict[str, Any] = {}
    dropped: list[str] = []
    if request.temperature is not None and not caps.temperature:
        changes["temperature"] = None
        dropped.append("temperature")
    effort = request.reasoning_effort
    if effort is not None and not takes_reasoning(caps):
        changes["reasoning_effort"] = None
        dropped.append("reasoning_effort")
    if not changes:
        return request, ()
    return attrs.evolve(request, **changes), tuple(dropped)


def nearest_effort(level: str, caps: Capabilities) -> str | None:
    """``level`` if the model takes it, else the closest level it takes (None: no reasoning control)."""
    if not caps.reasoning_efforts:
        return None
    if level in caps.reasoning_efforts:
        return level
    rank = EFFORT_LEVELS.index(level) if level in EFFORT_LEVELS else EFFORT_LEVELS.index("medium")
    return min(caps.reasoning_efforts, key=lambda lv: (abs(EFFORT_LEVELS.index(lv) - rank), -EFFORT_LEVELS.index(lv)))


def capability_notices(info: ModelInfo, *, temperature: float | None, reasoning_effort: Any) -> list[str]:
    """One line per configured parameter ``info``'s model does not take (empty: all fit)."""
    caps = info.capabilities
    probe = LlmRequest(
        model=info.id, system="", messages=(), temperature=temperature, reasoning_effort=reasoning_effort
    )
    _fitted, dropped = fit_request(probe, caps)
    why = "" if info.known else " (not in the model catalog: the conservative profile applies)"
    return [f"{info.id} does not take {name}{why}; the configured value is not sent" for name in dropped]

