"""Protected paths ask in every mode; path deny rules hold for every tool and for hard links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentcore.permissions import NonInteractiveGate, PermissionMode, Verdict
from agentcore.tools.base import Safety, ToolKind

from perm_support import bash_check, gate, tool_check, verdict_of

M = PermissionMode
PROTECTED_IN_WORKSPACE = [".agent/config.local.toml", ".agent/config.toml", ".git/config", ".git/hooks/pre-commit",
                          ".mcp.json", ".envrc", "sub/.git/config"]
EXPECTED = {M.READ_ONLY: Verdict.DENY, M.ASK: Verdict.ASK, M.ACCEPT_EDITS: Verdict.ASK, M.YOLO: Verdict.ASK, M.PLAN: Verdict.DENY}


def _write(path: str, workspace) -> object:
    return tool_check("write_file", ToolKind.EDIT, Safety.MUTATING, path, workspace)


@pytest.mark.parametrize("mode", list(M))
@pytest.mark.parametrize("path", PROTECTED_IN_WORKSPACE)
def test_protected_workspace_files_are_never_auto_approved(path, mode, workspace):
    assert verdict_of(gate(mode), _write(path, workspace)) is EXPECTED[mode]
    absolute = str(workspace.cwd / path)  # the executor may pass the resolved absolute path
    assert verdict_of(gate(mode), _write(absolute, workspace)) is EXPECTED[mode]


@pytest.mark.parametrize("mode", list(M))
@pytest.mark.parametrize("name", [".bashrc", ".zshrc", ".profile", ".bash_profile", ".zshenv", ".config/fish/config.fish",
                                  ".ssh/authorized_keys", ".gitconfig"])
def test_shell_start_up_files_are_never_auto_approved(name, mode, workspace, tmp_path):
    home = tmp_path / "home"
    assert verdict_of(gate(mode, home=home), _write(str(home / name), workspace)) is EXPECTED[mode]


@pytest.mark.parametrize("mode", list(M))
def test_user_config_dir_is_never_auto_approved(mode, workspace, tmp_path):
    config = tmp_path / "cfg"
    g = gate(mode, config_dir=config)
    assert verdict_of(g, _write(str(config / "config.toml"), workspace)) is EXPECTED[mode]


@pytest.mark.parametrize("mode", [M.ASK, M.ACCEPT_EDITS, M.YOLO])
@pytest.mark.parametrize("command", ["echo x > .git/config", "echo x >> .agent/config.toml", "ls | tee .mcp.json",
                                     "cat a | tee -a .envrc", "echo x > .git/hooks/pre-commit", "echo x >> ~/.bashrc",
                                     "cd sub && echo x > .git/config", "sudo tee .agent/x.toml"])
def test_shell_writes_into_protected_paths_ask(command, mode, workspace, tmp_path):
    g = gate(mode, "allow:bash(echo *)", "allow:bash(ls *)", "allow:bash(tee *)", "allow:bash(cat *)",
             "allow:bash(cd *)", home=Path(os.path.expanduser("~")))
    assert verdict_of(g, bash_check(command, workspace)) is Verdict.ASK


FILE_PROGRAMS = ("cp", "mv", "install", "ln", "rsync", "touch", "mkdir", "rm", "chmod", "dd", "truncate")


@pytest.mark.parametrize("mode", [M.ASK, M.ACCEPT_EDITS, M.YOLO])
@pytest.mark.parametrize("command", [
    "cp evil.sh .git/hooks/pre-commit", "cp -t .git/hooks evil.sh", "cp --target-directory=.agent x.toml",
    "mv evil.toml .agent/config.local.toml", "mv .git/config /tmp/x", "install -m 755 x .git/hooks/post-checkout",
    "ln -sf ../evil .git/hooks/pre-push", "rsync -a payload/ .git/hooks/", "touch .envrc", "mkdir -p .agent/profiles",
    "rm .agent/config.toml", "chmod +x .git/hooks/pre-commit", "dd if=evil of=.git/config", "truncate -s0 .mcp.json",
    "cp dotfile ~/.bashrc", "sudo cp x .git/config", "rm -rf .*", "rm -rf .g*", "touch */.envrc", "rm ../*",
    "chmod 777 ~/*",
])
def test_file_programs_writing_protected_paths_ask(command, mode, workspace):
    """A rule for the program (bash(cp *)) is not a rule for the protected path."""
    g = gate(mode, *(f"allow:bash({p} *)" for p in FILE_PROGRAMS), home=Path(os.path.expanduser("~")))
    assert verdict_of(g, bash_check(command, workspace)) is Verdict.ASK


@pytest.mark.parametrize("command", ["cp a b", "mv a.txt docs/", "touch new.py", "mkdir -p build/out", "rm -rf build",
                                     "chmod +x scripts/run", "ln -s target link", "rm *.o", "rm -f build/*/cache"])
def test_file_programs_inside_the_workspace_keep_running(command, workspace):
    g = gate(M.ASK, *(f"allow:bash({p} *)" for p in FILE_PROGRAMS))
    assert verdict_of(g, bash_check(command, workspace)) is Verdict.ALLOW


@pytest.mark.parametrize("mode", [M.ACCEPT_EDITS, M.YOLO])
def test_mcp_tools_writing_protected_paths_ask(mode, workspace):
    for key in ("path", "file_path", "filename", "destination", "target"):
        check = tool_check("mcp__fs__write", ToolKind.OTHER, Safety.MUTATING, None, workspace,
                           raw_input={key: ".agent/config.toml", "content": "x"})
        assert verdict_of(gate(mode), check) is Verdict.ASK, key
    harmless = tool_check("mcp__fs__write", ToolKind.OTHER, Safety.MUTATING, None, workspace,
                          raw_input={"path": "src/a.py"})
    assert verdict_of(gate(M.YOLO), harmless) is Verdict.ALLOW


def test_only_a_rule_naming_the_path_lets_a_protected_write_through(workspace):
    assert verdict_of(gate(M.ACCEPT_EDITS, "allow:write_file(.git/config)"), _write(".git/config", workspace)) is Verdict.ALLOW
    assert verdict_of(gate(M.ACCEPT_EDITS, "allow:write_file(.git/**)"), _write(".git/config", workspace)) is Verdict.ALLOW
    assert verdict_of(gate(M.ACCEPT_EDITS, "allow:write_file"), _write(".git/config", workspace)) is Verdict.ASK
    assert verdict_of(gate(M.ACCEPT_EDITS, "allow:*"), _write(".git/config", workspace)) is Verdict.ASK
    assert verdict_of(gate(M.ACCEPT_EDITS, "allow:write_file(**)"), _write(".git/config", workspace)) is Verdict.ASK
    both = gate(M.YOLO, "allow:write_file(.git/config)", "deny:write_file(.git/**)")
    assert verdict_of(both, _write(".git/config", workspace)) is Verdict.DENY


def test_ordinary_edits_still_run_in_accept_edits(workspace):
    assert verdict_of(gate(M.ACCEPT_EDITS), _write("src/app.py", workspace)) is Verdict.ALLOW
    assert verdict_of(gate(M.ACCEPT_EDITS), _write("docs/agent.md", workspace)) is Verdict.ALLOW


async def test_unattended_protected_write_is_denied(workspace):
    unattended = NonInteractiveGate(gate(M.YOLO))
    decision = await unattended.check(_write(".agent/config.local.toml", workspace))
    assert not decision.allowed and "unattended" in decision.reason
    assert (await unattended.check(_write("src/a.py", workspace))).allowed


@pytest.fixture
def secrets(workspace):
    root = workspace.cwd
    (root / ".env").write_text("SECRET=1\n")
    (root / "notes.txt").write_text("plain\n")
    os.link(root / ".env", root / "innocent.txt")
    (root / "secrets").mkdir()
    (root / "secrets" / "key.pem").write_text("k\n")
    return root


@pytest.mark.parametrize("rule", ["read_file(**/.env)", "read_file(.env)", "*(.env)", "grep(**/.env)"])
def test_path_deny_covers_hard_links_and_every_tool(rule, secrets, workspace):
    g = gate(M.YOLO, f"deny:{rule}")
    why = g.path_denied(secrets / "innocent.txt", workspace)
    assert why is not None and "hard link" in why
    assert g.path_denied(secrets / ".env", workspace) is not None
    assert g.path_denied(secrets / "notes.txt", workspace) is None
    read = tool_check("read_file", ToolKind.READ, Safety.READ_ONLY, "innocent.txt", workspace)
    assert verdict_of(g, read) is Verdict.DENY
    edit = tool_check("edit_file", ToolKind.EDIT, Safety.MUTATING, str(secrets / "innocent.txt"), workspace)
    assert verdict_of(g, edit) is Verdict.DENY
    mcp = tool_check("mcp__fs__read", ToolKind.OTHER, Safety.READ_ONLY, None, workspace, raw_input={"path": "innocent.txt"})
    assert verdict_of(g, mcp) is Verdict.DENY


def test_workspace_relative_and_absolute_deny_patterns(secrets, workspace):
    relative = gate(M.YOLO, "deny:read_file(secrets/**)")
    assert relative.path_denied(secrets / "secrets" / "key.pem", workspace) is not None
    assert relative.path_denied(secrets / "notes.txt", workspace) is None
    absolute = gate(M.YOLO, f"deny:read_file({secrets}/secrets/*.pem)")
    assert absolute.path_denied(secrets / "secrets" / "key.pem", workspace) is not None


def test_command_rules_do_not_hide_paths(secrets, workspace):
    assert gate(M.YOLO, "deny:bash(cat *)").path_denied(secrets / ".env", workspace) is None


def test_shell_commands_naming_a_denied_file_are_denied(secrets, workspace):
    g = gate(M.YOLO, "deny:read_file(**/.env)")
    assert verdict_of(g, bash_check("cat .env", workspace)) is Verdict.DENY
    assert verdict_of(g, bash_check("grep -r KEY --include=.env .", workspace)) is Verdict.DENY
    assert verdict_of(g, bash_check("cat notes.txt", workspace)) is Verdict.ALLOW
