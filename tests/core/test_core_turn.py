from __future__ import annotations

from typing import Any

import pytest
import trio

from agentcore import (
    AgentCoreBuilder,
    FunctionTool,
    PermissionMode,
    PermissionOption,
    Safety,
    SessionPolicy,
    StopReason,
    ToolKind,
    TurnAbortedError,
    TurnConfig,
    TurnInProgress,
)
from agentcore.events import (
    AssistantTextDelta,
    LlmCallFinished,
    PermissionRequested,
    PromptCommitted,
    ToolCallFinished,
    ToolCallStarted,
    TurnAborted,
    TurnEnded,
    TurnStarted,
)
from agentcore.llm.base import ProviderStop, StopChunk, TextDelta, UsageChunk
from agentcore.llm.errors import AuthError
from agentcore.messages import (
    AssistantMessage,
    MessageKind,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
    user_text,
)
from core_fakes import Gate, text_reply, tool_reply


def _collect(session) -> list:
    seen: list = []
    session.events.add_observer(seen.append)
    return seen


def _tool(name: str, fn, *, safety: Safety = Safety.READ_ONLY, kind: ToolKind = ToolKind.OTHER, subject: str | None = None,
          shell: bool = False):
    schema = {"type": "object", "properties": {"x": {"type": "string"}}, "additionalProperties": False}
    return FunctionTool(name, f"the {name} tool", schema, fn=fn, safety=safety, kind=kind, subject_arg=subject,
                        subject_is_shell_command=shell)


async def test_text_turn_streams_events_and_records_history(make_core, info):
    core, provider = make_core([[TextDelta("Hel"), TextDelta("lo"), UsageChunk(Usage(1000, 10)), StopChunk(ProviderStop.END_TURN)]])
    async with core.open_session(info) as session:
        seen = _collect(session)
        outcome = await session.run_turn("hi there")
    assert outcome.stop_reason is StopReason.END_TURN
    assert outcome.text == "Hello"
    kinds = [type(e) for e in seen]
    assert kinds.index(TurnStarted) < kinds.index(PromptCommitted) < kinds.index(AssistantTextDelta) < kinds.index(TurnEnded)
    assert "".join(e.text for e in seen if isinstance(e, AssistantTextDelta)) == "Hello"
    call = next(e for e in seen if isinstance(e, LlmCallFinished))
    assert call.cost_usd == pytest.approx((1000 * 3 + 10 * 15) / 1e6)
    assert call.context_window == 100_000
    assert [type(m).__name__ for m in session.history] == ["UserMessage", "AssistantMessage"]
    assert session.title == "hi there"
    req = provider.requests[0]
    assert req.messages[-1].text == "hi there" and "agentcore" in req.system


async def test_calibration_from_provider_usage(make_core, info):
    core, _ = make_core([text_reply("ok", usage=Usage(input_tokens=4321, output_tokens=5))])
    async with core.open_session(info) as session:
        await session.run_turn("hello")
        status = session.context_status()
    assert status.calibrated
    # reported prompt + the estimate of the assistant message appended after the call
    assert status.used == 4321 + session.history.message_tokens(1)


async def test_parallel_read_only_tools_results_in_call_order(make_core, info):
    both_started = trio.Event()
    started: list[str] = []

    async def slow(args: Any, ctx: Any) -> str:
        started.append(ctx.tool_call_id)
        if len(started) == 2:
            both_started.set()
        await both_started.wait()  # deadlocks unless the two calls run concurrently
        return f"result {args['x']}"

    core, provider = make_core(
        [tool_reply(("c1", "probe", {"x": "a"}), ("c2", "probe", {"x": "b"})), text_reply("done")],
        tools=[_tool("probe", slow)],
    )
    async with core.open_session(info) as session:
        with trio.fail_after(5):
            outcome = await session.run_turn("go")
    assert outcome.text == "done"
    results = session.history[2]
    assert isinstance(results, ToolResultMessage)
    assert [r.tool_use_id for r in results.results] == ["c1", "c2"]
    assert [r.text for r in results.results] == ["result a", "result b"]
    # the second request carried the tool results back to the model
    assert provider.requests[1].messages[-1] == results


