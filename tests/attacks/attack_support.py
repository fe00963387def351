"""Gates and shell checks built from plain strings for the attack tests."""

from __future__ import annotations

from pathlib import Path

from agentcore.permissions import DefaultPermissionGate, PermissionCheck, PermissionMode, Verdict
from agentcore.tools.workspace import Workspace
from fakes.gates import bash_check, gate


def attack_gate(mode: PermissionMode, *rules: str, home: Path | None = None) -> DefaultPermissionGate:
    """Rules as ``"allow:bash(git *)"``; the home directory injected, never the real one."""
    return gate(mode, *rules, home=home)


def shell_call(command: str, workspace: Workspace | None) -> PermissionCheck:
    return bash_check(command, workspace)


def judged(gate: DefaultPermissionGate, command: str, workspace: Workspace | None) -> tuple[Verdict, str]:
    return gate.evaluate(shell_call(command, workspace))


def allow_rules_for(command: str) -> tuple[str, ...]:
    """An allow rule for every program the attack names in plain sight (its first
    word and the first word after each ``&&``/``;``/``|``): what a user who
    approved each program "always" would hold."""
    programs: list[str] = []
    for part in command.replace("&&", ";").replace("|", ";").split(";"):
        words = part.split()
        if words and words[0] not in programs:
            programs.append(words[0])
    return tuple(f"allow:bash({p} *)" for p in programs)
