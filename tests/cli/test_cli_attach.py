"""``agent chat --attach`` and the live marks of ``agent sessions list``, end to
end: a real ``agent serve`` process (its model a loopback server speaking the
OpenAI wire format), a first client on the server's Unix socket that opens and
prompts a session, and the attached chat on a pseudo-terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from agentcore.cli.update_events import UpdateTranslator
from agentcore.events import AssistantTextDelta, Notice, ToolCallFinished, ToolCallProgress, ToolCallStarted
from agentcore.tools import ToolKind

import cli_support
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage
from pty_driver import AGENT, PtyAgent

PROMPT = "› "
MODEL = "gpt-4o-mini"
WAIT_S = 15.0  # for the server or a client to show something; a pass takes milliseconds
READY_PREFIX = "agent serve: listening on "
APPROVE = "_agentcore/session/approve"


def text_reply(*parts: str) -> Any:
    return sse_reply(OA_ROLE, *(oa_chunk({"content": p}) for p in parts), oa_chunk({}, finish="stop"), oa_usage(900, 20), OA_DONE)


def bash_call(call_id: str, command: str) -> Any:
    args = json.dumps({"command": command})
    return sse_reply(
        oa_chunk({"role": "assistant", "content": None}), oa_tool_start(0, call_id, "bash"), oa_tool_args(0, args),
        oa_chunk({}, finish="tool_calls"), oa_usage(1000, 30), OA_DONE,
    )  # fmt: skip


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def dirs() -> Iterator[dict[str, Path]]:
    """A short root under /tmp: the server's socket path must fit in 107 bytes."""
    root = Path(tempfile.mkdtemp(prefix="att-"))
    work = root / "work"
    work.mkdir()
    (work / ".git").mkdir()
    try:
        yield {"root": root, "work": work.resolve(), "home": root / "home"}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def agent_env(home: Path, llm: FakeServer | None) -> dict[str, str]:
    assert home == home.parent / "home"  # the layout cli_support.agent_env builds
    env = cli_support.agent_env(home.parent, llm, "sk-test-attach-0123456789", terminal=True)
    return env | {"OLLAMA_HOST": "127.0.0.1:9"}  # nothing listens: detection must not find a real Ollama


@attrs.frozen
class Serve:
    proc: trio.Process
    socket: Path


@asynccontextmanager
async def agent_serve(dirs: dict[str, Path], llm: FakeServer) -> AsyncIterator[Serve]:
    """A real server for the block."""
    dirs["home"].mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "agentcore.cli.main", "serve", "--listen", "127.0.0.1:0", "--provider", "openai", "--model", MODEL]
    with open(dirs["root"] / "serve.stderr", "ab") as stderr:
        proc = await trio.lowlevel.open_process(argv, stdout=subprocess.PIPE, stderr=stderr,
                                                env=agent_env(dirs["home"], llm), cwd=dirs["work"])  # fmt: skip
    try:
        assert proc.stdout is not None
        line = b""
        with trio.fail_after(WAIT_S):
            while not line.endswith(b"\n"):
                chunk = await proc.stdout.receive_some(1)
                assert chunk, (dirs["root"] / "serve.stderr").read_text()
                line += chunk
        text = line.decode().strip()
        assert text.startswith(READY_PREFIX) and " and unix:" in text, text
        yield Serve(proc, Path(text.split(" and unix:", 1)[1]))
    finally:
        proc.terminate()
        with trio.move_on_after(WAIT_S):
            await proc.wait()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "Traceback" not in (dirs["root"] / "serve.stderr").read_text()


