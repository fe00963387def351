"""Every request is answered: closing or deleting a session while a prompt runs
answers that prompt with ``cancelled`` (it used to be left hanging forever)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from acp_fakes import Pause, ScriptedProvider, acp_connection, text_reply

ANSWER_TIMEOUT_S = 10.0  # a generous bound on a wait that used to be forever


@pytest.mark.parametrize("method", ["session/close", "session/delete"])
async def test_closing_a_session_answers_its_running_prompt(
    method: str, core: Any, provider: ScriptedProvider, workspace: Path
) -> None:
    pause = Pause()
    provider.add([*text_reply("partial ")[:1], pause, *text_reply("never")])
    async with acp_connection(core, workspace) as h:
        await h.initialize()
        sid = await h.new_session()
        prompt = {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]}
        await h.peer.send({"jsonrpc": "2.0", "id": 70, "method": "session/prompt", "params": prompt})
        await pause.reached.wait()
        await h.peer.send({"jsonrpc": "2.0", "id": 71, "method": method, "params": {"sessionId": sid}})
        with trio.fail_after(ANSWER_TIMEOUT_S):
            closed = await h.peer.response_to(71)
            answered = await h.peer.response_to(70)
        assert closed["result"] == {}
        assert answered["result"] == {"stopReason": "cancelled"}
        gone = await h.peer.request("session/prompt", prompt)
        assert gone["error"]["code"] == -32002  # the session is no longer open
