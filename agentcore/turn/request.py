"""Shaping history into what a provider accepts.

Stored history is never rewritten to please a provider: repairs happen only in
the outgoing copy. An orphan ``tool_use`` (no result followed, e.g. after a
crash between the two) gets a synthetic error result; a result whose call is
missing is dropped. Both vendors reject either case outright.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentcore.messages import (
    AssistantMessage,
    Message,
    TextBlock,
    ToolResultBlock,
    ToolResultMessage,
)

ORPHAN_RESULT = "No result was recorded for this tool call (the session was interrupted)."


def repair_orphans(messages: Sequence[Message]) -> tuple[Message, ...]:
    out: list[Message] = []
    open_calls: list[str] = []  # ids of the last assistant message's tool calls

    def close_open() -> None:
        if open_calls:
            out.append(
                ToolResultMessage(
                    tuple(ToolResultBlock(cid, (TextBlock(ORPHAN_RESULT),), is_error=True) for cid in open_calls)
                )
            )
            open_calls.clear()

    for message in messages:
        if isinstance(message, ToolResultMessage):
            wanted = set(open_calls)
            kept = tuple(r for r in message.results if r.tool_use_id in wanted)
            got = {r.tool_use_id for r in kept}
            missing = tuple(
                ToolResultBlock(cid, (TextBlock(ORPHAN_RESULT),), is_error=True) for cid in open_calls if cid not in got
            )
            open_calls.clear()
            if kept or missing:
                out.append(message if kept == message.results and not missing else ToolResultMessage(kept + missing, id=message.id))
            continue
        close_open()
        out.append(message)
        if isinstance(message, AssistantMessage):
            open_calls.extend(u.id for u in message.tool_uses)
    close_open()
    return tuple(out)
