"""The permission matrix: mode x safety class x rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore.tools.workspace import Workspace
from agentcore.permissions import (
    DefaultPermissionGate,
    NonInteractiveGate,
    PermissionCheck,
    PermissionMode,
    Rule,
    RuleAction,
    RuleError,
    Verdict,
)
from agentcore.tools.base import Safety, ToolDescription, ToolKind

M = PermissionMode
S = Safety

# tool name, safety, kind, subject
TOOLS = {
    "read": ("read_file", S.READ_ONLY, ToolKind.READ, "src/app.py"),
    "edit": ("edit_file", S.MUTATING, ToolKind.EDIT, "src/app.py"),
    "shell": ("bash", S.DESTRUCTIVE, ToolKind.EXECUTE, "rm -rf build"),
    "net": ("fetch", S.NETWORK, ToolKind.FETCH, "https://example.com/x"),
    "other": ("mcp__db__write", S.MUTATING, ToolKind.OTHER, None),
}

# expected verdict with no rules, per mode
NO_RULES = {
    M.READ_ONLY: {"read": "allow", "edit": "deny", "shell": "deny", "net": "deny", "other": "deny"},
    M.PLAN: {"read": "allow", "edit": "deny", "shell": "deny", "net": "deny", "other": "deny"},  # read-only research
    M.ASK: {"read": "allow", "edit": "ask", "shell": "ask", "net": "ask", "other": "ask"},
    M.ACCEPT_EDITS: {"read": "allow", "edit": "allow", "shell": "ask", "net": "ask", "other": "ask"},
    M.YOLO: {"read": "allow", "edit": "allow", "shell": "allow", "net": "allow", "other": "allow"},
}


WORKSPACE = Workspace(Path("/work/project"))  # the shell command's rm -rf build writes inside it


def _check(key: str) -> PermissionCheck:
    name, safety, kind, subject = TOOLS[key]
    return PermissionCheck("t", "c", name, safety, subject, ToolDescription(title=name, kind=kind), workspace=WORKSPACE)


def _verdict(mode: PermissionMode, key: str, *rules: str) -> str:
    parsed = []
    for text in rules:
        action, _, body = text.partition(":")
        parsed.append(Rule.parse(body, RuleAction(action)))
    gate = DefaultPermissionGate(mode=mode, rules=tuple(parsed))
    return gate.evaluate(_check(key))[0].value


@pytest.mark.parametrize("mode", list(M))
@pytest.mark.parametrize("key", list(TOOLS))
def test_mode_defaults(mode, key):
    assert _verdict(mode, key) == NO_RULES[mode][key]


@pytest.mark.parametrize("mode", list(M))
@pytest.mark.parametrize("key", list(TOOLS))
def test_deny_rule_holds_in_every_mode(mode, key):
    name = TOOLS[key][0]
    assert _verdict(mode, key, f"deny:{name}") == "deny"


@pytest.mark.parametrize("mode", [M.ASK, M.ACCEPT_EDITS])
@pytest.mark.parametrize("key", list(TOOLS))
def test_allow_rule_allows_and_ask_rule_asks(mode, key):
    name = TOOLS[key][0]
    assert _verdict(mode, key, f"allow:{name}") == "allow"
    assert _verdict(mode, key, f"ask:{name}") == "ask"


@pytest.mark.parametrize("key", ["edit", "shell", "net", "other"])
def test_read_only_mode_is_a_ceiling_over_allow_rules(key):
    assert _verdict(M.READ_ONLY, key, f"allow:{TOOLS[key][0]}") == "deny"


def test_yolo_ignores_ask_rules_but_not_deny():
    assert _verdict(M.YOLO, "shell", "ask:bash") == "allow"
    assert _verdict(M.YOLO, "shell", "deny:bash(rm *)") == "deny"


def test_precedence_deny_beats_ask_beats_allow():
    assert _verdict(M.ASK, "shell", "allow:bash", "ask:bash", "deny:bash") == "deny"
    assert _verdict(M.ASK, "shell", "allow:bash", "ask:bash") == "ask"
    assert _verdict(M.ACCEPT_EDITS, "edit", "allow:edit_file", "ask:edit_file(src/**)") == "ask"


def test_subject_patterns():
    # paths: gitignore-style globs
    assert _verdict(M.ASK, "edit", "allow:edit_file(src/**)") == "allow"
    assert _verdict(M.ASK, "edit", "allow:edit_file(docs/**)") == "ask"
    assert _verdict(M.ASK, "read", "deny:read_file(**/.env)") == "allow"
    gate = DefaultPermissionGate(rules=(Rule.parse("read_file(**/.env)", RuleAction.DENY),))
    for path in (".env", "config/.env", "./a/b/.env"):
        check = PermissionCheck("t", "c", "read_file", S.READ_ONLY, path, ToolDescription("r", ToolKind.READ))
        assert gate.evaluate(check)[0] is Verdict.DENY, path
    # commands: * matches anything, including slashes
    assert _verdict(M.ASK, "shell", "allow:bash(rm -rf *)") == "allow"
    assert _verdict(M.ASK, "shell", "allow:bash(git status*)") == "ask"
    # tool-name globs
    assert _verdict(M.ASK, "other", "allow:mcp__db__*") == "allow"
    assert _verdict(M.ASK, "other", "allow:mcp__web__*") == "ask"


def test_rule_parse_errors_are_clear():
    with pytest.raises(RuleError, match="expected tool or tool"):
        Rule.parse("bash(unclosed", RuleAction.ALLOW)
    with pytest.raises(RuleError, match="empty pattern"):
        Rule.parse("bash()", RuleAction.ALLOW)
    assert str(Rule.parse(" bash( git status* ) ", RuleAction.ALLOW)) == "bash(git status*)"


async def test_non_interactive_wrapper_turns_asks_into_denies():
    gate = NonInteractiveGate(DefaultPermissionGate(mode=M.ASK, emit=_never))
    decision = await gate.check(_check("shell"))
    assert not decision.allowed and "unattended" in decision.reason
    assert (await gate.check(_check("read"))).allowed


async def _never(event) -> None:
    raise AssertionError("an unattended gate must not ask")
