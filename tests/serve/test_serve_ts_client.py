"""agent serve with the official TypeScript ACP SDK over WebSocket (its
experimental ws-client on Node's built-in WebSocket): the token travels as the
browser-style subprotocol, and every agent frame is checked against the schema."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import trio
from serve_support import TESTS, check_transcript, llm_server, provider_args, running_server, serve_env, text_reply

CLIENT = TESTS / "interop" / "acp_ws_client.mjs"
SDK = TESTS / "interop" / "node_modules" / "@agentclientprotocol" / "sdk"
CLIENT_TIMEOUT_S = 60.0

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not SDK.is_dir(),
    reason="node or the TypeScript ACP SDK (npm ci in tests/interop) is missing",
)


async def test_the_typescript_sdk_streams_a_reply_over_websocket(serve_dirs: dict[str, Path]) -> None:
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(text_reply("Hello", " from", " TypeScript"))
        env = serve_env(serve_dirs["home"], llm.url)
        async with running_server(serve_dirs["home"], *provider_args(llm.url), env=env, cwd=serve_dirs["work"]) as server:
            config = {"url": server.url, "token": server.token, "cwd": str(serve_dirs["work"]), "prompt": "say hello",
                      "transcript": str(serve_dirs["transcript"])}  # fmt: skip
            with trio.fail_after(CLIENT_TIMEOUT_S):
                done = await trio.run_process(
                    ["node", "--experimental-websocket", str(CLIENT), json.dumps(config)],
                    cwd=CLIENT.parent, capture_stdout=True, capture_stderr=True, check=False,
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                )
    events = [json.loads(line) for line in done.stdout.decode().splitlines() if line.startswith("{")]
    assert events and events[-1] == {"done": True}, (events, done.stderr.decode()[-2000:])
    init = next(e for e in events if e.get("step") == "initialize")
    assert init["loadSession"] is True and init["attach"]["attach"] == "_agentcore/session/attach"
    prompt = next(e for e in events if e.get("step") == "prompt")
    assert (prompt["stopReason"], prompt["text"]) == ("end_turn", "Hello from TypeScript")
    assert check_transcript(serve_dirs["transcript"]) >= 4
