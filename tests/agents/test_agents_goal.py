"""The goal loop: run_goal keeps a session working until goal_done or the cap."""

from __future__ import annotations

import pytest
import trio

from agentcore import SessionCreateInfo
from agentcore.session.goal import GOAL_DONE, GoalError, GoalStop, run_goal
from agents_loop import Call, EventLog, open_llm, policy, text, tools
from fakes.llm_server import Reply, sse_reply
from fakes.vendor_wire import oa_text_stream


@pytest.fixture
def work(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


async def test_goal_reached_when_the_agent_calls_goal_done(tmp_path, work):
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if call.last["role"] == "tool":
                return text("All done.")
            if "Continue working toward it (turn 2 of 5)" in call.last_text:
                return tools(("g1", GOAL_DONE, {"summary": "Fixed the bug and the tests pass."}))
            return text("I looked around; more to do.")

        llm.route("main", main)
        # A narrow allowlist: goal_done still appears, because the goal loop adds it.
        core = llm.core({"main": policy("main", allow=("spawn_agent",))})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            outcome = await run_goal(session, "Fix the failing test", max_turns=5)
        assert outcome.reached and outcome.turns == 2 and outcome.stop_reason is GoalStop.GOAL_DONE
        assert outcome.summary == "Fixed the bug and the tests pass."
        first = llm.calls_of("main")[0]
        assert "<goal>\nFix the failing test\n</goal>" in first.last_text and "at most 5 turns" in first.last_text
        assert GOAL_DONE in first.tool_names
        assert len(llm.calls_of("main")) == 3


async def test_goal_not_reached_within_the_turn_cap(tmp_path, work):
    async with open_llm(tmp_path) as llm:
        llm.route("main", lambda call: text("still thinking"))
        core = llm.core({"main": policy("main")})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            outcome = await run_goal(session, "Prove P != NP", max_turns=3)
        assert not outcome.reached and outcome.turns == 3 and outcome.stop_reason is GoalStop.MAX_TURNS
        assert outcome.summary == "still thinking"
        assert len(llm.calls_of("main")) == 3


async def test_goal_loop_waits_for_a_background_sub_agent_instead_of_racing_it(tmp_path, work):
    release = trio.Event()
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if call.last["role"] == "tool" and "Started the reviewer" in call.last_text:
                release.set()  # the child may answer only after the first goal turn ends
                return text("waiting for the reviewer")
            if call.last["role"] == "tool":
                return text("done")
            if any("verdict: ship it" in t for t in call.user_texts()):
                return tools(("g1", GOAL_DONE, {"summary": "reviewed"}))
            return tools(("s1", "spawn_agent", {"profile": "reviewer", "task": "review", "run_in_background": True}))

        def reviewer(call: Call) -> Reply:
            async def gate() -> None:
                await release.wait()

            return sse_reply(gate, *oa_text_stream("verdict: ship it"))

        llm.route("main", main)
        llm.route("reviewer", reviewer)
        core = llm.core({"main": policy("main", spawn=("reviewer",)), "reviewer": policy("reviewer")})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            with trio.fail_after(10):
                outcome = await run_goal(session, "Get a review", max_turns=4)
        assert outcome.reached and outcome.turns == 2
        # The outcome rode along with the second goal turn; no autonomous turn raced the loop.
        second_prompt_call = llm.calls_of("main")[2]
        assert "verdict: ship it" in second_prompt_call.user_texts()[-2]
        assert not [e for e in log.events if type(e).__name__ == "TurnAborted"]


async def test_bad_goal_arguments_are_refused(tmp_path, work):
    async with open_llm(tmp_path) as llm:
        core = llm.core({"main": policy("main", allow=("*",))})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            with pytest.raises(GoalError, match="empty"):
                await run_goal(session, "  ", max_turns=3)
            with pytest.raises(GoalError, match="at least 1"):
                await run_goal(session, "x", max_turns=0)