async def test_mutating_tools_run_one_at_a_time_in_order(make_core, info):
    order: list[str] = []

    async def write(args: Any, ctx: Any) -> str:
        order.append(f"start {args['x']}")
        await trio.lowlevel.checkpoint()
        order.append(f"end {args['x']}")
        return "ok"

    policy = SessionPolicy(mode=PermissionMode.YOLO)
    core, _ = make_core(
        [tool_reply(("c1", "w", {"x": "1"}), ("c2", "w", {"x": "2"})), text_reply("done")],
        tools=[_tool("w", write, safety=Safety.MUTATING)],
        policy=policy,
    )
    async with core.open_session(info) as session:
        await session.run_turn("go")
    assert order == ["start 1", "end 1", "start 2", "end 2"]


async def test_bad_calls_become_error_results(make_core, info):
    core, provider = make_core(
        [
            tool_reply(("c1", "nope", {}), ("c2", "probe", {"x": 5}), ("c3", "probe", {"y": "?"})),
            text_reply("sorry"),
        ],
        tools=[_tool("probe", lambda a, c: trio.lowlevel.checkpoint())],
    )
    async with core.open_session(info) as session:
        await session.run_turn("go")
    results = session.history[2].results
    assert all(r.is_error for r in results)
    assert "no tool named 'nope'" in results[0].text and "probe" in results[0].text
    assert "x: expected string" in results[1].text
    assert "y: unknown argument" in results[2].text


async def test_tool_exception_is_an_error_result_not_a_crash(make_core, info):
    async def boom(args: Any, ctx: Any) -> str:
        raise ValueError("disk on fire")

    core, _ = make_core([tool_reply(("c1", "boom", {})), text_reply("noted")], tools=[_tool("boom", boom)])
    async with core.open_session(info) as session:
        outcome = await session.run_turn("go")
    assert outcome.stop_reason is StopReason.END_TURN
    assert "ValueError: disk on fire" in session.history[2].results[0].text


async def test_oversized_result_is_cut_and_spilled(make_core, info):
    big = "".join(f"line {i}\n" for i in range(20_000))

    async def dump(args: Any, ctx: Any) -> str:
        return big

    policy = SessionPolicy(turn=TurnConfig(max_tool_result_chars=2_000))
    core, _ = make_core([tool_reply(("c1", "dump", {})), text_reply("ok")], tools=[_tool("dump", dump)], policy=policy)
    async with core.open_session(info) as session:
        await session.run_turn("go")
    text = session.history[2].results[0].text
    assert len(text) < 2_500
    assert text.startswith("line 0\n") and text.rstrip().endswith("line 19999")
    path = text.split("saved to ")[1].split(" ")[0]
    assert open(path).read() == big


async def test_request_limit_stops_the_turn(make_core, info):
    policy = SessionPolicy(turn=TurnConfig(request_limit=2))
    probe = _tool("probe", lambda a, c: trio.lowlevel.checkpoint())
    core, provider = make_core([tool_reply(("c1", "probe", {})), tool_reply(("c2", "probe", {}))], tools=[probe], policy=policy)
    async with core.open_session(info) as session:
        outcome = await session.run_turn("loop forever")
    assert outcome.stop_reason is StopReason.MAX_TURN_REQUESTS
    assert len(provider.requests) == 2
    assert isinstance(session.history[-1], ToolResultMessage)


async def test_max_tokens_and_refusal_map_to_stop_reasons(make_core, info):
    core, _ = make_core(
        [
            [TextDelta("partial"), StopChunk(ProviderStop.MAX_TOKENS)],
            [TextDelta("no"), StopChunk(ProviderStop.REFUSAL)],
        ]
    )
    async with core.open_session(info) as session:
        assert (await session.run_turn("a")).stop_reason is StopReason.MAX_TOKENS
        assert (await session.run_turn("b")).stop_reason is StopReason.REFUSAL


