"""Helpers shared by the live-layer tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentcore import AgentCoreBuilder, SessionCreateInfo
from agentcore.frontend import Frontend
from agentcore.live.audio import Pcm, silence, tone
from agentcore.messages import AssistantMessage, MessageKind, ToolResultMessage, UserMessage


def speech_pattern(segments: Sequence[tuple[str, int]], rate: int = 24_000) -> Pcm:
    """Input audio from ("speech"|"silence", ms) segments; speech is a loud tone."""
    data = b"".join(tone(ms, rate) if kind == "speech" else silence(ms, rate) for kind, ms in segments)
    return Pcm(data, rate)


def build_core(tmp_path: Path, *, tools: Sequence[Any] = ()) -> Any:
    return AgentCoreBuilder().without_builtin_tools().with_tools(tools).with_state_dir(tmp_path / "state").build()


def voice_info(tmp_path: Path) -> SessionCreateInfo:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return SessionCreateInfo(cwd=work, frontend=Frontend.voice(), interactive=False)


def transcript(history: Any) -> list[tuple[str, str]]:
    """History as (role, text) pairs; tool traffic as ("tool_use"|"tool_result", name-or-text)."""
    rows: list[tuple[str, str]] = []
    for message in history.snapshot():
        match message:
            case UserMessage(kind=MessageKind.PROMPT):
                rows.append(("user", message.text))
            case UserMessage():
                rows.append((message.kind.value, message.text))
            case AssistantMessage():
                if message.text:
                    rows.append(("assistant", message.text))
                rows += [("tool_use", u.name) for u in message.tool_uses]
            case ToolResultMessage():
                rows += [("tool_result", r.text) for r in message.results]
    return rows
