"""Plan mode: read-only research, then a plan the user approves before any change.

The attacks first: nothing that writes gets past plan mode (tools, shell
redirects, git, MCP tools not marked read-only), whatever the rules allow;
then the approval itself (it asks, it leaves the mode, a rejection stays).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.events import ModeChanged, PermissionRequested
from agentcore.permissions import (
    EXIT_PLAN_MODE,
    PLAN_REJECTED,
    NonInteractiveGate,
    PermissionMode,
    PermissionOption,
    Rule,
    RuleAction,
    Verdict,
)
from agentcore.shell_readonly import not_read_only
from agentcore.shell_syntax import analyse_command
from agentcore.tools.base import Safety, ToolKind
from agentcore.tools.workspace import Workspace

from perm_provider import OneBashCall
from perm_support import bash_check, gate, tool_check, verdict_of
from test_permissions_end_to_end import DELETIONS, ESCAPES

READ_ONLY_COMMANDS = [
    "ls -la", "cat README.md", "git status --short", "git log --oneline -5 | head -3", "grep -rn TODO src",
    "rg -n foo", "find . -name '*.py'", "sed -n 1,20p f.py", "wc -l a b 2>/dev/null", "git diff HEAD~1",
    "cd src && ls", "git branch -a", "head -5 x | sort | uniq -c",
]
WRITING_COMMANDS = [
    "echo hi > notes.txt", "cat a >> b", "tee out < in", "sed -i s/a/b/ f", "git commit -m x", "git add .",
    "git checkout -- f", "git branch new-branch", "git stash", "touch f", "mkdir d", "rm -rf build", "cp a b",
    "python -c 'open(\"x\",\"w\")'", "npm install", "make", "sort -o out in", "sort -uo out in", "find . -delete",
    "rg --pre ./evil x", "fd -x rm", "git diff --output=patch", "uniq in out", "ls; touch f", "ls $(touch f)",
    "curl -o x http://127.0.0.1/", "git -c core.pager=evil log", "awk '{print > \"f\"}' x", "date -s 2020-01-01",
    "echo x | xargs rm", "git tag v1", "git remote add o url",
]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_read_only_commands_run_in_plan_mode(command: str, ws: Workspace) -> None:
    assert not_read_only(analyse_command(command)) is None
    assert verdict_of(gate(PermissionMode.PLAN), bash_check(command, ws)) is Verdict.ALLOW


@pytest.mark.parametrize("command", WRITING_COMMANDS + DELETIONS + ESCAPES)
def test_anything_that_may_write_is_denied_in_plan_mode_even_with_allow_rules(command: str, ws: Workspace) -> None:
    assert verdict_of(gate(PermissionMode.PLAN), bash_check(command, ws)) is Verdict.DENY
    assert verdict_of(gate(PermissionMode.PLAN, "allow:bash(*)", "allow:bash"), bash_check(command, ws)) is Verdict.DENY


@pytest.mark.parametrize(
    ("tool", "kind", "safety", "subject"),
    [
        ("write_file", ToolKind.EDIT, Safety.MUTATING, "notes.md"),
        ("edit_file", ToolKind.EDIT, Safety.MUTATING, "src/app.py"),
        ("mcp__github__create_issue", ToolKind.OTHER, Safety.MUTATING, None),
        ("mcp__db__drop", ToolKind.OTHER, Safety.DESTRUCTIVE, None),
        ("web_fetch", ToolKind.FETCH, Safety.NETWORK, "http://127.0.0.1/"),
    ],
)
def test_no_tool_that_is_not_read_only_runs_in_plan_mode(tool, kind, safety, subject, ws: Workspace) -> None:
    for g in (gate(PermissionMode.PLAN), gate(PermissionMode.PLAN, f"allow:{tool}", "allow:*")):
        verdict, why = g.evaluate(tool_check(tool, kind, safety, subject, ws))
        assert verdict is Verdict.DENY and "plan mode" in why


def test_read_tools_run_and_deny_rules_still_hold(ws: Workspace) -> None:
    g = gate(PermissionMode.PLAN, "deny:read_file(secret.txt)", "deny:bash(git log *)", "ask:bash(ls *)")
    assert verdict_of(g, tool_check("read_file", ToolKind.READ, Safety.READ_ONLY, "src/a.py", ws)) is Verdict.ALLOW
    assert verdict_of(g, tool_check("mcp__docs__search", ToolKind.SEARCH, Safety.READ_ONLY, None, ws)) is Verdict.ALLOW
    assert verdict_of(g, tool_check("read_file", ToolKind.READ, Safety.READ_ONLY, "secret.txt", ws)) is Verdict.DENY
    assert verdict_of(g, bash_check("git log -3", ws)) is Verdict.DENY
    assert verdict_of(g, bash_check("ls -la", ws)) is Verdict.ASK  # an ask rule still asks


def test_the_plan_tool_always_asks_in_plan_mode_and_no_rule_lifts_that(ws: Workspace) -> None:
    plan = tool_check(EXIT_PLAN_MODE, ToolKind.THINK, Safety.MUTATING, None, ws, {"plan": "1. edit"})
    assert verdict_of(gate(PermissionMode.PLAN), plan) is Verdict.ASK
    assert verdict_of(gate(PermissionMode.PLAN, f"allow:{EXIT_PLAN_MODE}", "allow:*"), plan) is Verdict.ASK
    assert verdict_of(gate(PermissionMode.PLAN, f"deny:{EXIT_PLAN_MODE}"), plan) is Verdict.DENY


async def _ask_plan(g, option: PermissionOption | None) -> tuple[object, list[object]]:
    events: list[object] = []

    async def emit(event: object) -> None:
        events.append(event)
        if isinstance(event, PermissionRequested):
            if option is None:
                g.cancel_pending()
            else:
                g.resolve(event.request_id, option)

    g._emit = emit
    check = tool_check(EXIT_PLAN_MODE, ToolKind.THINK, Safety.MUTATING, None, None, {"plan": "1. edit"})
    return await g.check(check), events


@pytest.mark.parametrize(
    ("before", "option", "after"),
    [
        (PermissionMode.ASK, PermissionOption.ALLOW_ONCE, PermissionMode.ASK),
        (PermissionMode.YOLO, PermissionOption.ALLOW_ONCE, PermissionMode.YOLO),
        (PermissionMode.ASK, PermissionOption.ALLOW_ALWAYS, PermissionMode.ACCEPT_EDITS),
    ],
)
async def test_approval_leaves_plan_mode_for_the_mode_before_or_accept_edits(before, option, after) -> None:
    g = gate(before)
    g.set_mode(PermissionMode.PLAN)
    decision, events = await _ask_plan(g, option)
    assert decision.allowed and g.mode is after
    assert ModeChanged(after.value) in events
    assert g.rules == []  # approving a plan remembers no rule: the next plan asks again


@pytest.mark.parametrize("option", [PermissionOption.REJECT_ONCE, PermissionOption.REJECT_ALWAYS, None])
async def test_rejection_stays_in_plan_mode(option) -> None:
    g = gate(PermissionMode.ASK)
    g.set_mode(PermissionMode.PLAN)
    decision, events = await _ask_plan(g, option)
    assert not decision.allowed and g.mode is PermissionMode.PLAN
    assert not any(isinstance(e, ModeChanged) for e in events)
    assert g.rules == []
    if option is PermissionOption.REJECT_ONCE:
        assert decision.reason == PLAN_REJECTED


async def test_unattended_the_plan_is_recorded_not_approved_and_not_a_denial() -> None:
    g = NonInteractiveGate(gate(PermissionMode.PLAN))
    check = tool_check(EXIT_PLAN_MODE, ToolKind.THINK, Safety.MUTATING, None, None, {"plan": "1. edit"})
    decision = await g.check(check)
    assert not decision.allowed and g.mode is PermissionMode.PLAN and g.unattended_denials == 0


# ------------------------------------------------------------- end to end


async def _run_plan(tmp_path: Path, command: str, *rules: tuple[str, RuleAction]) -> tuple[Path, OneBashCall]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "victim").write_text("keep me\n")
    provider = OneBashCall(command)
    policy = SessionPolicy(mode=PermissionMode.PLAN, rules=tuple(Rule.parse(t, a) for t, a in rules))
    core = AgentCoreBuilder().with_provider(provider, "scripted").with_policy(policy).with_state_dir(tmp_path / "state").build()
    async with core.open_session(SessionCreateInfo(cwd=work, interactive=True)) as session:
        with trio.fail_after(10):
            await session.run_turn("go")
    return work, provider


@pytest.mark.parametrize(
    "command",
    ["echo pwned > pwned", "git init -q . && git commit --allow-empty -m x", "touch pwned", "sed -i s/keep/lost/ victim"]
    + DELETIONS[:8] + ESCAPES,
)
async def test_plan_mode_never_writes_through_the_real_shell(command: str, tmp_path: Path) -> None:
    work, provider = await _run_plan(tmp_path, command, ("bash(*)", RuleAction.ALLOW))
    assert (work / "victim").read_text() == "keep me\n"
    assert not (work / "pwned").exists() and not (work / ".git").exists()
    assert "plan mode" in str(provider.requests[-1].messages[-1])


async def test_plan_mode_runs_a_read_only_command_and_offers_the_plan_tool(tmp_path: Path) -> None:
    work, provider = await _run_plan(tmp_path, "cat victim")
    assert "keep me" in str(provider.requests[-1].messages[-1])
    offered = {spec.name for spec in provider.requests[0].tools}
    assert EXIT_PLAN_MODE in offered and "write_file" in offered  # listed; the gate refuses them


async def test_the_plan_tool_is_offered_only_in_plan_mode(tmp_path: Path) -> None:
    provider = OneBashCall("ls")
    core = AgentCoreBuilder().with_provider(provider, "scripted").with_state_dir(tmp_path / "state").build()
    async with core.open_session(SessionCreateInfo(cwd=tmp_path, interactive=False)) as session:
        assert EXIT_PLAN_MODE not in session.registry.names()
        await session.set_mode(PermissionMode.PLAN)
        assert EXIT_PLAN_MODE in session.registry.names()
        await session.set_mode(PermissionMode.ACCEPT_EDITS)
        assert session.registry.get(EXIT_PLAN_MODE) is None
