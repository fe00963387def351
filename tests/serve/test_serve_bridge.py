"""``agent acp --bridge``: an editor's stdio relayed to the local ``agent serve``.

Each test drives real ``agent acp --bridge`` processes (the ``agent`` entry
point, ``python -m agentcore.cli.main``) on their stdin/stdout, with an
explicit environment whose ``AGENTCORE_HOME`` is the test's own: the cold path
(the bridge starts the server), the warm path (a server already runs), the
restart of a server of another version, the fallback to the in-process agent
when the socket cannot be used, and each client's own environment and launch
directory reaching the server's set-up. Every byte on the bridge's stdout must
be a protocol message; a server the bridge started is stopped after the test.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from agentcore.acp import bridge
from agentcore.acp.remote import settings
from serve_support import (
    INITIALIZE_PARAMS,
    MODEL,
    LineClient,
    llm_server,
    read_line,
    running_server,
    serve_argv,
    serve_env,
    text_reply,
)

from agentcore import __version__ as AGENTCORE_VERSION

BRIDGE_ARGV = [sys.executable, "-m", "agentcore.cli.main", "acp", "--bridge"]
EXIT_TIMEOUT_S = 30.0  # seconds a bridge may take to exit once its stdin is closed
STEP_TIMEOUT_S = 90.0  # seconds for one exchange, a cold server start included
HELLO_ID = "agentcore-bridge-hello"
HEAVY_MODULES = ("trio", "attrs", "httpx", "platformdirs", "subprocess", "agentcore.config", "agentcore.acp.remote")

# A server of "another version": answers the hello the way an old agent serve
# would (``answer`` is the JSON-RPC answer's body), records what it was sent,
# and dies of the SIGTERM the bridge sends it.
OLD_SERVER = r"""
import json, os, socket, sys
path, record, answer = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(8)
print("ready", flush=True)
while True:
    conn, _ = listener.accept()
    line = conn.makefile("rb").readline()
    with open(record, "ab") as out:
        out.write(line)
    hello = json.loads(line)
    conn.sendall(json.dumps({"jsonrpc": "2.0", "id": hello["id"], **answer}).encode() + b"\n")
