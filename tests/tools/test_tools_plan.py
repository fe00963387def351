from agentcore.events import FanoutEmitter, PlanEntry, PlanUpdated
from agentcore.tools.builtin import ToolSettings, builtin_tools
from agentcore.tools.plan import UpdatePlanTool
from agentcore.tools.search import SearchEngine
from tools_executor import call_tool

import pytest


async def test_update_plan_emits_event(make_ctx):
    emitter = FanoutEmitter()
    seen = []
    emitter.add_observer(seen.append)
    ctx = make_ctx(emit=emitter.emit)
    result = await UpdatePlanTool().execute(
        {
            "entries": [
                {"content": "Write tests", "status": "completed", "priority": "high"},
                {"content": "Fix the bug", "status": "in_progress"},
                {"content": "Update docs", "status": "pending", "priority": "low"},
            ]
        },
        ctx,
    )
    assert not result.is_error
    assert result.text_content == "Plan updated: 1/3 completed. In progress: Fix the bug"
    assert seen == [
        PlanUpdated(
            (
                PlanEntry("Write tests", "completed", "high"),
                PlanEntry("Fix the bug", "in_progress", "medium"),
                PlanEntry("Update docs", "pending", "low"),
            )
        )
    ]


async def test_bad_status_is_refused(ctx):
    result = await call_tool(UpdatePlanTool(), {"entries": [{"content": "x", "status": "done"}]}, ctx)
    assert result.is_error and "'done' is not one of" in result.text


def test_builtin_tool_set_classes_and_kinds():
    tools = {t.name: t for t in builtin_tools()}
    expected = {
        "read_file": ("read_only", "read"),
        "write_file": ("mutating", "edit"),
        "edit_file": ("mutating", "edit"),
        "glob": ("read_only", "search"),
        "grep": ("read_only", "search"),
        "bash": ("destructive", "execute"),
        "fetch": ("network", "fetch"),
        "update_plan": ("read_only", "think"),
    }
    assert {name: (t.safety.value, t.kind.value) for name, t in tools.items()} == expected


def test_settings_validate():
    with pytest.raises(ValueError):
        ToolSettings(bash_timeout_s=900, bash_max_timeout_s=600)
    with pytest.raises(ValueError):
        ToolSettings(read_max_lines=0)
    assert ToolSettings(search_engine="python").search_engine is SearchEngine.PYTHON
    schema = {t.name: t for t in builtin_tools(ToolSettings(bash_max_timeout_s=60, bash_timeout_s=30))}
    assert schema["bash"].parameters["properties"]["timeout_s"]["maximum"] == 60
