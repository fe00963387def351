"""The bubblewrap sandbox: writes outside the workspace, reading the user's
secret stores and network connections fail under it and succeed without it;
timeouts still kill everything; a missing bubblewrap is a readable error."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from agentcore.session.hooks import run_hook_process
from agentcore.config.settings import HookConfig, ShellSettings
from agentcore.tools.local import LocalShell
from agentcore.tools.sandbox import ProcessConfinement, SandboxMode, SandboxPolicy, SandboxUnavailable
from agentcore.secrets import ToolSecrets
from secrets_support import BWRAP, NEEDS_BWRAP_REASON, info, make_core, text, tool_call, tool_results

needs_bwrap = pytest.mark.skipif(BWRAP is None, reason=NEEDS_BWRAP_REASON)
TIMEOUT_S = 10.0  # generous: every command here finishes in milliseconds
MISSING_BWRAP = Path("/nonexistent/bin/bwrap")


def shell_for(work: Path, env: dict[str, str], *, sandboxed: bool, network: bool = False) -> LocalShell:
    policy = SandboxPolicy(
        mode=SandboxMode.WORKSPACE_WRITE if sandboxed else SandboxMode.OFF,
        network=network,
        bwrap=Path(BWRAP or "/usr/bin/bwrap"),
        home=Path(env["HOME"]),
    )
    return LocalShell(secrets=ToolSecrets.from_environment(env), confinement=ProcessConfinement(policy, (work,)))


async def run(shell: LocalShell, command: str, work: Path) -> tuple[int | None, str]:
    result = await shell.run(command, cwd=work, timeout_s=TIMEOUT_S)
    return result.exit_code, result.output


@needs_bwrap
@pytest.mark.parametrize("sandboxed", [False, True])
async def test_writing_outside_the_workspace(sandboxed, env, work, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shell = shell_for(work, env, sandboxed=sandboxed)
    code, output = await run(shell, f"echo x > {outside}/file && echo x > inside.txt", work)
    assert (outside / "file").exists() is not sandboxed, output
    assert (code == 0) is not sandboxed
    code, _ = await run(shell, "echo x > inside.txt", work)
    assert code == 0 and (work / "inside.txt").read_text() == "x\n"  # the workspace stays writable


@needs_bwrap
async def test_the_rest_of_the_file_system_is_read_only(env, work):
    code, output = await run(shell_for(work, env, sandboxed=True), "touch /usr/agentcore-sandbox-probe", work)
    assert code != 0 and "Read-only file system" in output
    assert not Path("/usr/agentcore-sandbox-probe").exists()


@needs_bwrap
@pytest.mark.parametrize("sandboxed", [False, True])
async def test_reading_the_users_ssh_key_and_netrc(sandboxed, env, work, home):
    shell = shell_for(work, env, sandboxed=sandboxed)
    code, output = await run(shell, "cat ~/.ssh/id_rsa ~/.netrc", work)
    assert ("PRIVATE KEY" in output) is not sandboxed, output
    assert ("hunter2hunter2" in output) is not sandboxed, output
    assert (code == 0) is not sandboxed


@needs_bwrap
@pytest.mark.parametrize(("sandboxed", "network"), [(False, False), (True, False), (True, True)])
async def test_a_loopback_connection(sandboxed, network, env, work):
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    accepted = []

    async def serve(stream: trio.SocketStream) -> None:
        accepted.append(True)
        await stream.send_all(b"hello from the test\n")
        await stream.aclose()

    probe = f"exec 3<>/dev/tcp/127.0.0.1/{port} && head -n1 <&3"
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, serve, listeners)
        shell = shell_for(work, env, sandboxed=sandboxed, network=network)
        code, output = await run(shell, f"bash -c '{probe}'", work)
        nursery.cancel_scope.cancel()
    reachable = not sandboxed or network
    assert ("hello from the test" in output) is reachable, output
    assert bool(accepted) is reachable and (code == 0) is reachable


@needs_bwrap
async def test_a_timeout_still_kills_everything_inside(env, work):
    shell = shell_for(work, env, sandboxed=True)
    with trio.fail_after(TIMEOUT_S):
        result = await shell.run("sleep 60 & sleep 60; echo never", cwd=work, timeout_s=0.5)
    assert result.timed_out and "never" not in result.output


@needs_bwrap
async def test_hooks_run_in_the_sandbox(env, work, home):
    policy = SandboxPolicy(mode=SandboxMode.WORKSPACE_WRITE, bwrap=Path(BWRAP or ""), home=home)
    outcome = await run_hook_process(
        "cat ~/.ssh/id_rsa; echo ok", b"{}", cwd=work, env=env, timeout_s=TIMEOUT_S,
        confinement=ProcessConfinement(policy, (work,)),
    )
    assert outcome.stdout == b"ok\n" and outcome.exit_code == 0


async def test_a_missing_bubblewrap_is_a_readable_error(server, http_client, env, state_dir, work):
    server.enqueue(tool_call("c1", "bash", {"command": "echo hi > ran.txt"}), text("ok"))
    shell = ShellSettings(sandbox="workspace-write")
    hook = HookConfig(event="session_start", command="echo hi > hook-ran.txt")
    core = make_core(server, http_client, env, state_dir, shell=shell, hooks=[hook], bwrap=MISSING_BWRAP)
    events = []
    async with core.open_session(info(work)) as session:
        session.events.add_observer(events.append)
        notices = [n.text for n in session.startup_notices]
        await session.run_turn("run it")
    [result] = tool_results(server.requests[1].json())
    assert "not run" in result and str(MISSING_BWRAP) in result and "bubblewrap" in result
    assert any(str(MISSING_BWRAP) in n for n in notices)  # said once at start-up too
    assert not (work / "ran.txt").exists() and not (work / "hook-ran.txt").exists()
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        SandboxPolicy(mode=SandboxMode.WORKSPACE_WRITE, bwrap=MISSING_BWRAP).check()