"""


def bridge_env(home: Path, llm_url: str | None = None, **extra: str) -> dict[str, str]:
    """What an editor would start the bridge with: the model chosen by the
    environment, any free port for a server it starts."""
    env = serve_env(home, llm_url, AGENTCORE_SERVE_LISTEN="127.0.0.1:0")
    env.update({"AGENTCORE_PROVIDER": "openai", "AGENTCORE_MODEL": MODEL} if llm_url else {"AGENTCORE_PROVIDER": "echo"})
    env.update(extra)
    return env


class Bridge:
    """One ``agent acp --bridge`` process, spoken to as an editor would."""

    def __init__(self, proc: trio.Process, stderr_path: Path) -> None:
        self.proc = proc
        self.stderr_path = stderr_path
        assert proc.stdin is not None and proc.stdout is not None
        self.client = LineClient(trio.StapledStream(proc.stdin, proc.stdout))  # type: ignore[arg-type]
        self.seen: list[dict[str, Any]] = []

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with trio.fail_after(STEP_TIMEOUT_S):
            answer = await self.client.call(method, params, self.seen)
        self.seen.append(answer)
        return answer

    async def open_session(self, cwd: Path) -> str:
        assert "result" in await self.call("initialize", INITIALIZE_PARAMS)
        created = await self.call("session/new", {"cwd": str(cwd), "mcpServers": []})
        return created["result"]["sessionId"]

    async def prompt(self, session_id: str, text: str) -> tuple[str, str]:
        """(stop reason, the agent's text) of one turn."""
        start = len(self.seen)
        answer = await self.call("session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": text}]})
        chunks = [m["params"]["update"]["content"]["text"] for m in self.seen[start:]
                  if m.get("method") == "session/update" and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"]  # fmt: skip
        return answer["result"]["stopReason"], "".join(chunks)

    async def finish(self) -> str:
        """Close stdin as an editor does; every further line must be protocol.
        Returns what the bridge wrote on stderr."""
        assert self.proc.stdin is not None
        await self.proc.stdin.aclose()
        with trio.fail_after(EXIT_TIMEOUT_S):
            while (message := await self.client.receive()) is not None:
                self.seen.append(message)
            assert await self.proc.wait() == 0
        assert not any(m.get("id") == HELLO_ID for m in self.seen), "the hello's answer reached the editor"
        return self.stderr_path.read_text(errors="replace")


@asynccontextmanager
async def open_bridge(env: dict[str, str], cwd: Path, *args: str) -> AsyncIterator[Bridge]:
    stderr_path = Path(env["AGENTCORE_HOME"]).parent / f"bridge-{os.urandom(4).hex()}.stderr"
    with stderr_path.open("wb") as stderr:
        proc = await trio.lowlevel.open_process([*BRIDGE_ARGV, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                stderr=stderr, env=env, cwd=cwd)  # fmt: skip
    try:
        yield Bridge(proc, stderr_path)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@asynccontextmanager
async def stopped_after(env: dict[str, str]) -> AsyncIterator[None]:
    """Stop whatever server a bridge started under this home; it must have logged no traceback."""
    try:
        yield
    finally:
        await trio.run_process(serve_argv("stop"), env=env, capture_stdout=True, capture_stderr=True, check=False)
    log = Path(env["AGENTCORE_HOME"]) / "state" / "logs" / "serve.log"
    assert "Traceback" not in (log.read_text() if log.exists() else ""), log.read_text()


async def live_sessions(home: Path) -> int:
    """How many sessions are live in the server now (they outlive the bridges that
    opened them; sessions of an in-process agent never count here)."""
    state = server_state(home)
    assert state is not None, "no server runs"
    async with httpx.AsyncClient() as http:
        return int((await http.get(state["health_url"])).json()["sessions"])


def server_state(home: Path) -> dict[str, Any] | None:
    path = home / "run" / settings.STATE_FILE_NAME
    return json.loads(path.read_text()) if path.exists() else None


# ------------------------------------------------------------------ cold and warm


async def test_cold_start_runs_the_server_and_the_next_bridge_reuses_it(serve_dirs: dict[str, Path]) -> None:
    home, work = serve_dirs["home"], serve_dirs["work"]
    async with llm_server.open_fake_server() as llm, stopped_after(env := bridge_env(home, llm.url)):
        llm.enqueue(text_reply("cold", " answer"), text_reply("warm answer"))
        assert server_state(home) is None
        async with open_bridge(env, work) as first:
            sid = await first.open_session(work)
            assert await first.prompt(sid, "hi") == ("end_turn", "cold answer")
            assert await first.finish() == ""
        state = server_state(home)
        assert state is not None and state["version"] == AGENTCORE_VERSION
        assert state["socket"] == bridge.socket_path(env)

        async with open_bridge(env, work) as second:
            sid = await second.open_session(work)
            assert await second.prompt(sid, "again") == ("end_turn", "warm answer")
            assert await second.finish() == ""
        assert server_state(home) == state  # the same server: not restarted, not a second one
        assert len(llm.requests) == 2
        assert await live_sessions(home) == 2


async def test_bridges_starting_at_once_share_one_server(serve_dirs: dict[str, Path]) -> None:
    """Three editor windows open together with no server: one server starts (the
    others wait on the lock and use it), and every window works."""
    home, work = serve_dirs["home"], serve_dirs["work"]
    env = bridge_env(home)
    async with stopped_after(env), open_bridge(env, work) as a, open_bridge(env, work) as b, open_bridge(env, work) as c:
        async with trio.open_nursery() as nursery:
            for editor in (a, b, c):
                nursery.start_soon(editor.open_session, work)
        for editor in (a, b, c):
            assert await editor.finish() == ""
        assert await live_sessions(home) == 3


async def test_warm_server_started_by_hand(serve_dirs: dict[str, Path]) -> None:
    home, work = serve_dirs["home"], serve_dirs["work"]
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(text_reply("through", " the server"))
        env = bridge_env(home, llm.url)
        async with running_server(home, env=env, cwd=work) as server:
            async with open_bridge(env, work) as editor:
                sid = await editor.open_session(work)
                assert await editor.prompt(sid, "hi") == ("end_turn", "through the server")
                assert await editor.finish() == ""
            state = server_state(home)
            assert state is not None and state["pid"] == server.proc.pid
            assert await live_sessions(home) == 1


async def test_the_bridge_path_imports_nothing_heavy(serve_dirs: dict[str, Path]) -> None:
    """What an editor waits for: the bridge's imports stay within the standard library."""
    home, work = serve_dirs["home"], serve_dirs["work"]
    env = bridge_env(home)
    async with running_server(home, env=env, cwd=work):
        with trio.fail_after(STEP_TIMEOUT_S):
            done = await trio.run_process(
                [sys.executable, "-X", "importtime", *BRIDGE_ARGV[1:]], env=env, cwd=work, check=False,
                stdin=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE_PARAMS}).encode() + b"\n",
                capture_stdout=True, capture_stderr=True,
            )  # fmt: skip
    assert done.returncode == 0
    assert json.loads(done.stdout)["result"]["protocolVersion"] == 1
    imported = {line.split("|")[-1].strip() for line in done.stderr.decode().splitlines() if line.startswith("import time:")}
    assert "agentcore.acp.bridge" in imported
    assert not [name for name in imported if name.split(".")[0] in HEAVY_MODULES or name.startswith(HEAVY_MODULES)]


