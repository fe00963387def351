"""The command table through the real DefaultPermissionGate."""

from __future__ import annotations

import pytest

from agentcore.permissions import PermissionMode, Verdict

from perm_cases import EVERYDAY, EVERYDAY_RULES, GIT_ESCAPES, RM_DISGUISES
from perm_support import bash_check, gate, verdict_of

M = PermissionMode


@pytest.mark.parametrize("mode", [M.ASK, M.ACCEPT_EDITS, M.YOLO])
@pytest.mark.parametrize("command", RM_DISGUISES)
def test_deny_rm_holds_against_every_disguise(command, mode, workspace):
    g = gate(mode, "deny:bash(rm *)", *(f"allow:bash({r})" for r in EVERYDAY_RULES))
    assert verdict_of(g, bash_check(command, workspace)) is not Verdict.ALLOW


@pytest.mark.parametrize("command", GIT_ESCAPES)
def test_allow_git_admits_no_escape(command, workspace):
    g = gate(M.ASK, "allow:bash(git *)")
    assert verdict_of(g, bash_check(command, workspace)) is Verdict.ASK


@pytest.mark.parametrize("command", EVERYDAY)
def test_everyday_commands_run_under_allow_rules(command, workspace):
    g = gate(M.ASK, *(f"allow:bash({r})" for r in EVERYDAY_RULES))
    verdict, reason = g.evaluate(bash_check(command, workspace))
    assert verdict is Verdict.ALLOW, reason


@pytest.mark.parametrize("command", EVERYDAY)
def test_everyday_commands_untouched_by_a_deny_rule_in_yolo(command, workspace):
    g = gate(M.YOLO, "deny:bash(rm *)")
    verdict, reason = g.evaluate(bash_check(command, workspace))
    assert verdict is Verdict.ALLOW, reason


@pytest.mark.parametrize(
    "rule, command, allowed",
    [
        ("git status", "git status", True),
        ("git status", "git status --short", False),
        ("git status *", "git status", True),
        ("git status *", "git status --short -b", True),
        ("git status*", "git status --short", True),  # the older glued spelling, at a word boundary
        ("git status*", "git statusx", False),
        ("ls*", "lsof", False),
        ("ls*", "ls -la", True),
        ("ls *", "ls; touch y", False),
        ("npm run *", "npm run build", True),
        ("npm run *", "npm test", False),
        ("*", "anything --at all", True),
        ("*", "ls; eval x", False),  # opaque: no rule vouches for it
        ("/usr/bin/git status", "git status", True),  # programs compare by basename
        ("'git' \"status\"", "git status", True),  # quotes removed
        ("sudo apt update", "apt update", True),  # wrappers stripped in rules too
        ("apt update", "sudo apt update", True),
        ("git * --dry-run", "git push origin --dry-run", True),
        ("git * --dry-run", "git push origin", False),
        ("rm '*'", "rm x", False),  # a quoted star is a literal word
        ("rm '*'", "rm *", True),
    ],
)
def test_rule_grammar(rule, command, allowed, workspace):
    g = gate(M.ASK, f"allow:bash({rule})")
    assert (verdict_of(g, bash_check(command, workspace)) is Verdict.ALLOW) is allowed


@pytest.mark.parametrize(
    "rules, command, expected",
    [
        (("deny:bash(sudo *)",), "sudo ls", Verdict.DENY),  # deny rules see the wrapper as written too
        (("deny:bash(git push *)",), "cd x && git push origin", Verdict.DENY),
        (("deny:bash(git push *)", "allow:bash(git *)"), "git push --force", Verdict.DENY),
        (("ask:bash(git push *)", "allow:bash(git *)"), "git status; git push", Verdict.ALLOW),  # yolo skips asks
        (("deny:bash(rm -rf *)",), "unlink x", Verdict.ALLOW),  # same harm, but the arguments differ
        (("deny:bash(rm *)",), "echo rm", Verdict.ALLOW),
    ],
)
def test_deny_and_ask_rules_in_yolo(rules, command, expected, workspace):
    assert verdict_of(gate(M.YOLO, *rules), bash_check(command, workspace)) is expected


def test_an_ask_rule_for_one_part_asks_for_the_whole(workspace):
    g = gate(M.ASK, "ask:bash(git push *)", "allow:bash(git *)")
    assert verdict_of(g, bash_check("git status; git push", workspace)) is Verdict.ASK
    assert verdict_of(g, bash_check("git status; git log", workspace)) is Verdict.ALLOW


def test_opaque_commands_run_in_yolo_only_without_deny_rules(workspace):
    assert verdict_of(gate(M.YOLO), bash_check("eval ls", workspace)) is Verdict.ALLOW
    assert verdict_of(gate(M.YOLO, "deny:bash(curl *)"), bash_check("eval ls", workspace)) is Verdict.ASK
    assert verdict_of(gate(M.ASK, "allow:bash"), bash_check("eval ls", workspace)) is Verdict.ASK
    assert verdict_of(gate(M.READ_ONLY), bash_check("eval ls", workspace)) is Verdict.DENY
    assert verdict_of(gate(M.ASK, "allow:bash"), bash_check("ls -la", workspace)) is Verdict.ALLOW


@pytest.mark.parametrize(
    "command",
    ["echo hi > /tmp/out.txt", "echo hi > ../out.txt", "ls | tee /etc/motd", "echo x >> ~/notes",
     "cd /etc && echo x > motd", "cd && echo x > out.txt", "echo hi > \"$OUT\"", "echo x > out.$N"],
)
def test_writes_outside_the_workspace_are_never_allowed_by_rules(command, workspace):
    g = gate(M.ASK, "allow:bash(echo *)", "allow:bash(ls *)", "allow:bash(tee *)", "allow:bash(cd *)")
    assert verdict_of(g, bash_check(command, workspace)) is Verdict.ASK


def test_writes_with_no_workspace_are_outside(workspace):
    g = gate(M.ASK, "allow:bash(echo *)")
    assert verdict_of(g, bash_check("echo hi > out.txt", None)) is Verdict.ASK
    assert verdict_of(g, bash_check("echo hi", None)) is Verdict.ALLOW


def test_a_long_compound_command_is_judged_whole(workspace):
    parts = [f"echo step{i} >> log.txt" for i in range(150)]
    g = gate(M.ASK, "allow:bash(echo *)")
    assert verdict_of(g, bash_check(" && ".join(parts), workspace)) is Verdict.ALLOW
    assert verdict_of(g, bash_check(" && ".join([*parts, "rm x"]), workspace)) is Verdict.ASK


@pytest.mark.parametrize("command", ["/usr/bin/git status", "/bin/git log", "/usr/local/bin/git diff"])
def test_the_systems_own_program_by_full_path_is_the_program_a_rule_names(command, workspace):
    assert verdict_of(gate(M.ASK, "allow:bash(git *)"), bash_check(command, workspace)) is Verdict.ALLOW


def test_a_rule_naming_a_local_program_by_path_admits_it(workspace):
    g = gate(M.ASK, "allow:bash(./gradlew build *)")
    assert verdict_of(g, bash_check("./gradlew build --offline", workspace)) is Verdict.ALLOW
    assert verdict_of(g, bash_check("gradlew build", workspace)) is Verdict.ASK  # a different program
