"""Sub-agent visibility: the child's step, tool calls and streamed text on the
parent's spawn_agent call, its answer as the result, a peek at a background
child (redacted, bounded), and its cost journaled so it survives a resume."""

from __future__ import annotations

import pytest
import trio

from agentcore import SessionCreateInfo
from agentcore.background import TaskStatus
from agentcore.events import BackgroundTaskFinished, ToolCallFinished, ToolCallProgress, UsageCharged
from agentcore.messages import Usage
from agentcore.session.child_activity import PEEK_MESSAGE_CHARS
from agentcore.store import JournalStore
from agentcore.tools.base import FunctionTool
from agentcore.tools.tasks import background_task_tools
from agents_loop import CHILD_PRICING, WAIT_S, Call, EventLog, open_llm, policy, text, tools
from fakes.llm_server import Reply, sse_reply
from fakes.vendor_wire import oa_text_stream

SECRET = "sk-visibility-secret-0123456789abcdef"  # the agent's own key: never shown anywhere
ANSWER = "\n".join(f"Finding {i}: line {i} of app.py needs care." for i in range(1, 10))


@pytest.fixture
def work(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


def first_turn(call: Call) -> bool:
    return call.last["role"] == "user"


def spawn_progress(log: EventLog, call_id: str) -> list[ToolCallProgress]:
    return [e for e in log.of(ToolCallProgress) if e.call_id == call_id]


async def test_the_parent_sees_the_childs_steps_tool_calls_text_and_answer(tmp_path, work):
    probe_running = trio.Event()
    release_probe = trio.Event()

    async def probe(args, ctx) -> str:
        probe_running.set()
        await release_probe.wait()
        return "probe says hi"

    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if first_turn(call):
                return tools(("call_spawn", "spawn_agent", {"profile": "reviewer", "task": "Review app.py"}))
            return text("The reviewer is done.")

        def reviewer(call: Call) -> Reply:
            if first_turn(call):
                return tools(("c_probe", "probe", {"path": "app.py"}))
            return text(ANSWER)

        llm.route("main", main)
        llm.route("reviewer", reviewer)
        core = llm.core(
            {"main": policy("main", spawn=("reviewer",)), "reviewer": policy("reviewer", model="child-model")},
            extra_tools=[FunctionTool("probe", "look", {"type": "object"}, fn=probe, subject_arg="path")],
        )
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(session.run_turn, "get a review")
                # While the child's tool runs, the parent's call says so: the step, and the call as a line.
                await log.wait_for(
                    lambda e: isinstance(e, ToolCallProgress) and e.call_id == "call_spawn" and e.step == "running probe app.py"
                )
                shown = "".join(e.text for e in spawn_progress(log, "call_spawn"))
                assert "→ probe app.py" in shown
                release_probe.set()
            finished = [e for e in log.of(ToolCallFinished) if e.call_id == "call_spawn"][0]

        steps = [e.step for e in spawn_progress(log, "call_spawn") if e.step is not None]
        assert steps[0] == "waiting for child-model"  # the child's first request
        assert steps[-1] == "finished (end_turn)"
        transcript = "".join(e.text for e in spawn_progress(log, "call_spawn"))
        assert "  ✓ probe (" in transcript  # the call's end, as a readable line
        assert "Finding 9: line 9 of app.py needs care." in transcript  # the streamed text, all of it
        # The answer is the result: the whole of it (no collapsing in the record), with the footer.
        assert finished.result.text_content.startswith(ANSWER)
        assert "[reviewer sub-agent: end_turn · 2 model requests" in finished.result.text_content
        assert llm.calls_of("main")[-1].tool_results()[0].startswith(ANSWER)


async def test_a_background_child_can_be_peeked_at_redacted_and_bounded(tmp_path, work):
    child_second_request = trio.Event()
    release_child = trio.Event()
    huge = "x" * (PEEK_MESSAGE_CHARS * 3)

    async def probe(args, ctx) -> str:
        return "probe output " + huge

    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            prompt = call.last_text if call.last["role"] == "user" else None
            match prompt:
                case "start":
                    return tools(
                        (
                            "c_bg",
                            "spawn_agent",
                            {"profile": "reviewer", "task": f"Review; the key is {SECRET}", "run_in_background": True},
                        )
                    )
                case "look":
                    return tools(("c_look", "inspect_background_task", {"task_id": "sub_agent_1", "messages": 3}))
            return text("ok")

        def reviewer(call: Call) -> Reply:
            if first_turn(call):
                return tools(("c_probe", "probe", {}))
            child_second_request.set()

            async def hold() -> None:
                await release_child.wait()

            return sse_reply(hold, *oa_text_stream(f"All good (I was told {SECRET})."))

        llm.route("main", main)
        llm.route("reviewer", reviewer)
        core = llm.core(
            {"main": policy("main", spawn=("reviewer",)), "reviewer": policy("reviewer", model="child-model")},
            extra_tools=[FunctionTool("probe", "look", {"type": "object"}, fn=probe), *background_task_tools()],
            env={"OPENAI_API_KEY": SECRET, "PATH": "/usr/bin:/bin"},
        )
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            await session.run_turn("start")
            with trio.fail_after(WAIT_S):
                await child_second_request.wait()
            # What /tasks shows: the child's step with its counts.
            snapshot = session.background.get("sub_agent_1")
            assert snapshot.status is TaskStatus.RUNNING
            assert snapshot.step == "waiting for child-model (1 model requests, 1 tool calls)"
            # The peek: the child's latest messages, newest last, redacted and cut.
            peek = session.background.handle("sub_agent_1").peek
            messages = peek.recent_messages(10)
            assert [m.split(" ", 1)[0] for m in messages] == ["[user]", "[assistant]", "[tool", "[assistant]"][:len(messages)]
            assert messages[0] == "[user] Review; the key is [REDACTED:OPENAI_API_KEY]"
            assert messages[1] == "[assistant] → probe {}"
            assert messages[2].startswith("[tool results] probe output xxx") and "more characters]" in messages[2]
            assert all(len(m) < PEEK_MESSAGE_CHARS + 40 for m in messages)
            assert not any(SECRET in m for m in messages)
            # The model asks for the same through inspect_background_task.
            await session.run_turn("look")
            inspected = llm.calls_of("main")[-1].tool_results()[-1]
            assert "sub_agent_1 (sub_agent) running" in inspected
            assert "step: waiting for child-model (1 model requests, 1 tool calls)" in inspected
            assert "its last 3 messages with its model (newest last):" in inspected
            assert "[user] Review; the key is [REDACTED:OPENAI_API_KEY]" in inspected
            release_child.set()
            await log.wait_for(lambda e: isinstance(e, BackgroundTaskFinished))
            done = session.background.get("sub_agent_1")
            assert done.step == "finished (end_turn) (2 model requests, 1 tool calls)"
            # The child's streamed answer reached the task's output, redacted.
            assert any("All good (I was told [REDACTED:OPENAI_API_KEY])." in line for line in done.recent_output)
            # ... and the tool call that started it (throttled: the last report may follow the finish).
            await log.wait_for(lambda e: isinstance(e, ToolCallProgress) and e.call_id == "c_bg" and "All good" in e.text)
            late = "".join(e.text for e in spawn_progress(log, "c_bg"))
            assert "All good (I was told [REDACTED:OPENAI_API_KEY])." in late
        # Nothing the parent shows of the child holds the secret: its progress, its step, its outcome.
        assert not any(SECRET in e.text or SECRET in (e.step or "") for e in log.of(ToolCallProgress))
        [finished] = log.of(BackgroundTaskFinished)
        assert "[REDACTED:OPENAI_API_KEY]" in finished.outcome and SECRET not in finished.outcome
        assert SECRET not in llm.calls_of("main")[-1].body["messages"][-1]["content"]


async def test_a_sub_agents_cost_is_journaled_and_the_same_after_a_resume(tmp_path, work):
    store = JournalStore(tmp_path / "sessions")
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if first_turn(call):
                return tools(("call_spawn", "spawn_agent", {"profile": "reviewer", "task": "Review"}))
            return text("done", prompt=500, completion=50)

        llm.route("main", main)
        llm.route("reviewer", lambda call: text("fine", prompt=3000, completion=400))
        core = llm.core(
            {"main": policy("main", spawn=("reviewer",)), "reviewer": policy("reviewer", model="child-model")},
            store=store,
        )
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            await session.run_turn("review it")
            totals = (session.usage, session.cost_usd)
            sid = session.id
        [charged] = log.of(UsageCharged)
        child_usage = Usage(input_tokens=3000, output_tokens=400)
        assert (charged.source, charged.usage) == ("sub-agent", child_usage)
        assert charged.cost_usd == pytest.approx(CHILD_PRICING.cost(child_usage))
        # The journal holds the child's charge and the child's answer (the tool result).
        stored = JournalStore(store.sessions_dir).load(sid)
        assert (stored.usage, stored.cost_usd) == totals
        assert any("fine" in m.text and "reviewer sub-agent" in m.text for m in stored.messages if hasattr(m, "results"))
        async with core.open_session(SessionCreateInfo(cwd=work, session_id=sid)) as resumed:
            assert (resumed.usage, resumed.cost_usd) == totals
        assert totals[1] > CHILD_PRICING.cost(child_usage)  # the parent's own calls are in it too
