"""Tool registries: an immutable process-wide set, session layers over it, and
glob allowlists from the profile.

``StaticToolRegistry`` holds the built-in tools and never changes after it is
built. ``CompositeRegistry`` stacks registries, earlier layers shadowing later
ones (session tools over process tools), and applies a :class:`ToolFilter`.
Layers may change over time (MCP servers add tools as they become ready);
the composite reads them on every call, so the next LLM request sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs
import pathspec

from agentcore.errors import ToolError
from agentcore.llm.base import ToolSpec
from agentcore.tools.base import Tool

SPAWN_AGENT = "spawn_agent"  # virtual: injected by the session only where sub-agents are allowed
# Tools that steer the session's mode rather than act (agentcore.permissions.EXIT_PLAN_MODE):
# an allowlist does not hide them (a plan-mode session must be able to present its plan),
# an explicit deny does.
MODE_TOOLS = frozenset({"exit_plan_mode"})
DYNAMIC_PREFIX = "mcp__"  # tools that appear after start-up; patterns for them cannot be checked early


class ToolRegistryError(ToolError, ValueError):
    pass


@runtime_checkable
class ToolRegistry(Protocol):
    def get(self, name: str) -> Tool | None: ...

    def names(self) -> tuple[str, ...]: ...

    def tools(self) -> tuple[Tool, ...]: ...


SPEC_CACHE_MAX = 4_096  # tools; MCP refreshes create new tool objects, so the cache is bounded

_SPECS: dict[int, tuple[Tool, ToolSpec]] = {}  # id(tool) -> (tool, its spec); the tool is kept alive


def tool_spec(tool: Tool) -> ToolSpec:
    """The tool as the model sees it. Cached per tool object: tools are immutable,
    and freezing a schema is the most expensive part of building a request."""
    hit = _SPECS.get(id(tool))
    if hit is not None and hit[0] is tool:
        return hit[1]
    spec = ToolSpec(tool.name, tool.description, tool.parameters)
    if len(_SPECS) >= SPEC_CACHE_MAX:
        _SPECS.clear()
    _SPECS[id(tool)] = (tool, spec)
    return spec


def tool_specs(registry: ToolRegistry) -> tuple[ToolSpec, ...]:
    """What the model is told about the tools, sorted by name for stable prompts (and caches)."""
    return tuple(tool_spec(t) for t in sorted(registry.tools(), key=lambda t: t.name))


class StaticToolRegistry:
    """An immutable name -> tool map. Build it with :meth:`builder`."""

    def __init__(self, tools: Mapping[str, Tool]) -> None:
        self._tools = dict(tools)

    @staticmethod
    def builder() -> StaticToolRegistryBuilder:
        return StaticToolRegistryBuilder()

    @classmethod
    def of(cls, tools: Iterable[Tool]) -> StaticToolRegistry:
        builder = cls.builder()
        for tool in tools:
            builder.add(tool)
        return builder.build()

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._tools))

    def tools(self) -> tuple[Tool, ...]:
        return tuple(self._tools[n] for n in sorted(self._tools))


class StaticToolRegistryBuilder:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def add(self, tool: Tool) -> StaticToolRegistryBuilder:
        if tool.name in self._tools:
            raise ToolRegistryError(f"tool {tool.name!r} is registered twice")
        self._tools[tool.name] = tool
        return self

    def build(self) -> StaticToolRegistry:
        return StaticToolRegistry(self._tools)


def _spec(patterns: Sequence[str]) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def tool_name_matches(pattern: str, names: Iterable[str]) -> bool:
    """Whether an allowlist pattern matches any of ``names``."""
    spec = _spec([pattern])
    return any(spec.match_file(n) for n in names)


@attrs.frozen
class ToolFilter:
    """Allow and deny glob lists over tool names (``read_file``, ``*_file``, ``mcp__github__*``).

    ``allow=None`` allows everything; deny wins over allow.
    """

    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] = ()
    _allow_spec: pathspec.PathSpec | None = attrs.field(init=False, eq=False, repr=False)
    _deny_spec: pathspec.PathSpec = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_allow_spec", None if self.allow is None else _spec(self.allow))
        object.__setattr__(self, "_deny_spec", _spec(self.deny))

    def permits(self, name: str) -> bool:
        if self._deny_spec.match_file(name):
            return False
        return self._allow_spec is None or name in MODE_TOOLS or self._allow_spec.match_file(name)

    @property
    def allows_spawn(self) -> bool:
        """Whether the virtual ``spawn_agent`` tool is in the allowlist."""
        return self.permits(SPAWN_AGENT)

    def validate(self, available: Iterable[str], *, source: str = "the profile") -> None:
        """Fail loudly on a pattern that matches none of ``available`` (a typo
        would otherwise silently remove a tool). MCP patterns are checked when
        their servers report tools, not here."""
        names = sorted({*available, SPAWN_AGENT, *MODE_TOOLS})
        for field, patterns in (("tools.allow", self.allow or ()), ("tools.deny", self.deny)):
            for pattern in patterns:
                if pattern.startswith(DYNAMIC_PREFIX):
                    continue
                if not tool_name_matches(pattern, names):
                    raise ToolRegistryError(
                        f"{field} pattern {pattern!r} in {source} matches no tool; "
                        f"available tools: {', '.join(names)}"
                    )


@runtime_checkable
class StartingLayer(Protocol):
    """A layer whose tools may still be on their way (MCP servers starting):
    ``wait_ready`` returns once a model request built now would list them, or
    once waiting for them is given up (the layer reports why)."""

    async def wait_ready(self) -> None: ...


class CompositeRegistry:
    """Layers of registries, first layer wins on a name clash, filtered."""

    def __init__(self, layers: Sequence[ToolRegistry], *, tool_filter: ToolFilter | None = None) -> None:
        self._layers = list(layers)
        self.filter = tool_filter or ToolFilter()

    def push_layer(self, registry: ToolRegistry) -> None:
        """Add a layer that shadows all existing ones (session tools)."""
        self._layers.insert(0, registry)

    def get(self, name: str) -> Tool | None:
        if not self.filter.permits(name):
            return None
        for layer in self._layers:
            tool = layer.get(name)
            if tool is not None:
                return tool
        return None

    def names(self) -> tuple[str, ...]:
        seen: set[str] = set()
        for layer in self._layers:
            seen.update(layer.names())
        return tuple(sorted(n for n in seen if self.filter.permits(n)))

    def tools(self) -> tuple[Tool, ...]:
        return tuple(t for n in self.names() if (t := self.get(n)) is not None)

    async def wait_ready(self) -> None:
        """Before a model request: let every :class:`StartingLayer` finish starting."""
        for layer in self._layers:
            if isinstance(layer, StartingLayer):
                await layer.wait_ready()
