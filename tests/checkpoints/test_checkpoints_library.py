"""The library API: `DefaultSession.fork_replacing` (edit and retry) on the wire
of a loopback OpenAI-style server, the fork record it leaves, `LiveRewind` on an
open session, and `AgentCoreBuilder.without_checkpoints()`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import trio

from agentcore import AgentCoreBuilder, SessionCreateInfo
from agentcore.checkpoints import LiveRewind, RewindError, RewindScope
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.permissions import PermissionMode
from agentcore.store import JournalStore
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

MODEL = "gpt-4o-mini"


def text(answer: str):
    return sse_reply(*oa_text_stream(answer))


def write(call_id: str, path: str, content: str):
    return sse_reply(*oa_tool_stream((call_id, "write_file", json.dumps({"path": path, "content": content}))))


def conversation(request) -> list[tuple[str, str]]:
    out = []
    for m in request.json()["messages"]:
        if m["role"] in ("user", "assistant") and isinstance(m.get("content"), str | list):
            c = m["content"]
            out.append((m["role"], c if isinstance(c, str) else "".join(p.get("text", "") for p in c)))
    return out


def build(server: FakeServer, client: httpx.AsyncClient, tmp_path: Path, *, checkpoints: bool = True):
    provider = OpenAiChatProvider(name="openai", base_url=f"{server.url}/v1", api_key="sk-lib-test-0123456789",
                                  api_key_env="OPENAI_API_KEY", http_client=client)  # fmt: skip
    store = JournalStore(tmp_path / "sessions")
    builder = AgentCoreBuilder().with_provider(provider, MODEL).with_session_store(store).with_state_dir(tmp_path / "state")
    if not checkpoints:
        builder = builder.without_checkpoints()
    return builder.build(), store


async def test_fork_replacing_sends_the_new_prompt_and_nothing_after(tmp_path, server: FakeServer, http_client) -> None:
    work = tmp_path / "work"
    work.mkdir()
    core, store = build(server, http_client, tmp_path)
    server.enqueue(text("answer one"), write("w1", "a.txt", "two\n"), text("wrote"), text("answer three"), text("edited answer"))
    async with core.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        for prompt in ("one", "two", "three"):
            await session.run_turn(prompt)
        old_prompt_id = session.history[2].id  # "two"
        with pytest.raises(RewindError, match="no turn 4"):
            session.fork_replacing(4, "nope")
        fork = session.fork_replacing(2, "two, edited")
        assert fork.replaced.number == 2 and fork.prompt.text == "two, edited"
        rewinder = LiveRewind(core, session)
        assert [(r.number, r.files) for r in rewinder.turns()] == [(1, ()), (2, ("a.txt",)), (3, ())]
    async with core.open_session(SessionCreateInfo(cwd=work, session_id=fork.session_id, mode=PermissionMode.YOLO)) as forked:
        await forked.run_turn(fork.prompt)
    assert conversation(server.requests[-1]) == [("user", "one"), ("assistant", "answer one"), ("user", "two, edited")]
    records = [json.loads(line) for line in (store.session_dir(fork.session_id) / "journal.jsonl").read_text().splitlines()]
    fork_record = next(r for r in records if r["type"] == "fork")
    assert fork_record["reason"] == "edit" and fork_record["replaced"] == old_prompt_id and fork_record["at"] == 2
    assert {row.id for row in store.list_sessions()} >= {session.id, fork.session_id}


async def test_live_rewind_restores_code_and_forks_and_without_checkpoints_stores_nothing(
    tmp_path, server: FakeServer, http_client
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.txt").write_text("before\n")
    core, store = build(server, http_client, tmp_path)
    server.enqueue(write("w1", "a.txt", "after\n"), text("done"))
    async with core.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        await session.run_turn("change a")
        result = await LiveRewind(core, session).rewind(1, RewindScope.BOTH)
        assert result.report is not None and result.report.restored == ("a.txt",)
        assert (work / "a.txt").read_text() == "before\n"
        assert result.session_id is not None and len(session.history) == 4  # the original is unchanged
    assert store.open_read_only(result.session_id).snapshot.messages == ()

    plain, _ = build(server, http_client, tmp_path / "plain")
    server.enqueue(write("w2", "a.txt", "again\n"), text("done"))
    async with plain.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        await session.run_turn("change a")
    assert (tmp_path / "plain" / "sessions").is_dir() and list((tmp_path / "plain").rglob("checkpoints.jsonl"))
    quiet, _ = build(server, http_client, tmp_path / "quiet", checkpoints=False)
    server.enqueue(write("w3", "a.txt", "third\n"), text("done"))
    async with quiet.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        await session.run_turn("change a")
    assert (work / "a.txt").read_text() == "third\n" and not list((tmp_path / "quiet").rglob("checkpoints*"))


async def test_the_first_prompt_warms_the_store_while_the_model_thinks(tmp_path, server: FakeServer, http_client) -> None:
    """A text-only first turn still leaves every workspace file in the private store
    (the warm-up scan), so the first call that changes files pays only a warm scan."""
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    for n in range(20):
        (work / "pkg" / f"m{n}.py").write_text(f"x = {n}\n")
    core, _ = build(server, http_client, tmp_path)
    server.enqueue(text("just an answer"))
    async with core.open_session(SessionCreateInfo(cwd=work, mode=PermissionMode.YOLO)) as session:
        await session.run_turn("hello")
        checkpointer = session.checkpoints
        await checkpointer.warmed()
        assert checkpointer.problem is None
        tree = checkpointer.store.snapshot_paths([])  # the index as the warm-up left it
        stored = checkpointer.store._run(["ls-tree", "-r", "--name-only", tree.tree]).decode().split()
    assert sorted(stored) == sorted(f"pkg/m{n}.py" for n in range(20))


async def test_the_warm_up_leaves_a_big_folder_to_the_first_call_that_changes_files(tmp_path: Path) -> None:
    """More files than the warm-up's limit: nothing is hashed in the background, no
    problem is reported, and a later call's scan (with the normal limit) still works."""
    from agentcore.checkpoints.policy import TurnCheckpointer
    from agentcore.events import PromptCommitted
    from agentcore.messages import TextBlock, UserMessage

    work = tmp_path / "work"
    work.mkdir()
    for n in range(12):
        (work / f"f{n}.txt").write_text(f"{n}\n")
    async with trio.open_nursery() as nursery:
        checkpointer = TurnCheckpointer(tmp_path / "cp", work, start_soon=nursery.start_soon, warm_max_new=10)
        checkpointer.observe(PromptCommitted("turn_1", UserMessage((TextBlock("hi"),))))
        await checkpointer.warmed()
        assert checkpointer.problem is None
        assert not (tmp_path / "cp" / "index").exists()  # nothing hashed
        snap = await trio.to_thread.run_sync(checkpointer.store.snapshot_workspace)  # the call's scan
        listed = checkpointer.store._run(["ls-tree", "--name-only", snap.tree]).decode().split()
        assert len(listed) == 12
        await checkpointer.aclose()
