"""The key decoder's Esc logic (its own pending state, no clock: the reader's
timeout calls ``expire``) and the resume preview, as pure functions."""

from __future__ import annotations

from agentcore.messages import AssistantMessage, MessageKind, TextBlock, ToolResultBlock, ToolResultMessage, ToolUseBlock, UserMessage
from agentcore.cli.keys import Key, KeyDecoder
from agentcore.cli.resume_view import exchanges, resume_preview
from rich.console import Console


def test_a_lone_esc_waits_then_expires_into_the_escape_key() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b") == [] and decoder.pending_escape
    assert decoder.expire() == [Key("escape")]
    assert not decoder.pending_escape and decoder.expire() == []


def test_a_sequence_split_across_reads_is_one_key_not_esc() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b") == []
    assert decoder.feed(b"[A") == [Key("up")]
    assert decoder.feed(b"\x1b[") == [] and decoder.pending_escape
    assert decoder.feed(b"Z\x0f") == [Key("shift-tab"), Key("ctrl-o")]


def test_esc_then_a_typed_bracket_expires_as_esc_and_text() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b[") == []
    assert decoder.expire() == [Key("escape"), Key("char", "[")]
    assert decoder.feed(b"\x1b\x1b") == [Key("escape")]  # Esc Esc: the first is known at once
    assert decoder.expire() == [Key("escape")]


def test_a_paste_is_never_an_escape_in_waiting() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b[200~a\x1b") == [] and not decoder.pending_escape
    assert decoder.feed(b"b\x1b[201~") == [Key("paste", "a\x1bb")]


def _conversation() -> list:
    call = ToolUseBlock("c1", "bash", {"command": "git status --short"})
    return [
        UserMessage((TextBlock("old question"),)),
        AssistantMessage((TextBlock("old answer"),)),
        UserMessage((TextBlock("summary of earlier work"),), kind=MessageKind.SUMMARY),
        UserMessage((TextBlock("what changed?\nsecond line"),)),
        AssistantMessage((TextBlock("Let me look."), call)),
        ToolResultMessage((ToolResultBlock("c1", (TextBlock(" M app.py"),)),)),
        AssistantMessage((TextBlock("Only   app.py\nchanged. " + "x" * 400),)),
    ]


def test_resume_preview_shows_the_last_exchanges_briefly() -> None:
    shown = exchanges(_conversation(), 1)
    assert [e.prompt for e in shown] == ["what changed?"]
    assert shown[0].tools == ["bash git status --short"] and shown[0].answer.startswith("Only")
    console = Console(record=True, width=100)
    console.print(resume_preview(_conversation()))
    text = console.export_text()
    assert "› old question" in text and "› what changed?" in text and "second line" not in text
    assert "summary of earlier work" not in text  # only prompts a person typed start an exchange
    assert "• bash git status --short" in text and "Only app.py changed." in text and "x" * 300 not in text
    assert resume_preview([]) is None