async def test_cancel_mid_stream_returns_within_bound_and_keeps_seen_text(make_core, info):
    gate = Gate()
    core, provider = make_core([[TextDelta("partial answer"), gate, TextDelta(" never")]])
    async with core.open_session(info) as session:
        async with trio.open_nursery() as nursery:
            result: list = []

            async def run() -> None:
                result.append(await session.run_turn("go"))

            nursery.start_soon(run)
            await gate.reached.wait()
            with trio.fail_after(0.25):
                session.cancel()
                while not result:
                    await trio.sleep(0)
    assert result[0].stop_reason is StopReason.CANCELLED
    assert provider.closed_streams == 1  # the stream was closed, not abandoned
    assert session.history[-1].text == "partial answer"


async def test_cancel_during_tools_gives_every_call_a_result(make_core, info):
    running = trio.Event()

    async def hang(args: Any, ctx: Any) -> str:
        running.set()
        await trio.sleep_forever()
        return ""

    core, provider = make_core(
        [tool_reply(("c1", "fast", {}), ("c2", "hang", {})), text_reply("after")],
        tools=[_tool("hang", hang), _tool("fast", lambda a, c: _const("fast done"))],
    )
    async with core.open_session(info) as session:
        async with trio.open_nursery() as nursery:
            result: list = []

            async def run() -> None:
                result.append(await session.run_turn("go"))

            nursery.start_soon(run)
            await running.wait()
            with trio.fail_after(0.25):
                session.cancel()
                while not result:
                    await trio.sleep(0)
        assert result[0].stop_reason is StopReason.CANCELLED
        results = session.history[2].results
        assert [r.tool_use_id for r in results] == ["c1", "c2"]
        assert "Cancelled" in results[1].text and results[1].is_error
        # the session is usable again and the model sees a consistent history
        assert (await session.run_turn("next")).text == "after"
    assert [type(m).__name__ for m in provider.requests[1].messages] == [
        "UserMessage", "AssistantMessage", "ToolResultMessage", "UserMessage"
    ]


async def _const(text: str) -> str:
    await trio.lowlevel.checkpoint()
    return text


async def test_fatal_provider_error_rolls_back_and_emits_turn_aborted(make_core, info):
    core, _ = make_core([text_reply("first"), AuthError("ANTHROPIC_API_KEY is invalid", status=401)])
    async with core.open_session(info) as session:
        await session.run_turn("one")
        seen = _collect(session)
        before = session.history.snapshot()
        with pytest.raises(TurnAbortedError) as err:
            await session.run_turn("two")
    assert isinstance(err.value.__cause__, AuthError)
    assert session.history.snapshot() == before
    aborted = [e for e in seen if isinstance(e, TurnAborted)]
    assert aborted and aborted[0].error_type == "AuthError"


async def test_error_after_tool_results_rolls_back_whole_turn(make_core, info):
    probe = _tool("probe", lambda a, c: _const("r"))
    core, _ = make_core([tool_reply(("c1", "probe", {})), AuthError("bad key", status=401)], tools=[probe])
    async with core.open_session(info) as session:
        with pytest.raises(TurnAbortedError):
            await session.run_turn("go")
        assert len(session.history) == 0


async def test_second_turn_while_running_raises(make_core, info):
    gate = Gate()
    core, _ = make_core([[gate, *text_reply("done")]])
    async with core.open_session(info) as session:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.run_turn, "first")
            await gate.reached.wait()
            with pytest.raises(TurnInProgress):
                await session.run_turn("second")
            gate.opened.set()


async def test_orphan_tool_use_repaired_only_on_the_wire(make_core, info):
    core, provider = make_core([text_reply("fine")])
    async with core.open_session(info) as session:
        orphan = AssistantMessage((ToolUseBlock("lost", "bash", {"command": "ls"}),))
        session.history.append(user_text("earlier"))
        session.history.append(orphan)
        await session.run_turn("continue")
        stored = session.history.snapshot()
    assert [type(m).__name__ for m in stored] == ["UserMessage", "AssistantMessage", "UserMessage", "AssistantMessage"]
    sent = provider.requests[0].messages
    assert [type(m).__name__ for m in sent] == ["UserMessage", "AssistantMessage", "ToolResultMessage", "UserMessage"]
    assert sent[2].results[0].tool_use_id == "lost" and sent[2].results[0].is_error


