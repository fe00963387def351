"""Permission gates and shell checks built from plain strings, for the tests that
attack the gate (tests/permissions, tests/attacks)."""

from __future__ import annotations

from pathlib import Path

from agentcore.permissions import DefaultPermissionGate, PermissionCheck, PermissionMode, Rule, RuleAction
from agentcore.protected_paths import ProtectedPaths
from agentcore.tools.base import Safety, ToolDescription, ToolKind
from agentcore.tools.workspace import Workspace


def gate(mode: PermissionMode, *rules: str, home: Path | None = None, config_dir: Path | None = None) -> DefaultPermissionGate:
    """Rules as ``"allow:bash(git *)"``; home and config dir injected, never the real ones."""
    parsed = []
    for text in rules:
        action, _, body = text.partition(":")
        parsed.append(Rule.parse(body, RuleAction(action)))
    protected = ProtectedPaths(home=home or Path("/nonexistent-home"), user_config_dir=config_dir)
    return DefaultPermissionGate(mode=mode, rules=tuple(parsed), protected=protected)


def bash_check(command: str, workspace: Workspace | None) -> PermissionCheck:
    return PermissionCheck(
        "t", "c", "bash", Safety.DESTRUCTIVE, command, ToolDescription("bash", ToolKind.EXECUTE),
        raw_input={"command": command}, workspace=workspace,
    )
