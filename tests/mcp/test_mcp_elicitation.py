"""A real MCP server asks the user for input (elicitation): the session's
elicitor answers; without one the server is declined, and it goes on."""

from __future__ import annotations

from typing import Any

import trio

from agentcore.mcp import Elicitation, ElicitationAction, ElicitationAnswer, ElicitationMode

from mcp_fakes import stdio_spec

LIMIT_S = 30  # bound on real server starts (imports); never a synchronisation sleep


class Person:
    """An elicitor that records the question and answers as told."""

    def __init__(self, answer: ElicitationAnswer | Exception) -> None:
        self.answer = answer
        self.asked: list[Elicitation] = []

    async def elicit(self, request: Elicitation) -> ElicitationAnswer:
        self.asked.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def _ask(make_core: Any, info: Any, person: Person | None) -> str:
    core, _, _ = make_core([stdio_spec()])
    async with core.open_session(info) as session:
        with trio.fail_after(LIMIT_S):
            await session.mcp.wait_settled()
        session.mcp.elicitor = person
        with trio.fail_after(LIMIT_S):
            result = await session.registry.get("mcp__demo__ask_colour").execute({}, None)
        assert not result.is_error, result.text_content
        return result.text_content


async def test_the_elicitor_answers_a_form(make_core, info) -> None:
    person = Person(ElicitationAnswer(ElicitationAction.ACCEPT, {"colour": "blue"}))
    assert await _ask(make_core, info, person) == "colour: blue"
    [question] = person.asked
    assert question.server == "demo" and question.mode is ElicitationMode.FORM
    assert question.message == "Which colour do you like?"
    assert "colour" in question.requested_schema["properties"]


async def test_without_an_elicitor_the_server_is_declined(make_core, info) -> None:
    assert await _ask(make_core, info, None) == "no colour (decline)"


async def test_a_failing_elicitor_cancels_and_the_call_goes_on(make_core, info) -> None:
    assert await _ask(make_core, info, Person(RuntimeError("the client went away"))) == "no colour (cancel)"