class SocketClient:
    """A first client (an editor, say) on the server's socket: it reads
    everything into ``messages`` and approves a controller's attach when asked."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.messages: list[dict[str, Any]] = []
        self._changed = trio.Event()
        self._next_id = 0

    async def run(self) -> None:
        buffer = b""
        while chunk := await self.stream.receive_some(65536):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                message = json.loads(line)
                self.messages.append(message)
                if message.get("method") == APPROVE:
                    await self.answer(message["id"], {"approved": True})
                self._changed.set()
                self._changed = trio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        await self.stream.send_all(json.dumps(message).encode() + b"\n")

    async def answer(self, request_id: Any, result: dict[str, Any]) -> None:
        await self.send({"jsonrpc": "2.0", "id": request_id, "result": result})

    async def start_request(self, method: str, params: dict[str, Any]) -> int:
        self._next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = await self.start_request(method, params)
        reply = await self.wait_for(lambda m: m.get("id") == request_id and "method" not in m)
        assert "result" in reply, reply
        return reply["result"]

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        with trio.fail_after(WAIT_S):
            while True:
                found = next((m for m in self.messages if predicate(m)), None)
                if found is not None:
                    return found
                await self._changed.wait()

    def streamed_text(self) -> str:
        return "".join(
            m["params"]["update"]["content"]["text"]
            for m in self.messages
            if m.get("method") == "session/update" and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"
        )


@asynccontextmanager
async def first_client(socket: Path, work: Path) -> AsyncIterator[tuple[SocketClient, str]]:
    """A client that opened a session in ``work``; yields it and the session id."""
    stream = await trio.open_unix_socket(str(socket))
    client = SocketClient(stream)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(client.run)
        await client.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
        session = await client.request("session/new", {"cwd": str(work), "mcpServers": []})
        yield client, session["sessionId"]
        nursery.cancel_scope.cancel()
    await stream.aclose()


def run_agent(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AGENT), *args], check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=WAIT_S * 2)


# --------------------------------------------------------------------- tests


async def test_attach_shows_the_history_and_prompts_the_shared_session(dirs, server: FakeServer) -> None:
    env = agent_env(dirs["home"], server)
    async with agent_serve(dirs, server) as serve, first_client(serve.socket, dirs["work"]) as (editor, sid):
        server.enqueue(text_reply("First ", "answer."))
        prompted = await editor.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": "first question"}]})
        assert prompted["stopReason"] == "end_turn"

        chat = PtyAgent(["chat", "--attach", sid[:-4]], env=env, cwd=dirs["work"])  # a unique prefix is enough
        try:
            await chat.expect(f"attached to session {sid}")
            await chat.expect("› first question")  # the earlier conversation, replayed
            await chat.expect("First answer.")
            await chat.expect(f"openai/{MODEL}")  # the status line
            await chat.expect(PROMPT)
            assert any(m.get("method") == APPROVE for m in editor.messages)  # the owner was asked, and approved

            # A prompt typed in the terminal streams there, and the editor sees the same updates.
            server.enqueue(text_reply("Second answer ", "from the terminal."))
            chat.send("second question\r")
            await chat.expect("from the terminal.")
            await chat.expect(PROMPT)
            await editor.wait_for(lambda m: "from the terminal." in json.dumps(m))
            assert "Second answer from the terminal." in editor.streamed_text()
            sent = server.requests[1].json()["messages"]
            assert [m["content"] for m in sent if m["role"] == "user"][-2:] == ["first question", "second question"]

            # Ctrl-C cancels the terminal's turn in the server; the prompt comes back.
            server.enqueue(sse_reply(OA_ROLE, oa_chunk({"content": "partial answer"}), end="hang"))
            chat.send("take your time\r")
            await chat.expect("partial answer")
            chat.send(b"\x03")
            await chat.expect("turn cancelled")
            await chat.expect(PROMPT)
            with trio.fail_after(WAIT_S):
                await server.requests[2].disconnected.wait()  # the model's stream was really closed

            # `agent sessions list` marks the session live, while the chat is attached.
            listed = await trio.to_thread.run_sync(lambda: run_agent("sessions", "list", env=env, cwd=dirs["work"]))
            row = next(line for line in listed.stdout.splitlines() if sid in line)
            assert row.lstrip().startswith("●") and "agent chat --attach ID" in listed.stdout

            chat.send(b"\x04")  # Ctrl-D: detach; the session stays live in the server
            assert await chat.wait_exit() == 0
        finally:
            chat.close()
        [row] = (await editor.request("_agentcore/sessions/live", {}))["sessions"]
        assert (row["sessionId"], row["clients"], row["turnRunning"]) == (sid, 1, False)  # still live; the terminal left

        unknown = await trio.to_thread.run_sync(lambda: run_agent("chat", "--attach", "sess_nope", env=env, cwd=dirs["work"]))
        assert unknown.returncode == 2 and "no live session 'sess_nope'" in unknown.stderr and "Traceback" not in unknown.stderr

    after = run_agent("sessions", "list", env=env, cwd=dirs["work"])  # the server is gone: listed, not marked
    assert sid in after.stdout and "●" not in after.stdout


async def test_a_permission_answer_from_the_terminal_wins_and_one_from_elsewhere_clears_the_question(
    dirs, server: FakeServer
) -> None:
    env = agent_env(dirs["home"], server)
    async with agent_serve(dirs, server) as serve, first_client(serve.socket, dirs["work"]) as (editor, sid):
        chat = PtyAgent(["chat", "--attach"], env=env, cwd=dirs["work"])  # the latest live session here
        try:
            await chat.expect(f"attached to session {sid}")
            await chat.expect(PROMPT)

            # 1. The terminal answers first: the editor's copy of the question is withdrawn.
            server.enqueue(bash_call("call_1", "echo ran-$((40+2))"), text_reply("done-one"))
            chat.send("run it\r")
            await chat.expect("Allow")
            await chat.expect("[a] always (adds rule bash(echo *)")
            asked = await editor.wait_for(lambda m: m.get("method") == "session/request_permission")
            chat.send("y")
            await chat.expect("allowed once")
            await chat.expect("done-one")
            await chat.expect(PROMPT)
            await editor.wait_for(lambda m: m.get("method") == "$/cancel_request" and m["params"]["requestId"] == asked["id"])
            tool_results = [m["content"] for m in server.requests[1].json()["messages"] if m["role"] == "tool"]
            assert "ran-42" in tool_results[-1]

            # 2. The editor answers first: the terminal's question disappears.
            server.enqueue(bash_call("call_2", "echo second-run"), text_reply("done-two"))
            chat.send("run it again\r")
            await chat.expect("Allow")
            second = await editor.wait_for(
                lambda m: m.get("method") == "session/request_permission" and m["params"]["toolCall"]["toolCallId"] == "call_2"
            )
            await editor.answer(second["id"], {"outcome": {"outcome": "selected", "optionId": "allow_once"}})
            await chat.expect("permission request resolved elsewhere")
            await chat.expect("done-two")
            await chat.expect(PROMPT)

            # 3. The editor's own turn asks too: the terminal answers it between its own turns.
            server.enqueue(bash_call("call_3", "echo from-the-editor"), text_reply("done-three"))
            prompt_id = await editor.start_request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]})
            await chat.expect("▸ echo from-the-editor")  # the editor's call, as it starts
            await chat.expect("Allow")  # then its question
            third = await editor.wait_for(
                lambda m: m.get("method") == "session/request_permission" and m["params"]["toolCall"]["toolCallId"] == "call_3"
            )
            chat.send("y")
            await chat.expect("allowed once")
            await editor.wait_for(lambda m: m.get("method") == "$/cancel_request" and m["params"]["requestId"] == third["id"])
            answer = await editor.wait_for(lambda m: m.get("id") == prompt_id and "method" not in m)
            assert answer["result"]["stopReason"] == "end_turn"
            await chat.expect("from-the-editor")  # the finished call, drawn above the prompt
            await chat.expect("done-three")  # and the answer's last paragraph
            # The server stops: the chat says so and ends.
            serve.proc.terminate()
            await chat.expect("agent serve closed the connection")
            assert await chat.wait_exit() == 1
        finally:
            chat.close()


async def test_a_terminal_that_owns_the_session_is_asked_before_another_client_takes_control(dirs, server: FakeServer) -> None:
    env = agent_env(dirs["home"], server)
    async with agent_serve(dirs, server) as serve:
        async with first_client(serve.socket, dirs["work"]) as (editor, sid):
            await editor.request("_agentcore/session/detach", {"sessionId": sid})  # and leaves: nobody controls it now
        chat = PtyAgent(["chat", "--attach", sid], env=env, cwd=dirs["work"])
        try:
            await chat.expect(f"attached to session {sid} in agent serve (no other client)")  # taken over without asking
            await chat.expect(PROMPT)
            assert "asking the session's owner" not in chat.text
            stream = await trio.open_unix_socket(str(serve.socket))
            other = SocketClient(stream)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(other.run)
                await other.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
                attach = await other.start_request("_agentcore/session/attach", {"sessionId": sid, "role": "controller"})
                await chat.expect("attach as controller (another client wants to control this session)")
                chat.send("y")
                await chat.expect("allowed once")
                joined = await other.wait_for(lambda m: m.get("id") == attach and "method" not in m)
                assert joined["result"]["connectedClients"] == 2 and joined["result"]["role"] == "controller"
                nursery.cancel_scope.cancel()
            await stream.aclose()
            chat.send("/exit\r")
            assert await chat.wait_exit() == 0
        finally:
            chat.close()


def test_without_a_server_attach_says_so_and_exits_2(dirs) -> None:
    env = agent_env(dirs["home"], None)
    done = run_agent("chat", "--attach", env=env, cwd=dirs["work"])
    assert done.returncode == 2
    assert done.stderr.strip() == "error: no agent serve is running; start one with `agent serve --daemon`"
    assert done.stdout == ""


def test_updates_become_the_events_the_terminal_draws() -> None:
    """A tool call of another client's turn is a line as it starts and is drawn once finished; in our own
    turn it is drawn when announced, and its output streams as new text only."""
    clock = iter([0.0, 1.5, 10.0, 10.25]).__next__
    translate = UpdateTranslator(clock=clock)
    call = {"sessionUpdate": "tool_call", "toolCallId": "c1", "name": "bash", "title": "`ls` — list", "kind": "execute",
            "status": "pending", "rawInput": {"command": "ls"}}  # fmt: skip
    assert translate.update(call) == [Notice("info", "▸ ls — list")]  # a line as it starts
    done = {"sessionUpdate": "tool_call_update", "toolCallId": "c1", "status": "completed",
            "content": [{"type": "content", "content": {"type": "text", "text": "a\nb"}}], "rawOutput": {"exit_code": 0}}  # fmt: skip
    started, finished = translate.update(done)
    assert isinstance(started, ToolCallStarted) and started.kind is ToolKind.EXECUTE and started.title == "ls — list"
    assert isinstance(finished, ToolCallFinished) and finished.result.text_content == "a\nb" and finished.duration_s == 1.5
    assert finished.result.raw_output == {"exit_code": 0}

    translate.own_turn = True
    [announced] = translate.update({**call, "toolCallId": "c2"})
    assert isinstance(announced, ToolCallStarted) and announced.call_id == "c2"
    progress = {"sessionUpdate": "tool_call_update", "toolCallId": "c2"}
    output = lambda text: {**progress, "content": [{"type": "content", "content": {"type": "text", "text": text}}]}
    assert translate.update(output("one\n")) == [ToolCallProgress("", "c2", "one\n")]
    assert translate.update(output("one\ntwo\n")) == [ToolCallProgress("", "c2", "two\n")]
    assert translate.update({"sessionUpdate": "user_message_chunk", "content": {"type": "text", "text": "hi"}}) == [
        Notice("info", "› hi")
    ]
    assert translate.update({"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "x"}}) == [
        AssistantTextDelta("", "x")
    ]

    question = translate.permission_request("r1", {
        "sessionId": "s", "toolCall": {**call, "toolCallId": "c2"},
        "options": [{"optionId": "allow_always", "kind": "allow_always", "name": "Always allow (bash(ls *): `ls` with any arguments)"}],
    })  # fmt: skip
    assert (question.subject, question.title) == ("ls", "list")
    assert (question.always_rule, question.always_admits) == ("bash(ls *)", "`ls` with any arguments")
