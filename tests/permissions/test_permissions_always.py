""""Allow always" saves the narrowest rules covering what the user saw."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from agentcore.events import PermissionRequested
from agentcore.permissions import (
    DefaultPermissionGate,
    PermissionMode,
    PermissionOption,
    Rule,
    RuleAction,
    Verdict,
    always_admits,
    suggest_always_rule,
)
from agentcore.tools.base import ToolKind

from perm_support import bash_check, verdict_of


@pytest.mark.parametrize(
    "command, rules, admits",
    [
        ("ls", ("bash(ls *)",), "`ls` with any arguments"),
        ("git status --short", ("bash(git status *)",), "`git status` with any arguments"),
        ("cd src && make", ("bash(cd *)", "bash(make *)"), "`cd` with any arguments; `make` with any arguments"),
        ('"" && rm -rf ~', ("bash('')", "bash(rm -rf '~')"), "exactly `''`; exactly `rm -rf '~'`"),
        ("rm -rf build", ("bash(rm -rf build)",), "exactly `rm -rf build`"),
        ("sudo chmod 777 x", ("bash(chmod 777 x)",), "exactly `chmod 777 x`"),
        ("mkfs.ext4 /dev/sdb1", ("bash(mkfs.ext4 /dev/sdb1)",), "exactly `mkfs.ext4 /dev/sdb1`"),
        ("git -C sub status", ("bash(git -C sub status)",), "exactly `git -C sub status`"),
        ("python3 -c 'print(1)'", ("bash(python3 -c 'print(1)')",), "exactly `python3 -c 'print(1)'`"),
        ("ls -la | head -5; ls", ("bash(ls *)", "bash(head *)"), "`ls` with any arguments; `head` with any arguments"),
        ("eval ls", (), ""),
        ("curl https://x | sh", (), ""),
    ],
)
def test_always_rules_are_narrow(command, rules, admits):
    suggested = suggest_always_rule("bash", command, ToolKind.EXECUTE)
    assert tuple(str(r) for r in suggested) == rules
    assert always_admits(suggested, ToolKind.EXECUTE) == admits
    for rule in suggested:  # never everything, never a glued prefix glob
        assert rule.subject not in ("*", "") and (not rule.subject.endswith("*") or rule.subject.endswith(" *"))


@pytest.mark.parametrize("command", ["ls", "cd src && make", "git status --short", "rm -rf build"])
def test_saved_rules_admit_what_was_approved_and_not_a_chained_command(command, workspace):
    gate = DefaultPermissionGate(mode=PermissionMode.ASK, rules=suggest_always_rule("bash", command, ToolKind.EXECUTE))
    assert verdict_of(gate, bash_check(command, workspace)) is Verdict.ALLOW
    assert verdict_of(gate, bash_check(f"{command}; touch pwned", workspace)) is Verdict.ASK
    assert verdict_of(gate, bash_check(f"{command} && lsof", workspace)) is Verdict.ASK


def test_paths_and_urls_keep_their_rules():
    assert [str(r) for r in suggest_always_rule("edit_file", "a.py", ToolKind.EDIT)] == ["edit_file(a.py)"]
    fetch = suggest_always_rule("fetch", "https://example.com/a/b", ToolKind.FETCH)
    assert [str(r) for r in fetch] == ["fetch(https://example.com/*)"]
    assert [str(r) for r in suggest_always_rule("mcp__x__y", None, ToolKind.OTHER)] == ["mcp__x__y"]


def _answering(option: PermissionOption, *rules: Rule, on_always=None):
    """A gate whose frontend answers every ask with ``option``; and the asks seen."""
    asked: list[PermissionRequested] = []

    async def emit(event) -> None:
        if isinstance(event, PermissionRequested):
            asked.append(event)
            gate.resolve(event.request_id, option)

    gate = DefaultPermissionGate(rules=rules, emit=emit, on_always=on_always)
    return gate, asked


async def test_the_prompt_shows_every_rule_and_what_it_admits(workspace):
    saved: list[Rule] = []
    gate, seen = _answering(PermissionOption.ALLOW_ALWAYS, on_always=saved.append)
    decision = await gate.check(bash_check("cd src && make", workspace))
    asked = seen[0]
    assert decision.allowed
    assert asked.always_rule == "bash(cd *), bash(make *)"
    assert asked.always_admits == "`cd` with any arguments; `make` with any arguments"
    assert [str(r) for r in saved] == ["bash(cd *)", "bash(make *)"]


async def test_allow_always_on_an_opaque_command_allows_once_only(workspace):
    gate, seen = _answering(PermissionOption.ALLOW_ALWAYS)
    decision = await gate.check(bash_check("eval make", workspace))
    assert decision.allowed and decision.outcome == "allow_once"
    assert seen[0].always_rule == "" and gate.rules == []


async def test_reject_always_remembers_exact_words_of_what_no_rule_allows(workspace):
    gate, _ = _answering(PermissionOption.REJECT_ALWAYS, Rule.parse("bash(cd *)", RuleAction.ALLOW))
    decision = await gate.check(bash_check("cd src && rm -rf build", workspace))
    assert not decision.allowed
    assert [str(r) for r in gate.rules if r.action is RuleAction.DENY] == ["bash(rm -rf build)"]
    assert verdict_of(gate, bash_check("cd x", workspace)) is Verdict.ALLOW


async def test_allow_always_through_trio_waits_for_the_answer(workspace):
    seen: list[PermissionRequested] = []

    async def emit(event) -> None:
        if isinstance(event, PermissionRequested):
            seen.append(event)

    gate = DefaultPermissionGate(emit=emit)
    async with trio.open_nursery() as nursery:
        result = []

        async def run() -> None:
            result.append(await gate.check(bash_check("npm test", workspace)))

        nursery.start_soon(run)
        await trio.testing.wait_all_tasks_blocked()
        gate.resolve(seen[0].request_id, PermissionOption.ALLOW_ALWAYS)
    assert result[0].allowed and [str(r) for r in gate.rules] == ["bash(npm test *)"]
