"""spawn_agent end to end: child sessions against a loopback OpenAI-wire LLM."""

from __future__ import annotations

import pytest
import trio

from agentcore import SessionCreateInfo
from agentcore.events import PermissionRequested, ToolCallFinished, ToolCallProgress
from agentcore.messages import Usage
from agentcore.permissions import PermissionMode, Rule, RuleAction
from agentcore.tools.base import FunctionTool, Safety, ToolKind
from agents_loop import CHILD_PRICING, MAIN_PRICING, WAIT_S, Call, EventLog, open_llm, policy, text, tools
from fakes.llm_server import Reply, sse_reply
from fakes.vendor_wire import oa_text_stream


def first_turn(call: Call) -> bool:
    return call.last["role"] == "user"


@pytest.fixture
def work(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


async def test_foreground_child_answers_with_fresh_history_and_rolls_up_cost(tmp_path, work):
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if first_turn(call):
                return tools(("call_spawn", "spawn_agent", {"profile": "reviewer", "task": "Review app.py for bugs"}))
            return text("The reviewer found one bug.")

        llm.route("main", main)
        llm.route("reviewer", lambda call: text("One bug: app.py line 3 divides by zero.", prompt=2000, completion=300))
        core = llm.core(
            {
                "main": policy("main", spawn=("reviewer",)),
                "reviewer": policy("reviewer", allow=("probe",), model="child-model"),
            },
            extra_tools=[FunctionTool("probe", "look", {"type": "object"}, fn=lambda a, c: _const("x"))],
        )
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            outcome = await session.run_turn("please get a review")

        assert outcome.text == "The reviewer found one bug."
        child = llm.calls_of("reviewer")
        assert len(child) == 1
        # Fresh history: the child sees its system prompt and the task, nothing of the parent's chat.
        assert [m["role"] for m in child[0].messages] == ["system", "user"]
        assert child[0].last_text == "Review app.py for bugs"
        assert child[0].model == "child-model"
        assert child[0].tool_names == ["probe"]  # the child profile's allowlist
        # The parent's schema enumerates exactly the spawnable profiles.
        parent_first = llm.calls_of("main")[0]
        assert parent_first.tool_schema("spawn_agent")["properties"]["profile"]["enum"] == ["reviewer"]
        # The answer is the tool result, with the child's usage.
        result = llm.calls_of("main")[1].tool_results()[0]
        assert result.startswith("One bug: app.py line 3 divides by zero.")
        assert "reviewer sub-agent: end_turn" in result
        # Progress of the child shows on the parent's tool call.
        progress = [e for e in log.of(ToolCallProgress) if e.call_id == "call_spawn"]
        assert "divides by zero" in "".join(e.text for e in progress)
        # Usage and cost roll up: two parent calls at main prices, one child call at child prices.
        child_usage = Usage(input_tokens=2000, output_tokens=300)
        parent_usage = Usage(input_tokens=2000, output_tokens=200)
        assert session.usage == parent_usage + child_usage
        expected = MAIN_PRICING.cost(parent_usage) + CHILD_PRICING.cost(child_usage)
        assert session.cost_usd == pytest.approx(expected)


async def _const(value: str) -> str:
    return value


async def test_spawn_agent_exists_only_where_the_profile_allows_it(tmp_path, work):
    async with open_llm(tmp_path) as llm:
        llm.route("main", lambda call: text("ok"))
        llm.route("solo", lambda call: text("ok"))
        llm.route("narrow", lambda call: text("ok"))
        core = llm.core(
            {
                "main": policy("main", spawn=("reviewer",)),
                "solo": policy("solo"),  # lists nothing to spawn
                "narrow": policy("narrow", allow=("probe",), spawn=("reviewer",)),  # allowlist lacks spawn_agent
                "reviewer": policy("reviewer"),
            },
            extra_tools=[FunctionTool("probe", "look", {"type": "object"}, fn=lambda a, c: _const("x"))],
        )
        for profile, expected in (("main", True), ("solo", False), ("narrow", False)):
            async with core.open_session(SessionCreateInfo(cwd=work, profile=profile)) as session:
                await session.run_turn("hi")
            assert ("spawn_agent" in llm.calls_of(profile)[0].tool_names) is expected, profile


async def test_sub_agents_of_one_response_run_in_parallel(tmp_path, work):
    both_asked = trio.Event()
    asked: set[str] = set()

    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if first_turn(call):
                return tools(
                    ("call_a", "spawn_agent", {"profile": "reviewer", "task": "task A"}),
                    ("call_b", "spawn_agent", {"profile": "reviewer", "task": "task B"}),
                )
            return text("both done")

        def reviewer(call: Call) -> Reply:
            asked.add(call.last_text)
            if len(asked) == 2:
                both_asked.set()

            async def barrier() -> None:
                await both_asked.wait()  # neither child can answer before the other has asked

            return sse_reply(barrier, *oa_text_stream(f"answer to {call.last_text}"))

        llm.route("main", main)
        llm.route("reviewer", reviewer)
        core = llm.core({"main": policy("main", spawn=("reviewer",)), "reviewer": policy("reviewer")})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            with trio.fail_after(WAIT_S):
                await session.run_turn("two reviews please")
        results = llm.calls_of("main")[1].tool_results()
        assert results[0].startswith("answer to task A") and results[1].startswith("answer to task B")


@pytest.mark.parametrize(("max_depth", "child_can_spawn"), [(1, False), (2, True)])
async def test_depth_limit(tmp_path, work, max_depth, child_can_spawn):
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if first_turn(call):
                return tools(("call_w", "spawn_agent", {"profile": "worker", "task": "try to nest"}))
            return text("done")

        llm.route("main", main)
        llm.route("worker", lambda call: text("worked"))
        worker = policy("worker", spawn=("worker",), max_depth=max_depth)
        core = llm.core({"main": policy("main", spawn=("worker",), max_depth=max_depth), "worker": worker})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            await session.run_turn("go")
            assert session.agents.depth == 0
        assert ("spawn_agent" in llm.calls_of("worker")[0].tool_names) is child_can_spawn


async def test_child_asks_become_denies_unless_the_parent_allows(tmp_path, work):
    ran: list[str] = []

    async def danger(args, ctx) -> str:
        ran.append(args["arg"])
        return f"did {args['arg']}"

    danger_tool = FunctionTool(
        "danger",
        "does something risky",
        {"type": "object", "properties": {"arg": {"type": "string"}}, "required": ["arg"]},
        fn=danger,
        safety=Safety.DESTRUCTIVE,
        kind=ToolKind.EXECUTE,
        subject_arg="arg",
    )
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if first_turn(call):
                return tools(("call_c", "spawn_agent", {"profile": "child", "task": "do risky things"}))
            return text("parent done")

        def child(call: Call) -> Reply:
            if first_turn(call):
                return tools(
                    ("c1", "danger", {"arg": "ok-build"}),
                    ("c2", "danger", {"arg": "rm-everything"}),
                    ("c3", "danger", {"arg": "secret-dump"}),
                )
            return text("child done")

        llm.route("main", main)
        llm.route("child", child)
        parent_rules = (
            Rule.parse("danger(ok-*)", RuleAction.ALLOW),
            Rule.parse("danger(secret-*)", RuleAction.DENY),
        )
        # The child's own rules would allow secret-*; the parent's deny rule still holds.
        child_rules = (Rule.parse("danger(secret-*)", RuleAction.ALLOW),)
        core = llm.core(
            {
                "main": policy("main", spawn=("child",), rules=parent_rules),
                "child": policy("child", mode=PermissionMode.ASK, rules=child_rules),
            },
            extra_tools=[danger_tool],
        )
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            await session.run_turn("go")
        assert ran == ["ok-build"]
        ok, asked, denied = llm.calls_of("child")[1].tool_results()
        assert ok == "did ok-build"
        assert "You are a sub-agent and cannot ask the user" in asked
        assert "denied by a permission rule" in denied and "started this sub-agent" in denied
        assert not log.of(PermissionRequested)  # nobody was asked anything


async def test_an_unknown_child_profile_is_an_error_result(tmp_path, work):
    async with open_llm(tmp_path) as llm:

        def main(call: Call) -> Reply:
            if first_turn(call):
                return tools(("call_x", "spawn_agent", {"profile": "ghost", "task": "haunt"}))
            return text("ok")

        llm.route("main", main)
        # "ghost" is listed by the profile but does not resolve.
        core = llm.core({"main": policy("main", spawn=("ghost",))})
        async with core.open_session(SessionCreateInfo(cwd=work)) as session:
            log = EventLog(session.events)
            await session.run_turn("go")
        finished = [e for e in log.of(ToolCallFinished) if e.call_id == "call_x"][0]
        assert finished.result.is_error and "Could not start the ghost sub-agent" in finished.result.text_content
