"""Every state file is 0600 and every state directory 0700, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agentcore.private_files import open_private, private_dir, replace_private_text
from agentcore.cli.line_editor import InputHistory
from secrets_support import info, make_core, text, tool_call

OUTPUT_LINES = 5000  # enough output to spill both in the shell backend and in the bash tool


def modes(root: Path) -> dict[Path, int]:
    found = {root: stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[path] = stat.S_IMODE(path.stat().st_mode)
    return found


async def test_state_files_are_private_after_a_session(server, http_client, env, state_dir, work):
    server.enqueue(
        tool_call("c1", "bash", {"command": f"seq {OUTPUT_LINES} | sed 's/$/ some padding to make it long/'"}),
        tool_call("c2", "bash", {"command": "echo background", "run_in_background": True}),
        text("done"),
    )
    core = make_core(server, http_client, env, state_dir)
    async with core.open_session(info(work)) as session:
        await session.run_turn("go")
        for task in session.background.snapshot():
            await session.background.wait(task.id)
    InputHistory(state_dir / "input_history").add("a prompt")

    found = modes(state_dir)
    names = {p.name for p in found}
    assert {"journal.jsonl", "meta.json", "input_history"} <= names
    assert any(n.endswith(".log") for n in names) and any(n.startswith("output-") for n in names), names
    assert any("checkpoints" in p.parts for p in found), "the shell call was checkpointed"
    for path, mode in found.items():
        if "checkpoints" in path.parts and not path.is_dir():
            # git's own objects are read-only (0400); what matters is that nobody else can read them
            assert mode & 0o077 == 0 and mode & 0o400, f"{path} is {oct(mode)}"
            continue
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, f"{path} is {oct(mode)}"


def test_the_helpers_narrow_what_an_older_version_left_wide(tmp_path):
    old_dir = tmp_path / "state"
    old_dir.mkdir(mode=0o755)
    os.chmod(old_dir, 0o755)
    old_file = old_dir / "input_history"
    old_file.write_text("x\n")
    os.chmod(old_file, 0o644)
    with open_private(old_file, "a") as out:
        out.write("y\n")
    private_dir(old_dir)
    replace_private_text(old_dir / "new" / "snapshot.json", "{}")
    assert stat.S_IMODE(old_file.stat().st_mode) == 0o600 and old_file.read_text() == "x\ny\n"
    assert stat.S_IMODE(old_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((old_dir / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((old_dir / "new" / "snapshot.json").stat().st_mode) == 0o600
