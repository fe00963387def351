from __future__ import annotations

from agentcore import tokens
from agentcore.history import VecHistory, safe_cut
from agentcore.messages import (
    AssistantMessage,
    MessageKind,
    TextBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    user_text,
)


def _turn(i: int) -> list:
    return [
        user_text(f"question {i}"),
        AssistantMessage((TextBlock("let me look"), ToolUseBlock(f"c{i}", "read_file", {"path": f"f{i}.py"}))),
        ToolResultMessage((ToolResultBlock(f"c{i}", (TextBlock("contents " * 20),)),)),
        AssistantMessage((TextBlock(f"answer {i}"),)),
    ]


def test_token_counts_are_cached_and_totals_incremental():
    h = VecHistory()
    msgs = [m for i in range(3) for m in _turn(i)]
    for m in msgs:
        h.append(m)
    expected = sum(tokens.count_message(m) for m in msgs)
    assert h.total_tokens == expected
    assert [h.message_tokens(i) for i in range(len(h))] == [tokens.count_message(m) for m in msgs]
    status = h.context_status(window=1000, system_tokens=50, tool_tokens=30)
    assert status.used == expected + 80
    assert not status.calibrated
    b = status.breakdown
    assert b.tool_results == sum(tokens.count_message(m) for m in msgs if isinstance(m, ToolResultMessage))
    assert b.system_prompt == 50 and b.tool_schemas == 30
    assert b.total == status.used


def test_calibration_uses_reported_tokens_plus_appended_estimates():
    h = VecHistory(_turn(0))
    h.calibrate(reported_input_tokens=5000, system_tokens=100, tool_tokens=200)
    st = h.context_status(window=10_000, system_tokens=100, tool_tokens=200)
    assert st.calibrated and st.used == 5000
    extra = user_text("and one more thing, please")
    h.append(extra)
    st = h.context_status(window=10_000, system_tokens=100, tool_tokens=200)
    assert st.used == 5000 + tokens.count_message(extra)
    # a changed system prompt shifts the number by the difference
    st = h.context_status(window=10_000, system_tokens=150, tool_tokens=200)
    assert st.used == 5000 + tokens.count_message(extra) + 50
    assert abs(st.ratio - st.used / 10_000) < 1e-9


def test_calibration_for_a_request_that_held_a_prefix():
    msgs = _turn(0)
    h = VecHistory(msgs)
    h.calibrate(reported_input_tokens=900, system_tokens=0, tool_tokens=0, length=3)
    st = h.context_status(window=10_000, system_tokens=0, tool_tokens=0)
    assert st.used == 900 + tokens.count_message(msgs[3])


def test_rewriting_the_calibrated_prefix_drops_calibration():
    h = VecHistory(_turn(0))
    h.calibrate(reported_input_tokens=5000, system_tokens=0, tool_tokens=0)
    h.replace(0, user_text("edited"))
    assert not h.context_status(window=10_000, system_tokens=0, tool_tokens=0).calibrated


def test_fork_is_isolated_both_ways():
    parent = VecHistory(_turn(0))
    child = parent.fork()
    child.append(user_text("child only"))
    parent.append(user_text("parent only"))
    assert [m.text for m in child][-1] == "child only"
    assert [m.text for m in parent][-1] == "parent only"
    assert len(child) == len(parent) == 5
    child.replace(0, user_text("rewritten in child"))
    assert parent[0].text == "question 0"
    parent.truncate(2)
    assert len(child) == 5 and child[3].text == "answer 0"


def test_fork_is_constant_time_and_shares_storage():
    parent = VecHistory([m for i in range(500) for m in _turn(i)])
    child = parent.fork()
    assert child._buf is parent._buf  # shared until someone writes
    child.append(user_text("x"))
    assert len(parent) == 2000


def test_fork_at_never_splits_a_tool_use_from_its_result():
    h = VecHistory(_turn(0) + _turn(1))
    # index 2 would keep the assistant tool_use (index 1) without its result
    assert len(h.fork_at(2)) == 1
    assert len(h.fork_at(3)) == 3
    assert len(h.fork_at(4)) == 4
    assert safe_cut(h.snapshot(), 6) == 5


def test_splice_prefix_keeps_messages_appended_meanwhile():
    h = VecHistory(_turn(0) + _turn(1))
    prefix_len = 4  # what a compaction job read
    h.append(user_text("appended while compacting"))
    summary = user_text("summary of turn 0", kind=MessageKind.SUMMARY)
    h.splice_prefix(prefix_len, [summary])
    assert h[0].kind is MessageKind.SUMMARY
    assert h[-1].text == "appended while compacting"
    assert len(h) == 1 + 4 + 1
    st = h.context_status(window=100_000, system_tokens=0, tool_tokens=0)
    assert st.breakdown.summaries == tokens.count_message(summary)


def test_truncate_rolls_back_and_appends_again():
    h = VecHistory(_turn(0))
    h.truncate(1)
    h.append(user_text("again"))
    assert [type(m).__name__ for m in h] == ["UserMessage", "UserMessage"]
    assert h.total_tokens == sum(h.message_tokens(i) for i in range(len(h)))
