"""The ACP extension methods on a real `agent acp` process (in-process agent, no
bridge) and a loopback model: `_agentcore/session/checkpoints` lists the turns
and the files each changed; `_agentcore/session/edit` forks before a prompt and
the fork, loaded and prompted with the edited text, sends the model the new
message and nothing of the old one; `_agentcore/session/rewind` restores the
files and returns the fork holding the conversation; bad input is -32602."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio

from checkpoint_support import AGENT, WAIT_S, agent_env, text_reply, tool_reply, trust
from fakes.llm_server import FakeServer


class AcpProcess:
    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.buffer = bytearray()
        self.ids = 0

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.ids += 1
        rid = self.ids
        line = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}) + "\n"
        assert self.process.stdin is not None and self.process.stdout is not None
        await self.process.stdin.send_all(line.encode())
        with trio.fail_after(WAIT_S):
            while True:
                newline = self.buffer.find(b"\n")
                if newline < 0:
                    chunk = await self.process.stdout.receive_some(1 << 16)
                    assert chunk, "agent acp closed its output"
                    self.buffer += chunk
                    continue
                message = json.loads(bytes(self.buffer[:newline]))
                del self.buffer[: newline + 1]
                if message.get("id") == rid and "method" not in message:
                    return message


def user_texts(request) -> list[str]:
    out = []
    for m in request.json()["messages"]:
        if m["role"] == "user":
            content = m["content"]
            out.append(content if isinstance(content, str) else "".join(p.get("text", "") for p in content))
    return out


async def test_checkpoints_edit_and_rewind_over_acp(tmp_path: Path, server: FakeServer) -> None:
    work = tmp_path / "work"
    work.mkdir()
    trust(tmp_path, work)
    (work / "a.txt").write_bytes(b"original\n")
    env = agent_env(tmp_path, server)
    server.enqueue(
        tool_reply("c1", "write_file", {"path": "a.txt", "content": "changed by turn one\n"}),
        text_reply("wrote it"),
        text_reply("answer to the second prompt"),
        text_reply("answer to the edited prompt"),
    )
    async with trio.open_nursery() as nursery:
        process = await nursery.start(
            lambda task_status: trio.run_process(
                [str(AGENT), "acp", "--no-bridge"], cwd=work, env=env, stdin=-1,
                stdout=-1, stderr=-3, check=False, task_status=task_status,
            )
        )
        acp = AcpProcess(process)
        try:
            assert "result" in await acp.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
            sid = (await acp.request("session/new", {"cwd": str(work), "mcpServers": []}))["result"]["sessionId"]
            assert "result" in await acp.request("session/set_mode", {"sessionId": sid, "modeId": "yolo"})
            for text in ("first prompt", "second prompt"):
                reply = await acp.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": text}]})
                assert reply["result"]["stopReason"] == "end_turn"
            assert (work / "a.txt").read_bytes() == b"changed by turn one\n"

            listed = (await acp.request("_agentcore/session/checkpoints", {"sessionId": sid}))["result"]["turns"]
            assert [(t["turn"], t["prompt"], t["files"]) for t in listed] == [
                (1, "first prompt", ["a.txt"]), (2, "second prompt", []),
            ]

            edited = (await acp.request("_agentcore/session/edit", {"sessionId": sid, "turn": 2, "text": "second, edited"}))["result"]
            fork = edited["sessionId"]
            assert fork != sid and edited["prompt"] == "second, edited"
            assert "result" in await acp.request("session/load", {"sessionId": fork, "cwd": str(work), "mcpServers": []})
            reply = await acp.request("session/prompt", {"sessionId": fork, "prompt": [{"type": "text", "text": edited["prompt"]}]})
            assert reply["result"]["stopReason"] == "end_turn"
            sent = user_texts(server.requests[-1])
            assert sent[0] == "first prompt" and sent[-1] == "second, edited"
            assert "second prompt" not in sent and "answer to the second prompt" not in json.dumps(server.requests[-1].json())

            bad = await acp.request("_agentcore/session/rewind", {"sessionId": sid, "turn": 0})
            assert bad["error"]["code"] == -32602 and bad["error"]["data"]["path"] == "turn"
            missing = await acp.request("_agentcore/session/rewind", {"sessionId": sid, "turn": 9})
            assert missing["error"]["code"] == -32602 and "no turn 9" in missing["error"]["message"]

            done = (await acp.request("_agentcore/session/rewind", {"sessionId": sid, "turn": 1}))["result"]
            assert done["restored"] == ["a.txt"] and done["kept"] == [] and done["sessionId"] not in (None, sid, fork)
            assert (work / "a.txt").read_bytes() == b"original\n"
        finally:
            assert process.stdin is not None
            await process.stdin.aclose()
            with trio.fail_after(WAIT_S):
                await process.wait()
