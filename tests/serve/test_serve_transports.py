"""agent serve end to end: the official Python ACP SDK over WebSocket and
Streamable HTTP, newline-delimited ACP over the Unix socket, /health; every
agent message checked against the official schema."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio
from serve_support import (
    INITIALIZE_PARAMS,
    LineClient,
    check_transcript,
    client_config,
    llm_server,
    provider_args,
    run_sdk_client,
    running_server,
    serve_env,
    step,
    text_reply,
    tool_reply,
)


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_a_streamed_reply_reaches_the_sdk_client(transport: str, serve_dirs: dict[str, Path]) -> None:
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(text_reply("Hello", " from", " the", " server"))
        env = serve_env(serve_dirs["home"], llm.url)
        async with running_server(serve_dirs["home"], *provider_args(llm.url), env=env, cwd=serve_dirs["work"]) as server:
            config = client_config(server, transport=transport, scenario="prompt", cwd=serve_dirs["work"],
                                   transcript=serve_dirs["transcript"], prompt="say hello")  # fmt: skip
            events = await run_sdk_client(config, cwd=serve_dirs["work"])
    assert step(events, "initialize")["loadSession"] is True
    prompt = step(events, "prompt")
    assert prompt["stopReason"] == "end_turn"
    assert prompt["text"] == "Hello from the server"
    chunks = [u for u in prompt["updates"] if u.get("sessionUpdate") == "agent_message_chunk"]
    assert chunks, "the reply arrived as session/update chunks"
    assert "say hello" in llm.requests[0].body.decode()
    assert check_transcript(serve_dirs["transcript"]) >= 4  # initialize, session/new, updates, prompt answer


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_a_permission_request_reaches_the_client_and_its_answer_the_agent(transport: str,
                                                                             serve_dirs: dict[str, Path]) -> None:  # fmt: skip
    """Over HTTP the agent's request travels on the session's SSE stream and the
    client's answer comes back as a POST (202)."""
    async with llm_server.open_fake_server() as llm:
        llm.enqueue(tool_reply("call_1", "write_file", {"path": "f.txt", "content": "written over " + transport}),
                    text_reply("done"))  # fmt: skip
        env = serve_env(serve_dirs["home"], llm.url)
        async with running_server(serve_dirs["home"], *provider_args(llm.url), env=env, cwd=serve_dirs["work"]) as server:
            config = client_config(server, transport=transport, scenario="prompt", cwd=serve_dirs["work"],
                                   transcript=serve_dirs["transcript"], prompt="write it")  # fmt: skip
            events = await run_sdk_client(config, cwd=serve_dirs["work"])
    prompt = step(events, "prompt")
    assert prompt["permissionRequests"] == ["call_1"]
    assert prompt["stopReason"] == "end_turn" and prompt["text"] == "done"
    assert (serve_dirs["work"] / "f.txt").read_text() == "written over " + transport
    check_transcript(serve_dirs["transcript"])


async def test_unix_socket_prompt_round_trip(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        assert server.socket is not None
        stream = await trio.open_unix_socket(str(server.socket))
        client = LineClient(stream)
        with trio.fail_after(30):
            init = await client.call("initialize", INITIALIZE_PARAMS)
            assert init["result"]["protocolVersion"] == 1
            new = await client.call("session/new", {"cwd": str(serve_dirs["work"]), "mcpServers": []})
            session_id = new["result"]["sessionId"]
            seen: list[dict] = []
            answer = await client.call(
                "session/prompt", {"sessionId": session_id, "prompt": [{"type": "text", "text": "ping over unix"}]}, seen
            )
        assert answer["result"]["stopReason"] == "end_turn"
        text = "".join(
            m["params"]["update"]["content"]["text"]
            for m in seen
            if m.get("method") == "session/update" and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"
        )
        assert "ping over unix" in text  # the echo model repeats the prompt
        assert client.checker.checked >= 4
        await stream.aclose()


async def test_health_counts_sessions_and_connections_and_needs_no_token(serve_dirs: dict[str, Path]) -> None:
    env = serve_env(serve_dirs["home"])
    async with running_server(serve_dirs["home"], "--provider", "echo", env=env, cwd=serve_dirs["work"]) as server:
        async with httpx.AsyncClient() as http:
            before = (await http.get(f"{server.base}/health")).json()
            assert before == {"status": "ok", "version": before["version"], "sessions": 0, "connections": 0}
            stream = await trio.open_unix_socket(str(server.socket))
            client = LineClient(stream)
            await client.call("initialize", INITIALIZE_PARAMS)
            new = await client.call("session/new", {"cwd": str(serve_dirs["work"]), "mcpServers": []})
            during = (await http.get(f"{server.base}/health")).json()
            assert (during["sessions"], during["connections"]) == (1, 1)
            assert new["result"]["sessionId"] not in str(during)
            await stream.aclose()
            # The session outlives its connection: it stays live in the server.
            with trio.fail_after(10):
                while (after := (await http.get(f"{server.base}/health")).json())["connections"] != 0:
                    await trio.sleep(0.01)
            assert after["sessions"] == 1