# ------------------------------------------------------------------ another version


@pytest.mark.parametrize("answer", [
    {"result": {"version": "0.0.1-old", "pid": 1}},  # the pid it claims is not used: the socket's peer is
    {"error": {"code": -32601, "message": "Method not found"}},  # from before the hello existed
], ids=["other-version", "no-hello"])  # fmt: skip
async def test_a_server_of_another_version_is_replaced_once(serve_dirs: dict[str, Path], answer: dict[str, Any]) -> None:
    home, work = serve_dirs["home"], serve_dirs["work"]
    env = bridge_env(home)
    record = serve_dirs["root"] / "hello.jsonl"
    socket_path = bridge.socket_path(env)
    old = await trio.lowlevel.open_process([sys.executable, "-c", OLD_SERVER, socket_path, str(record), json.dumps(answer)],
                                           stdout=subprocess.PIPE, env=env)  # fmt: skip
    try:
        assert old.stdout is not None
        with trio.fail_after(STEP_TIMEOUT_S):
            assert await read_line(old.stdout, bytearray()) == "ready"
        async with stopped_after(env), open_bridge(env, work) as editor:
            sid = await editor.open_session(work)
            stop_reason, text = await editor.prompt(sid, "echo me")
            assert stop_reason == "end_turn" and "echo me" in text
            assert await editor.finish() == ""
            state = server_state(home)
            assert state is not None and state["version"] == AGENTCORE_VERSION and state["pid"] != old.pid
        with trio.fail_after(EXIT_TIMEOUT_S):
            assert await old.wait() == -signal.SIGTERM
        hello = json.loads(record.read_text().splitlines()[0])
        assert hello["method"] == "_agentcore/bridge/hello"
        assert hello["params"] == {"env": env, "cwd": str(work)}
    finally:
        if old.returncode is None:
            old.kill()
            await old.wait()


# ------------------------------------------------------------------ fallback


def _open_dir(home: Path) -> str:
    (home / "run").mkdir(parents=True)
    os.chmod(home / "run", 0o755)
    return f"{home / 'run'} is not a private directory of this user"


def _file_in_place(home: Path) -> str:
    (home / "run").mkdir(parents=True, mode=0o700)
    (home / "run" / "agent.sock").write_text("not a socket")
    return f"{home / 'run' / 'agent.sock'} exists and is not a socket"


@pytest.mark.parametrize("spoil", [_open_dir, _file_in_place], ids=["directory-not-private", "file-in-place"])
async def test_an_unusable_socket_falls_back_to_the_agent_in_process(serve_dirs: dict[str, Path], spoil: Any) -> None:
    home, work = serve_dirs["home"], serve_dirs["work"]
    reason = spoil(home)
    env = bridge_env(home)
    async with open_bridge(env, work) as editor:
        sid = await editor.open_session(work)
        stop_reason, text = await editor.prompt(sid, "echo me")
        assert stop_reason == "end_turn" and "echo me" in text
        stderr = await editor.finish()
    assert stderr.splitlines()[0] == f"agent acp: {reason}; running the agent in this process"
    assert stderr.count("agent acp:") == 1
    assert server_state(home) is None  # no server was started behind the user's back


