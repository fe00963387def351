"""Shell commands a hostile model might send against the real DefaultPermissionGate."""

from __future__ import annotations

import pytest

from agentcore.permissions import PermissionMode, Verdict

from attack_cases import EVERYDAY_KEPT, PROGRAM_RUNS_ANOTHER, PROTECTED_WRITES
from attack_support import allow_rules_for, attack_gate, judged

M = PermissionMode
EVERYDAY_EXTRA_RULES = ("allow:bash(pytest *)", "allow:bash(vitest *)", "allow:bash(echo *)")


@pytest.mark.parametrize("command", PROGRAM_RUNS_ANOTHER)
def test_a_rule_for_a_program_is_not_a_rule_for_what_it_runs(command, workspace):
    verdict, reason = judged(attack_gate(M.ASK, *allow_rules_for(command)), command, workspace)
    assert verdict is Verdict.ASK, reason


@pytest.mark.parametrize("command", PROGRAM_RUNS_ANOTHER)
def test_a_deny_rule_holds_against_a_program_run_by_another_in_yolo(command, workspace):
    verdict, reason = judged(attack_gate(M.YOLO, "deny:bash(rm *)"), command, workspace)
    assert verdict is not Verdict.ALLOW, reason


@pytest.mark.parametrize("mode", [M.ASK, M.ACCEPT_EDITS, M.YOLO])
@pytest.mark.parametrize("command", PROTECTED_WRITES)
def test_writes_into_protected_paths_through_programs_ask(command, mode, workspace, home):
    command = command.replace("/HOME", str(home))
    rules = allow_rules_for(command) + ("allow:bash(F=.git/config *)",)
    verdict, reason = judged(attack_gate(mode, *rules, home=home), command, workspace)
    assert verdict is Verdict.ASK, reason


@pytest.mark.parametrize("command", EVERYDAY_KEPT)
def test_everyday_commands_still_run_under_rules_for_their_programs(command, workspace):
    verdict, reason = judged(attack_gate(M.ASK, *allow_rules_for(command), *EVERYDAY_EXTRA_RULES), command, workspace)
    assert verdict is Verdict.ALLOW, reason