async def test_background_outcomes_arrive_before_the_prompt(make_core, info):
    core, provider = make_core([text_reply("seen")])
    async with core.open_session(info) as session:
        session.pending_outcomes.append("Background task t1 (tests) completed: 12 passed")
        await session.run_turn("what happened?")
    sent = provider.requests[0].messages
    assert sent[0].kind is MessageKind.BACKGROUND and "12 passed" in sent[0].text
    assert sent[1].text == "what happened?"


async def test_permission_ask_allow_once_then_reject(make_core, info):
    calls: list[str] = []

    async def edit(args: Any, ctx: Any) -> str:
        calls.append(args["x"])
        return "edited"

    tool = _tool("edit", edit, safety=Safety.MUTATING, kind=ToolKind.EDIT, subject="x")
    core, _ = make_core(
        [tool_reply(("c1", "edit", {"x": "a.py"})), text_reply("ok"), tool_reply(("c2", "edit", {"x": "b.py"})), text_reply("ok")],
        tools=[tool],
    )
    async with core.open_session(info) as session:
        answers = iter([PermissionOption.ALLOW_ONCE, PermissionOption.REJECT_ONCE])
        asked: list[PermissionRequested] = []

        async def answer() -> None:
            async with session.events.subscribe() as events:
                async for ev in events:
                    if isinstance(ev, PermissionRequested):
                        asked.append(ev)
                        session.permissions.resolve(ev.request_id, next(answers))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(answer)
            await trio.testing.wait_all_tasks_blocked()
            await session.run_turn("edit a")
            await session.run_turn("edit b")
            nursery.cancel_scope.cancel()
    assert calls == ["a.py"]
    assert [a.subject for a in asked] == ["a.py", "b.py"]
    assert asked[0].always_rule == "edit(a.py)"
    rejected = session.history[6].results[0]
    assert rejected.is_error and "declined" in rejected.text


async def test_allow_always_adds_a_rule_and_stops_asking(make_core, info):
    tool = _tool("sh", lambda a, c: _const("ran"), safety=Safety.DESTRUCTIVE, kind=ToolKind.EXECUTE, subject="x", shell=True)
    core, _ = make_core(
        [tool_reply(("c1", "sh", {"x": "git status --short"})), tool_reply(("c2", "sh", {"x": "git status"})), text_reply("ok")],
        tools=[tool],
    )
    asked = 0
    async with core.open_session(info) as session:

        async def answer() -> None:
            nonlocal asked
            async with session.events.subscribe() as events:
                async for ev in events:
                    if isinstance(ev, PermissionRequested):
                        asked += 1
                        session.permissions.resolve(ev.request_id, PermissionOption.ALLOW_ALWAYS)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(answer)
            await trio.testing.wait_all_tasks_blocked()
            await session.run_turn("go")
            nursery.cancel_scope.cancel()
    assert asked == 1
    assert [str(r) for r in session.permissions.rules] == ["sh(git status *)"]


async def test_cancel_resolves_pending_permission_as_cancelled(make_core, info):
    tool = _tool("sh", lambda a, c: _const("ran"), safety=Safety.DESTRUCTIVE, kind=ToolKind.EXECUTE)
    core, _ = make_core([tool_reply(("c1", "sh", {}))], tools=[tool])
    async with core.open_session(info) as session:
        seen = _collect(session)
        async with trio.open_nursery() as nursery:
            result: list = []

            async def run() -> None:
                result.append(await session.run_turn("go"))

            nursery.start_soon(run)
            while not any(isinstance(e, PermissionRequested) for e in seen):
                await trio.sleep(0)
            session.cancel()
    assert result[0].stop_reason is StopReason.CANCELLED
    resolved = [e for e in seen if type(e).__name__ == "PermissionResolved"]
    assert resolved and resolved[0].outcome == "cancelled" and not resolved[0].allowed
    assert session.history[-1].results[0].is_error


