"""`/diff`, `/rewind` and `/edit` in `agent chat` on a pseudo-terminal with a
loopback model: /diff shows the session's changes as unified diffs; /rewind
lists the turns with the files each changed and `/rewind N code` puts the files
back (a shell-created file deleted, an edited one restored byte for byte);
`/edit 1` puts the old prompt in the input line, and the edited text continues
in a fork: the model gets the new prompt and nothing of the old exchange."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import agent_env, trust
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_tool_args, oa_tool_start, oa_usage
from pty_driver import PtyAgent

PROMPT = "› "


def text_reply(text: str):
    return sse_reply(OA_ROLE, oa_chunk({"content": text}), oa_chunk({}, finish="stop"), oa_usage(100, 5), OA_DONE)


def tool_reply(call_id: str, name: str, args: dict):
    return sse_reply(oa_chunk({"role": "assistant", "content": None}), oa_tool_start(0, call_id, name),
                     oa_tool_args(0, json.dumps(args)), oa_chunk({}, finish="tool_calls"), oa_usage(150, 3), OA_DONE)  # fmt: skip


def user_texts(request) -> list[str]:
    out = []
    for m in request.json()["messages"]:
        if m["role"] == "user":
            c = m["content"]
            out.append(c if isinstance(c, str) else "".join(p.get("text", "") for p in c))
    return out


async def test_diff_rewind_and_edit_in_chat(tmp_path: Path, server: FakeServer) -> None:
    home = tmp_path / "home"
    work = tmp_path / "project"
    work.mkdir()
    trust(home, work)
    (work / "keep.txt").write_bytes(b"kept bytes\n\x00\xff")
    env = agent_env(tmp_path, server, "sk-test-rewind-0123456789", terminal=True) | {"AGENTCORE_MODEL": "gpt-4o-mini"}
    agent = PtyAgent(["chat", "--mode", "yolo", "--no-color"], env=env, cwd=work, cols=200)
    try:
        await agent.expect(PROMPT)
        server.enqueue(tool_reply("c1", "bash", {"command": "printf 'made in turn one\\n' > made.txt"}), text_reply("made it"))
        agent.send("make a file\r")
        await agent.expect("made it")
        await agent.expect(PROMPT)
        server.enqueue(tool_reply("c2", "write_file", {"path": "keep.txt", "content": "overwritten\n"}), text_reply("wrote it"))
        agent.send("overwrite keep\r")
        await agent.expect("wrote it")
        await agent.expect(PROMPT)

        agent.send("/diff\r")
        await agent.expect("added made.txt")
        await agent.expect("+made in turn one")
        await agent.expect("modified keep.txt")  # bytes that are not text: named, not diffed
        await agent.expect(PROMPT)

        agent.send("/rewind\r")
        await agent.expect("1  make a file  [made.txt]")
        await agent.expect("2  overwrite keep  [keep.txt]")
        await agent.expect(PROMPT)
        agent.send("/rewind 2 code\r")
        await agent.expect("restored keep.txt")
        await agent.expect(PROMPT)
        assert (work / "keep.txt").read_bytes() == b"kept bytes\n\x00\xff"
        assert (work / "made.txt").exists()  # turn 1 is before the rewind point
        agent.send("/rewind 1 code\r")
        await agent.expect("deleted  made.txt")
        await agent.expect(PROMPT)
        assert not (work / "made.txt").exists()

        server.enqueue(text_reply("answer to the edited prompt"))
        agent.send("/edit 1\r")
        await agent.expect("edit› make a file")
        agent.send(", but smaller\r")
        await agent.expect("answer to the edited prompt")
        await agent.expect(PROMPT)
        assert user_texts(server.requests[-1]) == ["make a file, but smaller"]
        assert "made it" not in json.dumps(server.requests[-1].json())

        agent.send("/rewind 9\r")
        await agent.expect("/rewind: there is no turn 9")
        agent.send("/exit\r")
        assert await agent.wait_exit() == 0
    finally:
        agent.close()
    assert "Traceback" not in agent.text
