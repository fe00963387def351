"""Work does not outlive the agent, and the session remembers it was cut off:
`agent run` is SIGKILLed while its bash tool runs; the command's processes die
with it and never finish their side effects; `agent sessions show` names the
command that was running; resuming the session parks the cut-off turn as pending (with the
interrupted tool) in the journal and tells the user."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import trio

from agentcore.config.paths import resolve_paths
from agentcore.store import JournalStore
from agentcore.trust import TrustStore
from fakes.llm_server import FakeServer
from fakes.proc_util import pid_gone, wait_until
from store_support import info, make_core, make_provider, tool_call

AGENT = Path(sys.executable).parent / "agent"
WAIT_S = 30.0  # a cold `agent run` on a busy machine
COMMAND = "echo $$ > leader; sleep 10303 & echo $! > child; wait; touch finished"


async def test_a_killed_agent_takes_its_tool_with_it_and_the_resume_says_what_was_running(
    tmp_path: Path, server: FakeServer, http_client, work: Path
) -> None:
    home = tmp_path / "home"
    TrustStore.of(resolve_paths({"AGENTCORE_HOME": str(home)})).trust(work, home=None)
    server.enqueue(tool_call("call_1", "bash", json.dumps({"command": COMMAND})))
    env = {
        "AGENTCORE_HOME": str(home), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENAI_API_KEY": "sk-test-interrupted-0123456789", "OPENAI_BASE_URL": f"{server.url}/v1",
    }
    agent = await trio.lowlevel.open_process(
        [str(AGENT), "run", "-p", "start the job", "--mode", "yolo", "--format", "stream-json"],
        cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    try:
        await wait_until(lambda: (work / "child").exists() and (work / "child").read_text().strip() != "", WAIT_S)
        leader, child = int((work / "leader").read_text()), int((work / "child").read_text())
        agent.send_signal(signal.SIGKILL)
        await agent.wait()
        await wait_until(lambda: pid_gone(leader) and pid_gone(child), WAIT_S)
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()
        assert agent.stdout is not None
        await agent.stdout.aclose()
    assert not (work / "finished").exists()

    sessions_dir = home / "state" / "sessions"
    [sid] = [p.name for p in sessions_dir.iterdir() if p.is_dir()]
    shown = subprocess.run([str(AGENT), "sessions", "show", sid], cwd=work, env={**env, "COLUMNS": "400"}, capture_output=True,
                           text=True, timeout=WAIT_S)
    assert shown.returncode == 0, shown.stderr
    assert "did not finish" in shown.stdout and f"bash: {COMMAND}" in shown.stdout

    store = JournalStore(sessions_dir)
    core = make_core(store, make_provider(server, http_client), tmp_path / "state")
    async with core.open_session(info(work, session_id=sid)) as session:
        notices = [n.text for n in session.startup_notices]
    assert any(COMMAND in text and "may have done part of its work" in text for text in notices), notices
    records = [json.loads(line) for line in (sessions_dir / sid / "journal.jsonl").read_text().splitlines()]
    suspended = [r for r in records if r["type"] == "turn_suspended"]  # pending: continue or discard it later
    assert suspended[-1]["v"] == 3
    assert suspended[-1]["interrupted_tools"] == [{"call_id": "call_1", "name": "bash", "command": COMMAND, "finished": False}]
    reread = JournalStore(sessions_dir).open_read_only(sid)
    assert reread.interrupted_tools == ()  # no longer an open turn: parked by the resume
    assert reread.snapshot.pending_turn is not None
    assert [(c.name, c.command) for c in reread.snapshot.pending_turn.interrupted_tools] == [("bash", COMMAND)]
