"""``additionalDirectories``: extra workspace roots, and the attacks on them.

A root must be absolute, a real directory, and neither be nor contain a
protected place (``.git``, ``~/.ssh``, the home itself, ``/``), symlinks
resolved first; anything else is refused with -32602 naming the path. Inside
an accepted root files are in the workspace; outside every root they are
still outside; each root's AGENTS.md joins the system prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentcore import SessionCreateInfo
from agentcore.tools.paths import WorkspaceRootRefused
from agentcore.tools.workspace import WorkspaceError
from acp_fakes import acp_connection


@pytest.fixture
def extra(tmp_path: Path) -> Path:
    path = tmp_path / "extra"
    path.mkdir()
    (path / "AGENTS.md").write_text("Extra-root rule: widgets are blue.\n")
    (path / "notes.txt").write_text("inside the extra root\n")
    return path


async def _new(h: Any, workspace: Path, dirs: list[str]) -> dict[str, Any]:
    return await h.peer.request(
        "session/new", {"cwd": str(workspace), "mcpServers": [], "additionalDirectories": dirs}
    )


async def test_an_accepted_root_is_in_the_workspace_and_nothing_else_is(core: Any, workspace: Path, extra: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    async with core.open_session(SessionCreateInfo(cwd=workspace, additional_dirs=(extra,))) as session:
        assert session.workspace.resolve(str(extra / "notes.txt")) == (extra / "notes.txt").resolve()
        with pytest.raises(WorkspaceError):
            session.workspace.resolve(str(outside / "secret.txt"))
        with pytest.raises(WorkspaceError):
            session.workspace.resolve(str(extra / ".." / "outside" / "secret.txt"))  # no climbing out of a root
        prompt = session.system_prompt()
        assert "Extra-root rule: widgets are blue." in prompt
        assert f"Instructions from {(extra / 'AGENTS.md').resolve()}" in prompt


async def test_acp_accepts_a_plain_root(core: Any, workspace: Path, extra: Path) -> None:
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        reply = await _new(h, workspace, [str(extra)])
        assert "result" in reply, reply


@pytest.mark.parametrize("case", ["relative", "missing", "git-dir", "symlink-to-git", "filesystem-root", "home", "ssh"])
async def test_acp_refuses_roots_that_cannot_be_roots(core: Any, workspace: Path, tmp_path: Path, case: str) -> None:
    repo_git = tmp_path / "repo" / ".git"
    repo_git.mkdir(parents=True)
    link = tmp_path / "innocent"
    link.symlink_to(repo_git)
    root = {
        "relative": "extra",
        "missing": str(tmp_path / "nope"),
        "git-dir": str(repo_git),
        "symlink-to-git": str(link),
        "filesystem-root": "/",
        "home": str(Path.home()),
        "ssh": str(Path.home() / ".ssh"),
    }[case]
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        reply = await _new(h, workspace, [str(workspace), root])
        assert reply["error"]["code"] == -32602, reply
        message = reply["error"]["message"]
        assert "additionalDirectories[1]" in message or f"additional directory {root}" in message, message


def test_the_core_refuses_a_protected_root_for_every_frontend(tmp_path: Path) -> None:
    from agentcore.protected_paths import ProtectedPaths
    from agentcore.tools.paths import check_additional_roots

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    protected = ProtectedPaths(home=home)
    with pytest.raises(WorkspaceRootRefused, match="contains"):
        check_additional_roots([home], protected)
    with pytest.raises(WorkspaceRootRefused):
        check_additional_roots([home / ".ssh"], protected)
    with pytest.raises(WorkspaceRootRefused, match="absolute"):
        check_additional_roots([Path("relative")], protected)
    work = tmp_path / "work"
    work.mkdir()
    check_additional_roots([work], protected)  # an ordinary folder is fine
