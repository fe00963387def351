"""``agent chat --attach`` while another client's turn runs, on a
pseudo-terminal against a real ``agent serve``: the terminal says a turn was
started by another client (naming it), shows each of that turn's tool calls
as it starts (not only when it finishes), and says how the turn ended.

The translation itself (turn updates and others' tool calls -> the events the
renderer draws) is checked directly at the end."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agentcore.cli.update_events import UpdateTranslator
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import (
    OA_DONE,
    OA_ROLE,
    oa_chunk,
    oa_tool_args,
    oa_tool_start,
    oa_usage,
)
from pty_driver import PtyAgent
from test_cli_attach import PROMPT, agent_env, agent_serve, first_client, text_reply

from agentcore.events import Notice


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


def read_call(call_id: str, path: str) -> Any:
    args = json.dumps({"path": path})
    return sse_reply(
        oa_chunk({"role": "assistant", "content": None}), oa_tool_start(0, call_id, "read_file"), oa_tool_args(0, args),
        oa_chunk({}, finish="tool_calls"), oa_usage(1000, 30), OA_DONE,
    )  # fmt: skip


async def test_the_terminal_follows_another_clients_turn_as_it_runs(dirs, server: FakeServer) -> None:
    env = agent_env(dirs["home"], server)
    (dirs["work"] / "notes.txt").write_text("remember the milk\n")
    async with agent_serve(dirs, server) as serve, first_client(serve.socket, dirs["work"]) as (editor, sid):
        chat = PtyAgent(["chat", "--attach", sid], env=env, cwd=dirs["work"])
        try:
            await chat.expect(f"attached to session {sid}")
            await chat.expect(PROMPT)

            # The held reply keeps the editor's turn running after the tool call started.
            server.enqueue(read_call("call_1", "notes.txt"), sse_reply(OA_ROLE, oa_chunk({"content": "Read it."}), end="hang"))
            prompt_id = await editor.start_request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": "read"}]})
            await chat.expect("turn started by another client (client-1)")
            await chat.expect("▸ Read notes.txt")  # the call, as it starts
            await editor.wait_for(lambda m: "Read it." in json.dumps(m))
            assert "ended:" not in chat.text  # the turn is still running
            await editor.send({"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": sid}})
            answer = await editor.wait_for(lambda m: m.get("id") == prompt_id and "method" not in m)
            assert answer["result"]["stopReason"] == "cancelled"
            await chat.expect("turn by another client (client-1) ended: cancelled")
            await chat.expect(PROMPT)

            # A turn of its own is drawn as before, without those lines.
            server.enqueue(text_reply("Mine."))
            chat.send("mine\r")
            await chat.expect("Mine.")
            await chat.expect(PROMPT)
            assert chat.text.count("turn started by") == 1
            chat.send(b"\x04")
            assert await chat.wait_exit() == 0
        finally:
            chat.close()


def test_turn_updates_and_others_tool_calls_become_lines() -> None:
    translate = UpdateTranslator(clock=iter([0.0, 2.0]).__next__)

    def turn(**fields: Any) -> dict[str, Any]:
        return {"sessionUpdate": "session_info_update", "_meta": {"agentcore": {"turn": {"turnId": "t1", **fields}}}}

    assert translate.update(turn(state="running", startedBy="client-3", thisClient=False)) == [
        Notice("info", "turn started by another client (client-3)")
    ]
    assert translate.others_turn == "another client (client-3)"
    call = {"sessionUpdate": "tool_call", "toolCallId": "c1", "title": "`ls` — list", "kind": "execute", "status": "pending"}
    assert translate.update(call) == [Notice("info", "▸ ls — list")]  # as it starts; drawn whole at the end
    usage = {"totalTokens": 1234, "inputTokens": 1200, "outputTokens": 34}
    ended = turn(state="ended", startedBy="client-3", thisClient=False, stopReason="end_turn", usage=usage)
    assert translate.update(ended) == [Notice("info", "turn by another client (client-3) ended: end turn · 1,234 tokens")]
    assert translate.settles_remote_output([]) is True and translate.settles_remote_output([]) is False
    assert translate.others_turn is None

    # This terminal's own turns, and turns the agent starts itself.
    assert translate.update(turn(state="running", startedBy="client-2", thisClient=True)) == []
    assert translate.update(turn(state="running", startedBy=None, thisClient=False)) == [Notice("info", "turn started by the agent")]
    assert translate.update(turn(state="ended", startedBy=None, thisClient=False, error="boom")) == [
        Notice("info", "turn by the agent ended: failed")
    ]
    # A title update without turn metadata is what it was.
    assert translate.update({"sessionUpdate": "session_info_update", "title": "T"})[0].title == "T"
