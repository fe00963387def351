"""Transcript turns and windows as values.

A :class:`TranscriptTurn` is one exchange of a conversation: what the user
said (or typed), what the assistant answered, and the tools it used on the
way. A :class:`TranscriptWindow` is the last few turns, rendered the same way
wherever a prompt needs "the conversation so far" (extraction, summaries,
snapshots).

Invariant: both are pure functions of canonical history (``Message`` values);
they never read the backend, so a voice turn, a typed turn and a restored
snapshot produce the same window.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from agentcore.messages import AssistantMessage, Message, MessageKind, ToolResultMessage, UserMessage, thaw_json

DEFAULT_WINDOW_TURNS = 3  # enough for "what was just said" without the whole call
TOOL_RESULT_CHARS = 300  # per tool result in a rendered window


@attrs.frozen
class ToolUse:
    name: str
    arguments: dict[str, Any] = attrs.field(factory=dict)
    result: str = ""
    is_error: bool = False


@attrs.frozen
class TranscriptTurn:
    """One exchange: the user's words (empty when the model spoke first) and the reply."""

    user: str = ""
    reply: str = ""
    tools: tuple[ToolUse, ...] = ()
    context: tuple[str, ...] = ()  # context messages injected during the turn

    @property
    def text(self) -> str:
        """Everything said in the turn, for keyword matching."""
        return f"{self.user}\n{self.reply}"

    def render(self) -> str:
        lines: list[str] = [f"Context: {c}" for c in self.context]
        if self.user:
            lines.append(f"User: {self.user}")
        for tool in self.tools:
            result = tool.result if len(tool.result) <= TOOL_RESULT_CHARS else tool.result[:TOOL_RESULT_CHARS] + " [...]"
            status = " (failed)" if tool.is_error else ""
            lines.append(f"Tool {tool.name}({json.dumps(tool.arguments, ensure_ascii=False)}){status}: {result}")
        if self.reply:
            lines.append(f"Assistant: {self.reply}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TranscriptTurn:
        return cls(
            user=str(data.get("user", "")),
            reply=str(data.get("reply", "")),
            tools=tuple(ToolUse(**t) for t in data.get("tools", ())),
            context=tuple(data.get("context", ())),
        )


def turns_from_history(messages: Sequence[Message]) -> list[TranscriptTurn]:
    """Group canonical history into turns: each user prompt starts one."""
    turns: list[dict[str, Any]] = []
    pending_context: list[str] = []

    def current() -> dict[str, Any]:
        if not turns:
            turns.append({"user": "", "reply": [], "tools": {}, "context": []})
        return turns[-1]

    for message in messages:
        match message:
            case UserMessage(kind=MessageKind.PROMPT):
                turns.append({"user": message.text.strip(), "reply": [], "tools": {}, "context": pending_context})
                pending_context = []
            case UserMessage(kind=MessageKind.CONTEXT | MessageKind.BACKGROUND):
                if turns and not turns[-1]["reply"]:
                    turns[-1]["context"].append(message.text)
                else:
                    pending_context.append(message.text)
            case AssistantMessage():
                turn = current()
                if message.text.strip():
                    turn["reply"].append(message.text.strip())
                for use in message.tool_uses:
                    turn["tools"][use.id] = ToolUse(use.name, dict(thaw_json(use.input)))
            case ToolResultMessage():
                turn = current()
                for result in message.results:
                    use = turn["tools"].get(result.tool_use_id)
                    if use is not None:
                        turn["tools"][result.tool_use_id] = attrs.evolve(use, result=result.text, is_error=result.is_error)
            case _:
                pass
    return [
        TranscriptTurn(t["user"], " ".join(t["reply"]), tuple(t["tools"].values()), tuple(t["context"]))
        for t in turns
    ]


@attrs.frozen
class TranscriptWindow:
    """The latest turns of a conversation, oldest first."""

    turns: tuple[TranscriptTurn, ...] = ()

    @classmethod
    def from_history(cls, messages: Sequence[Message], turns: int = DEFAULT_WINDOW_TURNS) -> TranscriptWindow:
        all_turns = turns_from_history(messages)
        return cls(tuple(all_turns[-turns:]) if turns > 0 else ())

    @property
    def last(self) -> TranscriptTurn | None:
        return self.turns[-1] if self.turns else None

    def render(self) -> str:
        return "\n\n".join(t.render() for t in self.turns)

    def lines(self) -> tuple[str, ...]:
        """``user: ...`` / ``assistant: ...`` lines (the snapshot's summary form)."""
        out: list[str] = []
        for turn in self.turns:
            if turn.user:
                out.append(f"user: {turn.user}")
            if turn.reply:
                out.append(f"assistant: {turn.reply}")
        return tuple(out)
