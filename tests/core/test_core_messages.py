from __future__ import annotations

import json

import pytest

from agentcore.messages import (
    AssistantMessage,
    ImageBlock,
    MessageKind,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    Usage,
    UserMessage,
    message_from_dict,
    message_to_dict,
)


def test_codec_round_trips_every_block_through_json():
    msgs = [
        UserMessage((TextBlock("hi"), ImageBlock("image/png", "aGk=")), kind=MessageKind.PROMPT),
        AssistantMessage(
            (ThinkingBlock("hmm", signature="sig=="), TextBlock("ok"), ToolUseBlock("c1", "bash", {"command": "ls", "n": [1, 2]})),
            model="m",
            usage=Usage(1, 2, 3, 4, 5),
        ),
        ToolResultMessage((ToolResultBlock("c1", (TextBlock("out"),), is_error=True),)),
        UserMessage((TextBlock("summary"),), kind=MessageKind.SUMMARY),
    ]
    for m in msgs:
        again = message_from_dict(json.loads(json.dumps(message_to_dict(m))))
        assert again == m


def test_messages_are_immutable_including_tool_input():
    block = ToolUseBlock("c1", "bash", {"command": "ls", "opts": {"a": 1}})
    with pytest.raises(TypeError):
        block.input["command"] = "rm -rf /"  # type: ignore[index]
    with pytest.raises(TypeError):
        block.input["opts"]["a"] = 2  # type: ignore[index]


def test_usage_adds_and_reports_prompt_tokens():
    u = Usage(10, 5, cache_read_tokens=100, cache_write_tokens=7) + Usage(1, 1)
    assert u == Usage(11, 6, 100, 7, 0)
    assert u.prompt_tokens == 118