async def test_selection_flags_reach_the_server_with_the_hello(serve_dirs: dict[str, Path]) -> None:
    """`agent acp --bridge --model M` (what an editor's settings often pass) is set
    up in the server exactly as `agent acp --model M` would be in process."""
    home, work = serve_dirs["home"], serve_dirs["work"]
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(text_reply("flagged"))
        env = bridge_env(home, llm.url)
        async with stopped_after(env), open_bridge(env, work, "--model", "gpt-from-a-flag") as editor:
            sid = await editor.open_session(work)
            assert await editor.prompt(sid, "hi") == ("end_turn", "flagged")
            assert await editor.finish() == ""
            assert await live_sessions(home) == 1  # it went through the server
    assert [r.json()["model"] for r in llm.requests] == ["gpt-from-a-flag"]


def test_unknown_arguments_are_the_in_process_parsers(tmp_path: Path) -> None:
    assert bridge.selection_flags(["--provider", "echo", "--trust"]) == {"provider": "echo", "trust": True}
    assert bridge.selection_flags(["--model=m"]) == {"model": "m"}
    assert bridge.selection_flags(["--help"]) is None and bridge.selection_flags(["--model"]) is None


# ------------------------------------------------------------------ each client's own environment


async def test_each_bridge_brings_its_own_environment(serve_dirs: dict[str, Path]) -> None:
    """Two editors on one server at once, each launched in its own directory with
    its own OPENAI_BASE_URL and model: each reaches its own model (the launch
    directory in the hello is checked in the version test, where a fake server
    records it)."""
    home, work = serve_dirs["home"], serve_dirs["work"]
    other = serve_dirs["root"] / "other"
    other.mkdir()
    async with llm_server.open_fake_server() as llm_a, llm_server.open_fake_server() as llm_b:
        llm_a.enqueue(text_reply("from A"))
        llm_b.enqueue(text_reply("from B"))
        env_a = bridge_env(home, llm_a.url)
        env_b = bridge_env(home, llm_b.url, AGENTCORE_MODEL="gpt-of-b")
        async with stopped_after(env_a), open_bridge(env_a, work) as editor_a:
            sid_a = await editor_a.open_session(work)
            async with open_bridge(env_b, other.resolve()) as editor_b:
                sid_b = await editor_b.open_session(work)
                assert await editor_b.prompt(sid_b, "b?") == ("end_turn", "from B")
                assert await editor_a.prompt(sid_a, "a?") == ("end_turn", "from A")
                assert await editor_b.finish() == ""
            assert await editor_a.finish() == ""
            assert await live_sessions(home) == 2  # both in the one server
    assert [r.json()["model"] for r in llm_a.requests] == [MODEL]
    assert [r.json()["model"] for r in llm_b.requests] == ["gpt-of-b"]


# ------------------------------------------------------------------ the socket path


def test_the_socket_path_is_the_servers(tmp_path: Path) -> None:
    env = {"AGENTCORE_HOME": str(tmp_path / "home")}
    assert bridge.socket_path(env) == str(settings.default_socket_path(env))
    assert (bridge.SOCKET_NAME, bridge.RUNTIME_SUBDIR, bridge.APP_NAME) == (settings.SOCKET_NAME, settings.RUNTIME_SUBDIR, settings.APP_NAME)


@pytest.mark.parametrize("mode", [0o700, 0o755], ids=["private", "open"])
def test_the_socket_path_follows_the_runtime_dir_as_the_server_does(tmp_path: Path, mode: int) -> None:
    """Without AGENTCORE_HOME: XDG_RUNTIME_DIR when it is private, platformdirs'
    choice otherwise (both read in a child process with the injected environment)."""
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=mode)
    os.chmod(xdg, mode)
    env = {k: v for k, v in os.environ.items() if k != "AGENTCORE_HOME"}
    env["XDG_RUNTIME_DIR"] = str(xdg)
    code = ("import os, sys; from agentcore.acp import bridge; from agentcore.acp.remote import settings; "
            "print(bridge.socket_path(os.environ)); print(settings.default_socket_path(os.environ))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    ours, servers = done.stdout.splitlines()
    assert ours == servers
    assert (ours == str(xdg / "agentcore" / "agent.sock")) is (stat.S_IMODE(xdg.stat().st_mode) == 0o700)
