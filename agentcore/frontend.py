"""Which frontend a session serves. It shapes the environment section of the
system prompt and tells the builder which backends the caller wires in."""

from __future__ import annotations

import enum

import attrs


class FrontendKind(enum.Enum):
    CLI = "cli"
    ACP = "acp"
    VOICE = "voice"
    LIBRARY = "library"


@attrs.frozen
class Frontend:
    kind: FrontendKind
    fs_delegated: bool = False  # ACP: file reads/writes go through the editor
    shell_delegated: bool = False  # ACP: commands run in the editor's terminals

    @classmethod
    def cli(cls) -> Frontend:
        return cls(FrontendKind.CLI)

    @classmethod
    def acp(cls, *, fs_delegated: bool = False, shell_delegated: bool = False) -> Frontend:
        return cls(FrontendKind.ACP, fs_delegated, shell_delegated)

    @classmethod
    def voice(cls) -> Frontend:
        return cls(FrontendKind.VOICE)

    @classmethod
    def library(cls) -> Frontend:
        return cls(FrontendKind.LIBRARY)

    def describe(self) -> str:
        match self.kind:
            case FrontendKind.CLI:
                return "terminal chat (agent chat); answers are rendered as Markdown"
            case FrontendKind.ACP:
                extras = [n for n, on in (("editor file access", self.fs_delegated), ("editor terminals", self.shell_delegated)) if on]
                return "a code editor over the Agent Client Protocol" + (f" ({', '.join(extras)})" if extras else "")
            case FrontendKind.VOICE:
                return "a live voice conversation; keep answers short and speakable, no Markdown"
            case FrontendKind.LIBRARY:
                return "embedded in a program through the agentcore library"