async def test_unattended_session_denies_asks_with_a_message(make_core, info):
    ran: list[int] = []

    async def act(args: Any, ctx: Any) -> str:
        ran.append(1)
        return "ran"

    tool = _tool("act", act, safety=Safety.MUTATING)
    core, _ = make_core([tool_reply(("c1", "act", {})), text_reply("ok")], tools=[tool])
    import attrs

    async with core.open_session(attrs.evolve(info, interactive=False)) as session:
        await session.run_turn("go")
    assert not ran
    assert "unattended" in session.history[2].results[0].text


async def test_tool_events_carry_description_and_result(make_core, info):
    core, _ = make_core([tool_reply(("c1", "probe", {"x": "v"})), text_reply("ok")], tools=[_tool("probe", lambda a, c: _const("r"), subject="x")])
    async with core.open_session(info) as session:
        seen = _collect(session)
        await session.run_turn("go")
    started = next(e for e in seen if isinstance(e, ToolCallStarted))
    finished = next(e for e in seen if isinstance(e, ToolCallFinished))
    assert started.title == "probe v" and started.raw_input == {"x": "v"}
    assert finished.result.text_content == "r" and not finished.result.is_error


async def test_echo_provider_is_the_offline_default(tmp_path):
    core = AgentCoreBuilder().without_builtin_tools().with_state_dir(tmp_path).build()
    from agentcore import SessionCreateInfo

    async with core.open_session(SessionCreateInfo(cwd=tmp_path)) as session:
        outcome = await session.run_turn("say this back")
        assert session.selection.is_echo
        assert "offline echo model" in session.startup_notices[0].text
    assert outcome.text == "say this back"
    assert outcome.usage.output_tokens > 0


async def test_deny_rule_sees_through_symlinks_with_real_read_file(tmp_path):
    """read_file(**/.env) deny holds for a symlink named innocently (built-in tools, real files)."""
    from agentcore import AgentCoreBuilder, SessionCreateInfo
    from agentcore.permissions import Rule, RuleAction

    work = tmp_path / "w"
    work.mkdir()
    (work / ".env").write_text("SECRET=hunter2\n")
    (work / "notes.txt").symlink_to(work / ".env")
    from core_fakes import ScriptedProvider

    provider = ScriptedProvider([tool_reply(("c1", "read_file", {"path": "notes.txt"})), text_reply("ok")])
    policy = SessionPolicy(rules=(Rule.parse("read_file(**/.env)", RuleAction.DENY),))
    core = AgentCoreBuilder().with_provider(provider, "m").with_policy(policy).with_state_dir(tmp_path / "s").build()
    async with core.open_session(SessionCreateInfo(cwd=work)) as session:
        await session.run_turn("read my notes")
    result = session.history[2].results[0]
    assert result.is_error and "denied" in result.text
    assert "hunter2" not in str(provider.requests[1].messages)


async def test_when_busy_wait_and_preempt(make_core, info):
    gate = Gate()
    core, _ = make_core([[gate, *text_reply("first")], text_reply("second"), [TextDelta("x"), Gate()], text_reply("fourth")])
    from agentcore import WhenBusy

    async with core.open_session(info) as session:
        results: list = []
        async with trio.open_nursery() as nursery:

            async def first() -> None:
                results.append(await session.run_turn("one"))

            nursery.start_soon(first)
            await gate.reached.wait()

            async def second() -> None:
                results.append(await session.run_turn("two", when_busy=WhenBusy.WAIT))

            nursery.start_soon(second)
            await trio.testing.wait_all_tasks_blocked()
            gate.opened.set()
        assert [r.text for r in results] == ["first", "second"]

        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.run_turn, "three")  # hangs at its gate
            await trio.testing.wait_all_tasks_blocked()
            outcome = await session.run_turn("four", when_busy=WhenBusy.PREEMPT)
        assert outcome.text == "fourth"
        assert [m.text for m in session.history][-2:] == ["four", "fourth"]


async def test_background_outcomes_survive_an_aborted_turn(make_core, info):
    core, provider = make_core([AuthError("bad key", status=401), text_reply("seen")])
    async with core.open_session(info) as session:
        session.pending_outcomes.append("Background task t1 (tests) completed: 12 passed")
        with pytest.raises(TurnAbortedError):
            await session.run_turn("what happened?")
        await session.run_turn("what happened?")
    assert "12 passed" in provider.requests[1].messages[0].text
