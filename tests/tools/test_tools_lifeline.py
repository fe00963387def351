"""Tool processes die with the agent, and only then: a command (and what it
started) is killed when the agent process is SIGKILLed, sandboxed or not; a
sandboxed command is not killed when the worker thread that started it exits;
the command never sees the lifeline, and nothing of it outlives the command."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
import trio

from agentcore.secrets import ToolSecrets
from agentcore.tools.lifeline import WATCHER_NAME
from agentcore.tools.local import LocalShell, _group_alive
from agentcore.tools.sandbox import ProcessConfinement, SandboxMode, SandboxPolicy
from fakes.proc_util import pid_gone, wait_until

BWRAP = shutil.which("bwrap")
needs_bwrap = pytest.mark.skipif(BWRAP is None, reason="bubblewrap (bwrap) is not installed; the sandbox cannot be tested here")
WAIT_S = 30.0  # generous: a cold interpreter on a busy machine
# trio's idle worker threads exit after 10 s; a sandboxed command must outlive that.
WORKER_THREAD_IDLE_S = 10


def shell(work: Path, *, sandboxed: bool) -> LocalShell:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work)}
    mode = SandboxMode.WORKSPACE_WRITE if sandboxed else SandboxMode.OFF
    policy = SandboxPolicy(mode=mode, bwrap=Path(BWRAP or "/usr/bin/bwrap"), home=work)
    return LocalShell(secrets=ToolSecrets.from_environment(env), confinement=ProcessConfinement(policy, (work,)))


# A stand-in for the agent: runs one command through LocalShell and waits.
AGENT_SCRIPT = textwrap.dedent("""
    import sys, trio
    from pathlib import Path
    from agentcore.secrets import ToolSecrets
    from agentcore.tools.local import LocalShell
    from agentcore.tools.sandbox import ProcessConfinement, SandboxMode, SandboxPolicy

    work, sandboxed, bwrap, command = Path(sys.argv[1]), sys.argv[2] == "1", Path(sys.argv[3]), sys.argv[4]
    mode = SandboxMode.WORKSPACE_WRITE if sandboxed else SandboxMode.OFF
    policy = SandboxPolicy(mode=mode, bwrap=bwrap, home=work)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work)}
    shell = LocalShell(secrets=ToolSecrets.from_environment(env), confinement=ProcessConfinement(policy, (work,)))
    trio.run(lambda: shell.run(command, cwd=work, timeout_s=600))
""")


@pytest.mark.parametrize("sandboxed", [False, pytest.param(True, marks=needs_bwrap)])
async def test_a_command_and_its_children_die_when_the_agent_is_killed(tmp_path, sandboxed) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # Inside the sandbox pids are namespaced, so the command reports the host pids
    # through its own /proc: it writes its own marker files, the test reads ps.
    first = _unique_seconds(tmp_path)
    command = f"sleep {first} & sleep {first + 1} & echo ready > ready; wait; touch finished"
    agent = await trio.lowlevel.open_process(
        [sys.executable, "-c", AGENT_SCRIPT, str(work), "1" if sandboxed else "0", BWRAP or "/usr/bin/bwrap", command],
        stdin=subprocess.DEVNULL,
    )
    try:
        await wait_until(lambda: (work / "ready").exists(), WAIT_S)
        sleepers = _sleepers(first) + _sleepers(first + 1)
        assert len(sleepers) == 2, sleepers
        watchers = [pid for pid, argv in _processes() if argv[3:4] == [WATCHER_NAME] and _parent(pid) == agent.pid]
        assert len(watchers) == 1  # the group is watched while the agent lives
        agent.send_signal(signal.SIGKILL)  # no cleanup code runs in the agent
        await agent.wait()
        await wait_until(lambda: all(pid_gone(pid) for pid in sleepers), WAIT_S)
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()
    assert not (work / "finished").exists()
    await wait_until(lambda: all(pid_gone(pid) for pid in watchers), WAIT_S)  # it did its job and left


@needs_bwrap
async def test_a_sandboxed_command_outlives_the_thread_that_started_it(tmp_path) -> None:
    """``bwrap --die-with-parent`` follows the forking *thread*; trio forks from
    worker threads that exit when idle. The command must not die with one."""
    work = tmp_path / "work"
    work.mkdir()
    result = await shell(work, sandboxed=True).run(
        f"sleep {WORKER_THREAD_IDLE_S + 1}; echo survived", cwd=work, timeout_s=WAIT_S + WORKER_THREAD_IDLE_S
    )
    assert (result.exit_code, result.signal, result.output) == (0, None, "survived\n")


@pytest.mark.parametrize("sandboxed", [False, pytest.param(True, marks=needs_bwrap)])
async def test_the_command_sees_neither_the_lifeline_nor_a_readable_stdin(tmp_path, sandboxed) -> None:
    work = tmp_path / "work"
    work.mkdir()
    probe = "cat; for fd in 3 4 5 6 7 8 9; do if (: <&$fd) 2>/dev/null; then echo open=$fd; fi; done; echo end"
    result = await shell(work, sandboxed=sandboxed).run(probe, cwd=work, timeout_s=WAIT_S)
    assert result.output == "end\n"  # cat read /dev/null; no descriptor beyond stdio leaked in


async def test_exit_status_and_signal_are_the_commands_own(tmp_path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    local = shell(work, sandboxed=False)
    assert (await local.run("exit 7", cwd=work, timeout_s=WAIT_S)).exit_code == 7
    killed = await local.run("kill -TERM $$", cwd=work, timeout_s=WAIT_S)
    assert (killed.exit_code, killed.signal) == (None, signal.SIGTERM)


@pytest.mark.parametrize("sandboxed", [False, pytest.param(True, marks=needs_bwrap)])
async def test_nothing_of_the_command_is_left_once_it_returns(tmp_path, sandboxed) -> None:
    work = tmp_path / "work"
    work.mkdir()
    seconds = _unique_seconds(tmp_path)
    result = await shell(work, sandboxed=sandboxed).run(f"echo $$ > leader; sleep {seconds} &", cwd=work, timeout_s=WAIT_S)
    assert result.exit_code == 0
    assert not _sleepers(seconds)  # the leftover child was ended with the group
    assert not [pid for pid, argv in _processes() if argv[3:4] == [WATCHER_NAME] and _parent(pid) == os.getpid()]
    if not sandboxed:
        assert not _group_alive(int((work / "leader").read_text()))


def _unique_seconds(tmp_path: Path) -> int:
    """A sleep length no other test (or earlier run) uses, to find this test's processes."""
    return 10_000 + zlib.crc32(str(tmp_path).encode()) % 1_000_000


def _sleepers(seconds: int) -> list[int]:
    """Live ``sleep <seconds>`` processes (the seconds make them this test's own)."""
    return [pid for pid, argv in _processes() if argv == ["sleep", str(seconds)]]





def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _processes() -> list[tuple[int, list[str]]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if raw and not pid_gone(int(entry.name)):
            found.append((int(entry.name), raw.rstrip(b"\0").decode(errors="replace").split("\0")))
    return found
