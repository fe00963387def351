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


def test_image_blocks_are_checked_on_construction():
    import base64

    import pytest

    from agentcore.messages import IMAGE_MAX_BYTES, ImageBlock, InvalidImage, block_from_dict

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()
    assert ImageBlock("image/png", png).data == png
    with pytest.raises(InvalidImage, match="not valid base64"):
        ImageBlock("image/png", "not base64 at all!")
    with pytest.raises(InvalidImage, match="must be one of"):
        ImageBlock("image/svg+xml", png)
    with pytest.raises(InvalidImage, match="over 20 MB"):
        ImageBlock("image/png", "A" * (IMAGE_MAX_BYTES // 3 * 4 + 8))
    # A session recorded before images were checked still loads: the block becomes a note.
    old = block_from_dict({"type": "image", "media_type": "image/png", "data": "%%%"})
    assert old.text == "[an image that cannot be sent: the image data is not valid base64]"
