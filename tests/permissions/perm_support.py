"""Building permission checks and gates from plain strings for the tests here."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentcore.permissions import DefaultPermissionGate, PermissionCheck, PermissionMode, Rule, RuleAction, Verdict
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


def tool_check(
    tool: str, kind: ToolKind, safety: Safety, subject: str | None, workspace: Workspace | None,
    raw_input: Mapping[str, Any] | None = None,
) -> PermissionCheck:
    return PermissionCheck(
        "t", "c", tool, safety, subject, ToolDescription(tool, kind), raw_input=raw_input or {}, workspace=workspace
    )


def verdict_of(g: DefaultPermissionGate, check: PermissionCheck) -> Verdict:
    return g.evaluate(check)[0]
