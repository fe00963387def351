"""session/new errors are mapped by type: a missing key or no provider is
auth_required (-32000) with the variables to set; any other known condition is
-32602 naming its type; nothing known becomes "Internal error"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acp_fakes import acp_connection
from agentcore import AgentCoreBuilder, SessionPolicy
from agentcore.errors import ConfigError
from agentcore.llm.registry import MissingKeyError, NoProviderError, ProviderSelectionError


def _core_failing_with(error: Exception, state_dir: Path) -> Any:
    async def resolver(provider: str | None, model: str | None) -> Any:
        raise error

    return (
        AgentCoreBuilder().with_env({}).with_provider_resolver(resolver).with_policy(SessionPolicy())
        .with_state_dir(state_dir).build()
    )


@pytest.mark.parametrize("error", [
    MissingKeyError("provider 'openai' needs OPENAI_API_KEY set in the environment", env_var="OPENAI_API_KEY"),
    NoProviderError("no provider is configured"),
])
async def test_a_missing_key_or_no_provider_is_auth_required(error: Exception, tmp_path: Path, workspace: Path) -> None:
    async with acp_connection(_core_failing_with(error, tmp_path / "state"), workspace) as acp:
        await acp.initialize()
        reply = await acp.peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
    assert reply["error"]["code"] == -32000
    assert "OPENAI_API_KEY" in reply["error"]["data"]["envVars"]


@pytest.mark.parametrize(("error", "kind"), [
    (ConfigError("not a model", source="config.toml", key="model"), "ConfigError"),
    (ProviderSelectionError("provider 'x' needs nothing but is unknown"), "ProviderSelectionError"),  # 'needs' in text
])
async def test_other_known_conditions_are_invalid_params_naming_their_type(
    error: Exception, kind: str, tmp_path: Path, workspace: Path
) -> None:
    async with acp_connection(_core_failing_with(error, tmp_path / "state"), workspace) as acp:
        await acp.initialize()
        reply = await acp.peer.request("session/new", {"cwd": str(workspace), "mcpServers": []})
    assert reply["error"]["code"] == -32602
    assert reply["error"]["data"]["type"] == kind
    assert str(error) in reply["error"]["message"]


def _journal_core(provider: Any, tmp_path: Path) -> Any:
    from agentcore.store import JournalStore

    return (
        AgentCoreBuilder().with_env({}).with_provider(provider, "scripted-1").with_policy(SessionPolicy())
        .with_session_store(JournalStore(tmp_path / "sessions")).with_state_dir(tmp_path / "state").build()
    )


async def _recorded_and_closed(acp: Any) -> str:
    """A session with one turn, recorded on disk and no longer open."""
    await acp.initialize()
    sid = await acp.new_session()
    await acp.prompt(sid, "hello")
    await acp.peer.request("session/close", {"sessionId": sid})
    return sid


async def test_deleting_a_session_another_process_holds_names_the_holder(provider, tmp_path: Path, workspace: Path) -> None:
    from acp_fakes import text_reply
    from agentcore.store.files import SessionLock

    provider.add(text_reply("hi"))
    core = _journal_core(provider, tmp_path)
    async with acp_connection(core, workspace) as acp:
        sid = await _recorded_and_closed(acp)
        held = SessionLock.acquire(tmp_path / "sessions" / sid / "lock", sid)  # another writer holds it
        try:
            reply = await acp.peer.request("session/delete", {"sessionId": sid})
        finally:
            held.release()
    error = reply["error"]
    assert error["message"] != "Internal error" and "already open for writing (by process" in error["message"]
    assert error["data"] == {"type": "SessionLocked", "sessionId": sid}


async def test_loading_a_corrupt_journal_names_the_file_and_line(provider, tmp_path: Path, workspace: Path) -> None:
    from acp_fakes import text_reply

    provider.add(text_reply("hi"))
    core = _journal_core(provider, tmp_path)
    async with acp_connection(core, workspace) as acp:
        sid = await _recorded_and_closed(acp)
        journal = tmp_path / "sessions" / sid / "journal.jsonl"
        lines = journal.read_text().splitlines(keepends=True)
        journal.write_text("".join([*lines[:2], "{not json\n", *lines[2:]]))
        reply = await acp.peer.request("session/load", {"sessionId": sid, "cwd": str(workspace), "mcpServers": []})
    error = reply["error"]
    assert error["data"]["type"] == "JournalCorrupt"
    assert error["data"]["path"] == str(journal) and error["data"]["line"] == 3
    assert f"{journal}:3" in error["message"]


@pytest.mark.parametrize(("block", "path"), [
    ({"type": "image", "mimeType": "image/png", "data": "not base64!"}, "prompt[0].data"),
    ({"type": "image", "mimeType": "image/svg+xml", "data": "PHN2Zz4="}, "prompt[0].data"),
    ({"type": "resource", "resource": {"uri": "file:///x.png", "mimeType": "image/png", "blob": "%%%"}},
     "prompt[0].resource.blob"),
])
async def test_an_invalid_image_in_a_prompt_is_refused_before_it_enters_history(
    block: dict, path: str, provider, tmp_path: Path, workspace: Path
) -> None:
    from acp_fakes import make_core, text_reply

    provider.add(text_reply("fine"))
    async with acp_connection(make_core(provider, tmp_path / "state"), workspace) as acp:
        await acp.initialize()
        sid = await acp.new_session()
        refused = await acp.peer.request("session/prompt", {"sessionId": sid, "prompt": [block]})
        assert refused["error"]["code"] == -32602 and refused["error"]["data"]["path"] == path
        reply, _ = await acp.prompt(sid, "and now text")  # the session was not wedged
    assert reply["result"]["stopReason"] == "end_turn"
    assert len(provider.requests) == 1  # the bad image never reached the provider


async def test_a_prompt_larger_than_the_context_window_is_refused_up_front(provider, tmp_path: Path, workspace: Path) -> None:
    """Never sent whole, never stored, never re-sent in a summary request."""
    from acp_fakes import make_core, text_reply

    provider.add(text_reply("fine"))
    huge = "word " * 250_000  # ~250k tokens against the scripted model's 200k window
    async with acp_connection(make_core(provider, tmp_path / "state"), workspace) as acp:
        await acp.initialize()
        sid = await acp.new_session()
        refused = await acp.peer.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": huge}]})
        assert refused["error"]["code"] == -32602 and refused["error"]["data"]["type"] == "PromptTooLarge"
        assert "read the parts it needs" in refused["error"]["message"]
        reply, _ = await acp.prompt(sid, "a normal question")
    assert reply["result"]["stopReason"] == "end_turn"
    assert len(provider.requests) == 1 and huge not in str(provider.requests[0])


async def test_a_long_prompt_is_tokenized_off_the_event_loop(provider: Any, tmp_path: Path, workspace: Path, monkeypatch) -> None:
    """Counting a multi-megabyte prompt takes a second of CPU; on the event loop
    it would stall every other session of a server. It runs in a worker thread
    (tiktoken releases the GIL); short messages are counted in place."""
    import threading

    from acp_fakes import make_core, text_reply
    from agentcore import tokens

    counted_on: dict[int, str] = {}
    real = tokens.count_message

    def spy(message):
        counted_on[len(message.text)] = threading.current_thread().name
        return real(message)

    monkeypatch.setattr(tokens, "count_message", spy)
    long_text = "a long pasted log line\n" * 20_000  # 460,000 characters: over the window check, under the window
    provider.add(text_reply("read it"), text_reply("short one"))
    async with acp_connection(make_core(provider, tmp_path / "state"), workspace) as acp:
        await acp.initialize()
        sid = await acp.new_session()
        for text in (long_text, "a short question"):
            reply = await acp.peer.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": text}]})
            assert reply["result"]["stopReason"] == "end_turn"
    assert counted_on[len(long_text)] != threading.main_thread().name
    assert counted_on[len("a short question")] == threading.main_thread().name
