"""Building permission checks and gates from plain strings for the tests here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentcore.permissions import DefaultPermissionGate, PermissionCheck, Verdict
from agentcore.tools.base import Safety, ToolDescription, ToolKind
from agentcore.tools.workspace import Workspace
from fakes.gates import bash_check, gate  # noqa: F401 - re-exported for the permission tests


def tool_check(
    tool: str, kind: ToolKind, safety: Safety, subject: str | None, workspace: Workspace | None,
    raw_input: Mapping[str, Any] | None = None,
) -> PermissionCheck:
    return PermissionCheck(
        "t", "c", tool, safety, subject, ToolDescription(tool, kind), raw_input=raw_input or {}, workspace=workspace
    )


def verdict_of(g: DefaultPermissionGate, check: PermissionCheck) -> Verdict:
    return g.evaluate(check)[0]
