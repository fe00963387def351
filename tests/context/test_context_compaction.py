"""Context management through the real wire: a loopback OpenAI-format server
reports the prompt tokens that drive the thresholds."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

from agentcore import FunctionTool
from agentcore.session.compaction import ThresholdError, Thresholds, choose_cut, tail_budget
from agentcore.events import CompactionStarted, ContextCompressed, Notice
from agentcore.messages import MessageKind, ToolResultMessage, user_text
from fakes.llm_server import json_reply, sse_reply
from fakes.vendor_wire import oa_text_stream, oa_tool_stream

from context_loop import WINDOW, request_text

INSTRUCTION = "Always answer in French and never touch the vendor/ directory."


def _events(session) -> list:
    seen: list = []
    session.events.add_observer(seen.append)
    return seen


def _big_tool():
    async def dump(args: Any, ctx: Any) -> str:
        return "\n".join(f"row {i}: some fairly long line of output text" for i in range(400))

    return FunctionTool("dump", "dump rows", {"type": "object", "properties": {}}, fn=dump)


def test_thresholds_validate_and_may_be_raised():
    Thresholds(0.8, 0.9, 0.95)
    Thresholds(0.5, 0.5, 0.6)
    with pytest.raises(ThresholdError, match="micro <= soft < hard"):
        Thresholds(0.7, 0.6, 0.9)
    with pytest.raises(ThresholdError):
        Thresholds(0.6, 0.9, 0.9)


def test_tail_budget_is_clamped():
    assert tail_budget(8_000) == 2_000
    assert tail_budget(100_000) == 10_000
    assert tail_budget(1_000_000) == 16_000


async def test_thresholds_fire_in_order(loop_llm):
    async with loop_llm(tools=[_big_tool()]) as loop:
        s = loop.server
        s.enqueue(
            sse_reply(*oa_tool_stream(("c1", "dump", "{}"), prompt=1_000)),
            sse_reply(*oa_text_stream("dumped", prompt=3_000)),
            sse_reply(*oa_text_stream("two", prompt=4_000)),
            sse_reply(*oa_text_stream("three", prompt=5_000)),
            sse_reply(*oa_text_stream("four", prompt=12_500)),  # above micro after this call
            sse_reply(*oa_text_stream("five", prompt=14_500)),  # above soft after this call
            sse_reply(*oa_text_stream("six", prompt=600)),
        )
        async with loop.core.open_session(loop.info) as session:
            seen = _events(session)
            for prompt in ("one", "two", "three", "four", "five"):
                await session.run_turn(prompt)
            assert [e.strategy for e in seen if isinstance(e, ContextCompressed)] == ["micro"]
            elided = session.history[2]
            assert isinstance(elided, ToolResultMessage) and "elided to save context" in elided.text
            await session.run_turn("six")
            with trio.fail_after(5):
                while not any(isinstance(e, ContextCompressed) and e.strategy == "summary" for e in seen):
                    await trio.sleep(0.001)
        kinds = [(type(e).__name__, getattr(e, "strategy", getattr(e, "reason", ""))) for e in seen
                 if isinstance(e, ContextCompressed | CompactionStarted)]
        assert kinds == [("ContextCompressed", "micro"), ("CompactionStarted", "soft"), ("ContextCompressed", "summary")]
        assert session.history[0].kind is MessageKind.SUMMARY


async def test_hard_threshold_compacts_before_the_call(loop_llm):
    async with loop_llm() as loop:
        loop.server.enqueue(
            sse_reply(*oa_text_stream("ok", prompt=1_000)),
            sse_reply(*oa_text_stream("ok", prompt=18_000)),
            sse_reply(*oa_text_stream("after", prompt=900)),
        )
        async with loop.core.open_session(loop.info) as session:
            await session.run_turn("first")
            await session.run_turn("second")
            await session.run_turn("third")
        order = ["summary" if "You compress" in request_text(r) else "chat" for r in loop.server.requests]
        assert order == ["chat", "chat", "summary", "chat"]
        last = loop.chat_requests()[-1].json()["messages"]
        assert "Summary of the earlier conversation" in json.dumps(last)
        assert last[-1]["content"] == "third"


async def test_background_compaction_loses_nothing_appended_meanwhile(loop_llm):
    release = trio.Event()
    reached = trio.Event()

    async def hold() -> None:
        reached.set()
        await release.wait()

    async def probe(args: Any, ctx: Any) -> str:
        return f"probe {args.get('n')}"

    tool = FunctionTool("probe", "probe", {"type": "object", "properties": {"n": {"type": "integer"}}}, fn=probe)
    async with loop_llm(tools=[tool]) as loop:
        loop.summaries.append(sse_reply(hold, *oa_text_stream("## Goal\nthe summary", prompt=300)))
        loop.server.enqueue(
            sse_reply(*oa_text_stream("a", prompt=1_000)),
            sse_reply(*oa_text_stream("b", prompt=15_000)),  # soft: next call starts a background job
            sse_reply(*oa_tool_stream(("t1", "probe", '{"n": 1}'), prompt=15_100)),
            sse_reply(*oa_tool_stream(("t2", "probe", '{"n": 2}'), prompt=15_200)),
            sse_reply(*oa_text_stream("done", prompt=15_300)),
        )
        async with loop.core.open_session(loop.info) as session:
            seen = _events(session)
            await session.run_turn("first")
            await session.run_turn("second")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(session.run_turn, "third: probe twice")
                await reached.wait()  # the summary is in flight
                while not any(isinstance(e, ContextCompressed) for e in seen) and session.turn_running:
                    await trio.sleep(0.001)
                release.set()
            with trio.fail_after(5):
                while not any(isinstance(e, ContextCompressed) and e.strategy == "summary" for e in seen):
                    await trio.sleep(0.001)
            texts = [m.text for m in session.history]
        assert session.history[0].kind is MessageKind.SUMMARY
        assert "third: probe twice" in texts
        assert "probe 1" in texts and "probe 2" in texts and texts[-1] == "done"
        assert "first" not in texts  # summarised


async def test_summary_request_holds_turn_one_instructions_and_the_current_request(loop_llm):
    async with loop_llm() as loop:
        loop.server.enqueue(
            sse_reply(*oa_text_stream("d'accord", prompt=1_000)),
            sse_reply(*oa_text_stream("ok", prompt=18_000)),
            sse_reply(*oa_text_stream("fini", prompt=500)),
        )
        async with loop.core.open_session(loop.info) as session:
            await session.run_turn(INSTRUCTION)
            await session.run_turn("Refactor the parser module.")
            await session.run_turn("Now add tests for the tokenizer edge cases.")
        body = request_text(loop.summary_requests[0])
        assert INSTRUCTION in body
        assert "<current_request>\\nNow add tests for the tokenizer edge cases." in body


async def test_instruction_survives_three_compactions(loop_llm):
    async with loop_llm() as loop:
        replies = [sse_reply(*oa_text_stream("ok", prompt=1_000))]
        for _ in range(4):
            replies.append(sse_reply(*oa_text_stream("ok", prompt=18_000)))
        replies.append(sse_reply(*oa_text_stream("ok", prompt=500)))
        loop.server.enqueue(*replies)
        # each summary "forgets" the instruction: only the verbatim quotes keep it
        loop.summaries.extend(sse_reply(*oa_text_stream(f"## Goal\nsummary {i}", prompt=400)) for i in range(4))
        async with loop.core.open_session(loop.info) as session:
            for prompt in (INSTRUCTION, "step 2", "step 3", "step 4", "step 5", "step 6"):
                await session.run_turn(prompt)
        assert len(loop.summary_requests) >= 3
        last_chat = request_text(loop.chat_requests()[-1])
        assert INSTRUCTION in last_chat
        assert last_chat.count(INSTRUCTION) == 1  # merged, not repeated per compaction


async def test_context_overflow_compacts_and_retries_once(loop_llm):
    overflow = json_reply(400, {"error": {"message": "This model's maximum context length is 20000 tokens. However, your messages resulted in 25000 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})
    async with loop_llm() as loop:
        loop.server.enqueue(
            sse_reply(*oa_text_stream("one", prompt=1_000)),
            overflow,
            sse_reply(*oa_text_stream("recovered", prompt=800)),
        )
        async with loop.core.open_session(loop.info) as session:
            await session.run_turn("first")
            outcome = await session.run_turn("second")
        assert outcome.text == "recovered"
        order = ["summary" if "You compress" in request_text(r) else "chat" for r in loop.server.requests]
        assert order == ["chat", "chat", "summary", "chat"]


async def test_second_overflow_ends_the_turn_with_a_clear_error(loop_llm):
    from agentcore import TurnAbortedError

    overflow = json_reply(400, {"error": {"message": "maximum context length exceeded", "type": "invalid_request_error", "code": "context_length_exceeded"}})
    async with loop_llm() as loop:
        loop.server.enqueue(sse_reply(*oa_text_stream("one", prompt=1_000)), overflow, overflow)
        async with loop.core.open_session(loop.info) as session:
            await session.run_turn("first")
            with pytest.raises(TurnAbortedError, match="context"):
                await session.run_turn("second")
            assert [m.text for m in session.history][-1] != "second"  # rolled back


async def test_failed_summary_falls_back_to_dropping_and_pauses_after_three(loop_llm):
    bad = json_reply(400, {"error": {"message": "bad summary request", "type": "invalid_request_error"}})
    async with loop_llm() as loop:
        loop.summaries.extend([bad, bad, bad])
        replies = [sse_reply(*oa_text_stream("ok", prompt=1_000))]
        replies += [sse_reply(*oa_text_stream("ok", prompt=18_000)) for _ in range(4)]
        loop.server.enqueue(*replies)
        async with loop.core.open_session(loop.info) as session:
            seen = _events(session)
            for prompt in (INSTRUCTION, "b", "c", "d", "e"):
                await session.run_turn(prompt)
            compressed = [e for e in seen if isinstance(e, ContextCompressed)]
            assert [e.strategy for e in compressed] == ["drop", "drop", "drop"]
            assert session.compaction.paused
            assert any(isinstance(e, Notice) and "paused" in e.text for e in seen)
            assert INSTRUCTION in session.history[0].text  # still quoted verbatim after the drop


async def test_manual_compact_with_focus(loop_llm):
    async with loop_llm() as loop:
        loop.server.enqueue(*(sse_reply(*oa_text_stream("ok", prompt=1_000)) for _ in range(2)))
        async with loop.core.open_session(loop.info) as session:
            await session.run_turn("work on the database migration")
            await session.run_turn("and the API docs")
            report = await session.compaction.compact(focus="the database migration")
        assert report is not None and report.messages_summarized == 2
        assert "Focus the summary on: the database migration" in request_text(loop.summary_requests[0])


def test_cut_keeps_tool_pairs_and_the_current_request():
    from agentcore.messages import AssistantMessage, TextBlock, ToolResultBlock, ToolUseBlock

    msgs = [
        user_text("one"), AssistantMessage((ToolUseBlock("a", "t", {}),)), ToolResultMessage((ToolResultBlock("a", (TextBlock("x"),)),)),
        AssistantMessage((TextBlock("done"),)), user_text("two"), AssistantMessage((TextBlock("ok"),)), user_text("three"),
    ]
    counts = [100] * len(msgs)
    assert choose_cut(msgs, counts, 1_000_000) == 6  # everything fits the tail: keep just the current request... and before
    counts = [5_000, 5_000, 5_000, 5_000, 100, 100, 100]
    assert choose_cut(msgs, counts, WINDOW) == 4  # cut at a user-turn boundary
