"""Background sub-agents and shells: outcomes, autonomous turns, inspect and cancel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import trio

from agentcore import SessionCreateInfo
from agentcore.background import TaskStatus
from agentcore.events import BackgroundTaskFinished, ToolCallProgress, TurnEnded
from agentcore.session.outcomes import AUTONOMOUS_HEADER
from agentcore.permissions import PermissionMode
from agentcore.tools.shell import BashTool
from agentcore.tools.tasks import background_task_tools
from agents_loop import WAIT_S, Call, EventLog, open_llm, policy, text, tools
from fakes.llm_server import Reply, sse_reply
from fakes.vendor_wire import oa_text_stream

PROC = Path("/proc")


@pytest.fixture
def work(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


def group_alive(pgid: int) -> bool:
    """A live (non-zombie) process in the group."""
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


async def test_background_child_finishes_while_idle_and_an_autonomous_turn_carries_it(tmp_path, work):
    release_child = trio.Event()
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if call.last["role"] == "tool":
                return text("Started the review; I will report back.")
            if AUTONOMOUS_HEADER in call.last_text:
                return text("The review came back: all good.")
            return tools(
                ("call_bg", "spawn_agent", {"profile": "reviewer", "task": "review", "run_in_background": True})
            )

        def reviewer(call: Call) -> Reply:
            async def wait_for_parent_idle() -> None:
                await release_child.wait()

            return sse_reply(wait_for_parent_idle, *oa_text_stream("LGTM, no findings."))

        llm.route("main", main)
        llm.route("reviewer", reviewer)
        core = llm.core({"main": policy("main", spawn=("reviewer",)), "reviewer": policy("reviewer")})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            first = await session.run_turn("review in the background")
            assert first.text == "Started the review; I will report back."
            assert not session.turn_running  # idle: nobody will type anything
            snapshot = session.background.snapshot()[0]
            assert snapshot.status is TaskStatus.RUNNING and snapshot.label == "reviewer: review"
            release_child.set()
            ended = await log.wait_for(lambda e: isinstance(e, TurnEnded), count=2)
            finished = log.of(BackgroundTaskFinished)[0]
            assert finished.status == "completed" and "LGTM" in finished.outcome
            # The finish was announced before the autonomous turn started.
            assert log.events.index(finished) < log.events.index(ended[1])
            # The child's output was reported on the tool call that started it.
            progress = [e for e in log.of(ToolCallProgress) if e.call_id == "call_bg"]
            assert "LGTM" in "".join(e.text for e in progress)
        autonomous = llm.calls_of("main")[-1]
        assert AUTONOMOUS_HEADER in autonomous.last_text and "LGTM, no findings." in autonomous.last_text
        assert "sub_agent_1" in autonomous.last_text
        assert session.history[-1].text == "The review came back: all good."
        assert session.pending_outcomes == []


async def test_without_autonomous_turns_the_outcome_rides_along_with_the_next_prompt(tmp_path, work):
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if call.last["role"] == "tool":
                return text("started")
            if call.last_text == "what happened?":
                return text("it finished")
            return tools(("call_bg", "spawn_agent", {"profile": "reviewer", "task": "t", "run_in_background": True}))

        llm.route("main", main)
        llm.route("reviewer", lambda call: text("child answer 42"))
        core = llm.core(
            {"main": policy("main", spawn=("reviewer",), autonomous=False), "reviewer": policy("reviewer")}
        )
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            await session.run_turn("start it")
            await log.wait_for(lambda e: isinstance(e, BackgroundTaskFinished))
            assert len(log.of(TurnEnded)) == 1 and len(session.pending_outcomes) == 1
            await session.run_turn("what happened?")
        last = llm.calls_of("main")[-1]
        outcome, prompt = last.user_texts()[-2:]
        assert "child answer 42" in outcome and prompt == "what happened?"
        assert len(llm.calls_of("main")) == 3  # no turn ran on its own


async def test_cancelling_a_running_child_stops_its_request(tmp_path, work):
    child_asked = trio.Event()

    def reviewer(call: Call) -> Reply:
        child_asked.set()
        return Reply(end="hang")  # the child's model never answers

    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if call.last["role"] == "user" and call.last_text == "start":
                return tools(("c1", "spawn_agent", {"profile": "reviewer", "task": "slow", "run_in_background": True}))
            if call.last["role"] == "user" and call.last_text == "stop it":
                return tools(("c2", "cancel_background_task", {"task_id": "sub_agent_1"}))
            return text("ok")

        llm.route("main", main)
        llm.route("reviewer", reviewer)
        core = llm.core(
            {"main": policy("main", spawn=("reviewer",)), "reviewer": policy("reviewer")},
            extra_tools=background_task_tools(),
        )
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            await session.run_turn("start")
            with trio.fail_after(WAIT_S):
                await child_asked.wait()
            child_request = llm.calls_of("reviewer")[0].request
            await session.run_turn("stop it")
            with trio.fail_after(WAIT_S):
                await child_request.disconnected.wait()  # the child's stream was closed
            assert session.background.get("sub_agent_1").status is TaskStatus.CANCELLED
            cancel_result = llm.calls_of("main")[-1].tool_results()[-1]
            assert "was cancelled" in cancel_result
            assert log.of(BackgroundTaskFinished)[0].status == "cancelled"
            assert len(log.of(TurnEnded)) == 2  # a cancellation starts no turn of its own


async def test_background_shell_reports_progress_inspects_and_cancels_its_group(tmp_path, work):
    command = "echo PGID $$; echo ready; sleep 300 & sleep 300"
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            prompt = call.last_text if call.last["role"] == "user" else None
            match prompt:
                case "start":
                    return tools(("b1", "bash", {"command": command, "run_in_background": True}))
                case "look":
                    return tools(("i1", "inspect_background_task", {"task_id": "shell_1", "recent": 5}))
                case "stop":
                    return tools(("k1", "cancel_background_task", {"task_id": "shell_1"}))
                case "list":
                    return tools(("l1", "inspect_background_task", {}))
            return text("ok")

        llm.route("main", main)
        core = llm.core({"main": policy("main", mode=PermissionMode.YOLO)}, extra_tools=[BashTool(), *background_task_tools()])
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            await session.run_turn("start")
            # ACP progress: the background output shows on the originating tool call.
            await log.wait_for(lambda e: isinstance(e, ToolCallProgress) and e.call_id == "b1" and "ready" in e.text)
            # The output may arrive in several progress reports: read them all.
            shown = "".join(e.text for e in log.events if isinstance(e, ToolCallProgress) and e.call_id == "b1")
            pgid = int(re.search(r"PGID (\d+)", shown).group(1))
            assert group_alive(pgid)
            await session.run_turn("look")
            inspected = llm.calls_of("main")[-1].tool_results()[-1]
            assert "shell_1 (shell) running" in inspected and "ready" in inspected
            assert "output file:" in inspected
            await session.run_turn("stop")
            assert not group_alive(pgid)  # every process of the command is gone
            await session.run_turn("list")
            listed = llm.calls_of("main")[-1].tool_results()[-1]
            assert "1 background tasks, 0 running" in listed and "shell_1 (shell) cancelled" in listed
