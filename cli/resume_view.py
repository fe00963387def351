"""What a resumed chat shows of the conversation it continues.

:func:`resume_preview` is pure (messages in, a rich renderable out): the last
few exchanges, each a typed prompt, the tool calls the model made for it (one
line each: the tool and its main argument) and the start of its answer. Only
prompts a person typed start an exchange; summaries, background outcomes and
injected context are not shown, and nothing is ever printed whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from rich.console import Group, RenderableType
from rich.text import Text

from agentcore.messages import AssistantMessage, Message, MessageKind, ToolUseBlock, UserMessage

RESUME_EXCHANGES = 3  # the last prompts shown, with what the model did about them
PROMPT_CHARS = 120  # of a prompt's first line
ANSWER_CHARS = 200  # of an answer, whitespace folded
TOOL_ARGUMENT_CHARS = 80  # of a tool call's main argument
TOOL_LINES = 4  # tool calls listed per exchange; the rest are counted
# Arguments that say what a call is about, in order of preference.
MAIN_ARGUMENTS = ("command", "path", "file_path", "pattern", "query", "url", "prompt", "task", "plan")


@attrs.define
class _Exchange:
    prompt: str
    tools: list[str] = attrs.field(factory=list)
    answer: str = ""


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tool_line(call: ToolUseBlock) -> str:
    """``name argument``: the call's main argument, shortened."""
    args: Mapping[str, Any] = call.input
    for key in MAIN_ARGUMENTS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return f"{call.name} {_short(value, TOOL_ARGUMENT_CHARS)}"
    return call.name


def exchanges(messages: Sequence[Message], count: int = RESUME_EXCHANGES) -> list[_Exchange]:
    """The last ``count`` exchanges, oldest first."""
    found: list[_Exchange] = []
    for message in messages:
        match message:
            case UserMessage(kind=MessageKind.PROMPT):
                first = message.text.strip().splitlines()
                found.append(_Exchange(_short(first[0], PROMPT_CHARS) if first else "(an image or attachment)"))
            case AssistantMessage() if found:
                found[-1].tools += [tool_line(call) for call in message.tool_uses]
                if message.text.strip():
                    found[-1].answer = message.text  # the last words of the exchange are its answer
            case _:
                pass
    return found[-count:] if count > 0 else []


def resume_preview(messages: Sequence[Message], *, count: int = RESUME_EXCHANGES) -> RenderableType | None:
    """The last exchanges of a resumed conversation; None when it has none."""
    shown = exchanges(messages, count)
    if not shown:
        return None
    parts: list[RenderableType] = [Text("── earlier in this session ──", style="dim")]
    for exchange in shown:
        parts.append(Text(f"› {exchange.prompt}", style="bold"))
        for line in exchange.tools[:TOOL_LINES]:
            parts.append(Text(f"  • {line}", style="dim"))
        if len(exchange.tools) > TOOL_LINES:
            parts.append(Text(f"  • … {len(exchange.tools) - TOOL_LINES} more tool calls", style="dim"))
        if exchange.answer:
            parts.append(Text(f"  {_short(exchange.answer, ANSWER_CHARS)}"))
    parts.append(Text("──", style="dim"))
    return Group(*parts)
