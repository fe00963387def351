from __future__ import annotations

import pytest

from agentcore.tools.base import FunctionTool
from agentcore.tools.registry import (
    CompositeRegistry,
    StaticToolRegistry,
    ToolFilter,
    ToolRegistryError,
    tool_specs,
)


def _t(name: str, desc: str = "") -> FunctionTool:
    async def fn(args, ctx):
        return name

    return FunctionTool(name, desc or name, {"type": "object"}, fn=fn)


BUILTIN = StaticToolRegistry.of([_t("read_file"), _t("write_file"), _t("edit_file"), _t("bash"), _t("grep")])


def test_static_registry_is_immutable_and_rejects_duplicates():
    with pytest.raises(ToolRegistryError, match="registered twice"):
        StaticToolRegistry.of([_t("a"), _t("a")])
    assert BUILTIN.names() == ("bash", "edit_file", "grep", "read_file", "write_file")
    assert not hasattr(BUILTIN, "add")


def test_session_layer_shadows_process_tools():
    session = StaticToolRegistry.of([_t("bash", "session bash"), _t("mcp__gh__issues")])
    reg = CompositeRegistry([BUILTIN])
    reg.push_layer(session)
    assert reg.get("bash").description == "session bash"
    assert "mcp__gh__issues" in reg.names()
    assert [s.name for s in tool_specs(reg)] == sorted(reg.names())


def test_allowlist_globs_bare_names_exactly():
    f = ToolFilter(allow=("read_file", "*_file", "mcp__github__*"), deny=("write_file",))
    reg = CompositeRegistry([BUILTIN, StaticToolRegistry.of([_t("mcp__github__pr"), _t("mcp__slack__post")])], tool_filter=f)
    assert reg.names() == ("edit_file", "mcp__github__pr", "read_file")
    assert reg.get("bash") is None and reg.get("write_file") is None
    assert ToolFilter(allow=("read",)).permits("read_file") is False


def test_pattern_matching_nothing_names_pattern_and_available_tools():
    with pytest.raises(ToolRegistryError) as err:
        ToolFilter(allow=("read_file", "raed_*")).validate(BUILTIN.names(), source="profile 'coder'")
    msg = str(err.value)
    assert "'raed_*'" in msg and "profile 'coder'" in msg and "read_file" in msg and "bash" in msg
    # MCP patterns are checked later, spawn_agent is a virtual member
    ToolFilter(allow=("mcp__github__*", "spawn_agent")).validate(BUILTIN.names())


def test_spawn_agent_is_a_flag():
    assert ToolFilter(allow=("read_file", "spawn_agent")).allows_spawn
    assert not ToolFilter(allow=("read_file",)).allows_spawn
    assert ToolFilter().allows_spawn


async def test_allowlist_error_at_session_creation(make_core, info):
    from agentcore import SessionPolicy

    core, _ = make_core([], tools=[_t("read_file")], policy=SessionPolicy(profile="p", tool_filter=ToolFilter(allow=("reed_file",))))
    with pytest.raises(ToolRegistryError, match="reed_file"):
        async with core.open_session(info):
            pass


def test_an_allowlist_keeps_the_plan_tool_but_a_deny_removes_it():
    from agentcore.permissions import EXIT_PLAN_MODE
    from agentcore.tools.registry import MODE_TOOLS

    assert EXIT_PLAN_MODE in MODE_TOOLS  # the two names cannot drift apart
    plan = StaticToolRegistry.of([_t(EXIT_PLAN_MODE)])
    allow_reads = CompositeRegistry([BUILTIN, plan], tool_filter=ToolFilter(allow=("read_file",)))
    assert allow_reads.names() == (EXIT_PLAN_MODE, "read_file")
    denied = CompositeRegistry([BUILTIN, plan], tool_filter=ToolFilter(allow=("read_file",), deny=(EXIT_PLAN_MODE,)))
    assert denied.get(EXIT_PLAN_MODE) is None and denied.names() == ("read_file",)
    ToolFilter(allow=("read_file", EXIT_PLAN_MODE)).validate(BUILTIN.names())  # naming it is not a typo
