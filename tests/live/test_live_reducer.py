"""TranscriptReducer: the only writer of voice turns into history."""

from __future__ import annotations

import pytest

from agentcore.events import HistoryRolledBack, MessageAppended
from agentcore.history import VecHistory
from agentcore.live.events import ResponseStatus
from agentcore.live.reducer import TranscriptReducer, heard_prefix
from agentcore.messages import AssistantMessage, TextBlock, ToolResultMessage, UserMessage
from live_helpers import transcript


@pytest.fixture
def journal():
    events: list = []

    async def emit(event) -> None:
        events.append(event)

    return events, emit


def _reducer(journal, **kw):
    events, emit = journal
    history = VecHistory()
    return history, TranscriptReducer(history, emit, model="rt", **kw), events


def test_heard_prefix_never_ends_mid_word():
    text = "one two three four"
    assert heard_prefix(text, 0, 1000) == ""
    assert heard_prefix(text, 1000, 1000) == text
    assert heard_prefix(text, 500, 1000) == "one two"  # cut at char 9 ("one two t|hree") -> back to a word end
    assert heard_prefix(text, 100, 1000) == ""  # "o" is not a word yet
    assert heard_prefix(text, 2000, 1000) == text


async def test_user_finals_are_keyed_and_ordered_before_answers(journal):
    history, reducer, events = _reducer(journal)
    reducer.expect_user("item_u1")
    reducer.start_response("resp_1")
    reducer.assistant_delta("resp_1", "item_a1", 0, "Hi ", "e1")
    reducer.assistant_delta("resp_1", "item_a1", 0, "there", "e2")
    await reducer.finish_response("resp_1", ResponseStatus.COMPLETED)
    assert len(history) == 0  # the answer waits for the late transcript of the question
    assert await reducer.user_final("item_u1", 0, "hello")
    assert not await reducer.user_final("item_u1", 0, "hello")  # a repeat is ignored
    assert transcript(history) == [("user", "hello"), ("assistant", "Hi there")]
    assert [type(e) for e in events] == [MessageAppended, MessageAppended]
    assert not reducer.pending


async def test_deltas_are_deduplicated_and_finals_repair_gaps(journal):
    history, reducer, _ = _reducer(journal)
    reducer.start_response("r")
    for eid, text in (("e1", "a "), ("e1", "a "), ("e3", "c")):
        reducer.assistant_delta("r", "i", 0, text, eid)
    assert reducer.response_text("r") == "a c"
    reducer.assistant_final("r", "i", 0, "a b c")
    await reducer.finish_response("r", ResponseStatus.COMPLETED)
    assert transcript(history) == [("assistant", "a b c")]


async def test_cancelled_unheard_response_is_discarded(journal):
    history, reducer, events = _reducer(journal)
    reducer.start_response("r")
    reducer.assistant_delta("r", "i", 0, "never heard", "e1")
    await reducer.finish_response("r", ResponseStatus.CANCELLED)
    assert len(history) == 0 and events == []


async def test_truncation_before_done_keeps_the_heard_prefix(journal):
    history, reducer, _ = _reducer(journal)
    reducer.start_response("r")
    reducer.assistant_delta("r", "i", 0, "one two three four", "e1")
    assert await reducer.truncate("i", 0, 500, 1000) == "one two"
    reducer.assistant_delta("r", "i", 0, " five", "e2")  # generated after the barge-in: unheard
    await reducer.finish_response("r", ResponseStatus.CANCELLED)
    assert transcript(history) == [("assistant", "one two")]


async def test_truncation_after_commit_rewrites_the_message(journal):
    history, reducer, events = _reducer(journal)
    reducer.start_response("r")
    reducer.assistant_final("r", "i", 0, "one two three four")
    await reducer.finish_response("r", ResponseStatus.COMPLETED)
    original = history[0]
    await reducer.truncate("i", 0, 500, 1000)
    assert transcript(history) == [("assistant", "one two")]
    assert history[0].id == original.id  # the same message, now saying what was heard
    assert [type(e) for e in events] == [MessageAppended, HistoryRolledBack, MessageAppended]


async def test_tool_results_follow_their_call_even_if_the_user_spoke(journal):
    history, reducer, _ = _reducer(journal)
    reducer.start_response("r")
    reducer.tool_call("r", "call_1", "lookup", '{"q": "x"}')
    reducer.expect_user("item_u2")  # the user kept talking while the tool ran
    calls = await reducer.finish_response("r", ResponseStatus.COMPLETED)
    assert [c.id for c in calls] == ["call_1"] and dict(calls[0].input) == {"q": "x"}
    await reducer.user_final("item_u2", 0, "and also")
    await reducer.tool_result("call_1", (TextBlock("found"),))
    rows = transcript(history)
    assert rows == [("tool_use", "lookup"), ("tool_result", "found"), ("user", "and also")]
    assert isinstance(history[1], ToolResultMessage)


async def test_close_resolves_everything_so_tool_uses_get_results(journal):
    history, reducer, _ = _reducer(journal)
    reducer.expect_user("u")
    reducer.start_response("r")
    reducer.tool_call("r", "c", "slow", "{}")
    await reducer.finish_response("r", ResponseStatus.COMPLETED)
    await reducer.close()
    kinds = [type(m) for m in history]
    assert kinds == [AssistantMessage, ToolResultMessage]
    assert history[1].results[0].is_error


async def test_external_writer_only_reconciles_barge_in(journal):
    history, reducer, events = _reducer(journal, external_writer=True)
    written = AssistantMessage((TextBlock("one two three four"),))
    history.append(UserMessage((TextBlock("q"),)))
    history.append(written)
    reducer.start_response("r")
    reducer.assistant_delta("r", "i", 0, "one two three four")
    assert await reducer.user_final("u", 0, "q")  # the session wrote it; nothing to do
    await reducer.truncate("i", 0, 500, 1000)
    await reducer.finish_response("r", ResponseStatus.CANCELLED, message_ids=(written.id,))
    assert transcript(history) == [("user", "q"), ("assistant", "one two")]
    assert all(not isinstance(e, MessageAppended) or e.message.text == "one two" for e in events)
