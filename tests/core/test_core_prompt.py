from __future__ import annotations

import datetime as dt
from pathlib import Path

from agentcore.frontend import Frontend
from agentcore.prompt import load_project_prompt, resolve_system_prompt


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "AGENTS.md").write_text("Use tabs.\n")
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "AGENTS.md").write_text("Run pkg tests with make test.\n")
    (tmp_path / "AGENTS.md").write_text("OUTSIDE THE REPO\n")
    return root


def test_agents_md_layers_from_repo_root_down_to_cwd(tmp_path):
    root = _repo(tmp_path)
    text = load_project_prompt(root / "pkg" / "sub")
    assert "OUTSIDE" not in text
    assert text.index("Use tabs.") < text.index("Run pkg tests")
    assert f"Instructions from {root / 'AGENTS.md'}" in text
    assert f"Instructions from {root / 'pkg' / 'AGENTS.md'}" in text
    assert load_project_prompt(root / "pkg" / "sub") == text  # cached read, same answer


def test_system_prompt_order_and_environment(tmp_path):
    root = _repo(tmp_path)
    prompt = resolve_system_prompt(
        cwd=root / "pkg",
        frontend=Frontend.acp(fs_delegated=True),
        profile_prompt="You review code.",
        today=dt.date(2026, 11, 21),
    )
    assert prompt.index("You are agentcore") < prompt.index("# Environment") < prompt.index("Use tabs.") < prompt.index("You review code.")
    assert "2026-11-21" in prompt and str(root / "pkg") in prompt
    assert "Agent Client Protocol (editor file access)" in prompt
    bare = resolve_system_prompt(cwd=root, frontend=Frontend.cli(), inherit_project_prompt=False)
    assert "Use tabs." not in bare


def test_agents_md_changes_are_picked_up(tmp_path):
    root = _repo(tmp_path)
    assert "Use tabs." in load_project_prompt(root)
    (root / "AGENTS.md").write_text("Use spaces, four of them.\n")
    import os

    st = (root / "AGENTS.md").stat()
    os.utime(root / "AGENTS.md", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert "four of them" in load_project_prompt(root)
