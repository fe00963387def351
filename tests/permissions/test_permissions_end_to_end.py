"""Through agentcore and the real bash tool: the forbidden side effect never happens."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore import AgentCoreBuilder, SessionCreateInfo, SessionPolicy
from agentcore.permissions import PermissionMode, Rule, RuleAction

from perm_provider import OneBashCall

DELETIONS = [
    "true && rm victim", "echo;rm victim", "echo\nrm victim", "r''m victim", "\\rm victim", "/bin/rm victim",
    "command rm victim", "env rm victim", "sudo -n rm victim 2>/dev/null || rm victim", "sh -c 'rm victim'",
    "bash -c \"rm victim\"", "C=rm; $C victim", "echo victim | xargs rm", "find . -name victim -delete",
    "unlink victim", "eval 'rm victim'", "echo $(rm victim)", "(rm victim)", "{ rm victim; }",
    "timeout 5 rm victim", "$'\\x72m' victim", "f() { rm victim; }; f", "sh <<EOF\nrm victim\nEOF",
]
ESCAPES = [
    "git status; touch pwned", "git status && touch pwned", "git $(touch pwned) status",
    "git status | sh -c 'touch pwned'", "git -c alias.x='!touch pwned' x", "git status\ntouch pwned",
    "GIT_PAGER='touch pwned' git log",
]


async def _run(tmp_path: Path, command: str, mode: PermissionMode, *rules: tuple[str, RuleAction]) -> Path:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "victim").write_text("keep me\n")
    policy = SessionPolicy(mode=mode, rules=tuple(Rule.parse(text, action) for text, action in rules))
    core = (
        AgentCoreBuilder()
        .with_provider(OneBashCall(command), "scripted")
        .with_policy(policy)
        .with_state_dir(tmp_path / "state")
        .build()
    )
    async with core.open_session(SessionCreateInfo(cwd=work, interactive=False)) as session:
        await session.run_turn("go")
    return work


@pytest.mark.parametrize("command", DELETIONS)
async def test_deny_rm_keeps_the_file_even_in_yolo(command, tmp_path):
    work = await _run(tmp_path, command, PermissionMode.YOLO, ("bash(rm *)", RuleAction.DENY))
    assert (work / "victim").read_text() == "keep me\n"


@pytest.mark.parametrize("command", ESCAPES)
async def test_allow_git_runs_nothing_else(command, tmp_path):
    (tmp_path / "work").mkdir()
    work = await _run(tmp_path, command, PermissionMode.ASK, ("bash(git *)", RuleAction.ALLOW))
    assert not (work / "pwned").exists()


async def test_the_harness_really_runs_commands(tmp_path):
    """Control: the same set-up without the deny rule does delete, and an allowed command runs."""
    work = await _run(tmp_path, "true && rm victim", PermissionMode.YOLO)
    assert not (work / "victim").exists()
    work = await _run(tmp_path, "echo hi > made.txt", PermissionMode.ASK, ("bash(echo *)", RuleAction.ALLOW))
    assert (work / "made.txt").read_text() == "hi\n"


async def test_protected_write_through_bash_does_not_happen_in_yolo(tmp_path):
    (tmp_path / "work" / ".git").mkdir(parents=True)
    work = await _run(tmp_path, "echo '[core]' > .git/config", PermissionMode.YOLO)
    assert not (work / ".git" / "config").exists()
