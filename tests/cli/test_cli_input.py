"""Key decoding, the line editor and the JSON event shapes."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import trio

from agentcore import events as ev
from agentcore.messages import StopReason, Usage, user_text
from agentcore.tools.base import DiffPreview, ToolKind, ToolResult
from agentcore.cli.event_json import EVENT_TYPES, event_to_json
from agentcore.cli.keys import Key, KeyDecoder, KeyQueue
from agentcore.cli.line_editor import InputHistory, LineEditor
from agentcore.cli.custom_commands import CommandCatalog
from agentcore.cli.slash import SlashCommands


def test_decoder_handles_controls_escapes_utf8_and_split_reads() -> None:
    decoder = KeyDecoder()
    keys = decoder.feed(b"a\x1b[A\x03\r\x7f")
    assert keys == [Key("char", "a"), Key("up"), Key("ctrl-c"), Key("enter"), Key("backspace")]
    assert decoder.feed(b"\x1b[") == []  # an escape sequence cut between reads waits for the rest
    assert decoder.feed(b"3~") == [Key("delete")]
    assert decoder.feed("é".encode()[:1]) == []
    assert decoder.feed("é".encode()[1:]) == [Key("char", "é")]


def test_bracketed_paste_is_one_key_even_across_reads() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b[200~line one\r\nline") == []
    assert decoder.feed(b" two\x1b[20") == []
    assert decoder.feed(b"1~x") == [Key("paste", "line one\nline two"), Key("char", "x")]


async def edit(keys: list[Key], *, history: InputHistory | None = None, width: int = 80, completer=None) -> tuple[str | None, str]:
    send, receive = trio.open_memory_channel[Key](len(keys) + 1)
    for key in keys:
        send.send_nowait(key)
    send.close()
    screen: list[str] = []
    editor = LineEditor(write=screen.append, width=lambda: width, history=history or InputHistory(None), completer=completer)
    line = await editor.read(KeyQueue(receive), "> ")
    return line, "".join(screen)


def chars(text: str) -> list[Key]:
    return [Key("char", c) for c in text]


async def test_editing_keys() -> None:
    line, _ = await edit([*chars("helo"), Key("left"), Key("char", "l"), Key("end"), *chars(" world"), Key("enter")])
    assert line == "hello world"
    line, _ = await edit([*chars("one two"), Key("ctrl-w"), *chars("2"), Key("home"), Key("delete"), Key("enter")])
    assert line == "ne 2"
    line, _ = await edit([*chars("abc"), Key("ctrl-u"), *chars("x"), Key("enter")])
    assert line == "x"


async def test_multi_line_by_backslash_alt_enter_and_paste() -> None:
    line, screen = await edit([*chars("first \\"), Key("enter"), *chars("second"), Key("alt-enter"), Key("paste", "a\nb"), Key("enter")])
    assert line == "first \nsecond\na\nb"
    assert "… second" in screen  # continuation lines get their own prompt


async def test_ctrl_c_clears_then_exits_and_ctrl_d_exits_on_empty() -> None:
    line, screen = await edit([*chars("draft"), Key("ctrl-c"), Key("ctrl-c"), Key("ctrl-c")])
    assert line is None and "press Ctrl-C again" in screen
    line, _ = await edit([Key("ctrl-c"), *chars("ok"), Key("ctrl-c"), Key("ctrl-c"), Key("ctrl-d")])
    assert line is None  # typing disarms; the last Ctrl-D on an empty line leaves
    line, _ = await edit([Key("ctrl-d")])
    assert line is None


async def test_history_is_browsed_and_persisted(tmp_path: Path) -> None:
    path = tmp_path / "state" / "input_history"
    history = InputHistory(path)
    assert (await edit([*chars("first"), Key("enter")], history=history))[0] == "first"
    await edit([*chars("multi"), Key("alt-enter"), *chars("line"), Key("enter")], history=history)
    reloaded = InputHistory(path)
    assert reloaded.entries == ["first", "multi\nline"]
    line, _ = await edit([Key("up"), Key("up"), Key("up"), Key("enter")], history=reloaded)
    assert line == "first"  # the second Up moves within the two-line entry, the third goes further back
    line, _ = await edit([*chars("dra"), Key("up"), Key("down"), *chars("ft"), Key("enter")], history=reloaded)
    assert line == "draft"  # coming back down restores what was being typed


async def test_tab_completes_slash_commands_and_modes() -> None:
    commands = SlashCommands.__new__(SlashCommands)
    commands.commands = {name: None for name in ("context", "compact", "cost", "mode", "exit")}  # type: ignore[misc]
    commands.custom = CommandCatalog(user_dir=Path("/nonexistent"), project_dir=None, untrusted_dir=None,
                                     builtin=lambda: (), say=print)  # no custom commands
    line, _ = await edit([*chars("/con"), Key("tab"), Key("enter")], completer=commands.complete)
    assert line == "/context "
    line, screen = await edit([*chars("/co"), Key("tab"), Key("enter")], completer=commands.complete)
    assert line == "/co" and "/compact" in screen and "/cost" in screen  # ambiguous: the choices are listed
    line, _ = await edit([*chars("/mode acc"), Key("tab"), Key("enter")], completer=commands.complete)
    assert line == "/mode accept-edits "


async def test_cursor_math_for_wrapped_lines() -> None:
    # 10 columns: "> " + 8 characters fills the first row exactly; the cursor must go to the next row.
    _, screen = await edit([*chars("abcdefgh"), Key("enter")], width=10)
    assert "\r\n" in screen


def test_every_event_variant_has_a_stable_json_type() -> None:
    variants = set(typing.get_args(ev.AgentEvent))
    assert variants == set(EVENT_TYPES)
    assert len(set(EVENT_TYPES.values())) == len(EVENT_TYPES)


def test_event_json_shapes() -> None:
    diff = DiffPreview("a.py", None, "x = 1\n")
    result = ToolResult.text("ok", raw_output={"exit_code": 0}, diff=diff)
    samples = [
        ev.PromptCommitted("t", user_text("hi")),
        ev.TurnEnded("t", StopReason.END_TURN, Usage(3, 4)),
        ev.ToolCallStarted("t", "c", "bash", "ls", ToolKind.EXECUTE, {"command": "ls"}, diff=diff),
        ev.ToolCallFinished("t", "c", "bash", result, 0.5),
        ev.PlanUpdated((ev.PlanEntry("x"),)),
        ev.McpServerStatus("s", "failed", stderr_tail=("boom",)),
    ]
    shapes = [json.loads(json.dumps(event_to_json(e))) for e in samples]
    assert shapes[0] == {"type": "prompt_committed", "turn_id": "t", "message": {"role": "user", "id": samples[0].message.id, "kind": "prompt", "content": [{"type": "text", "text": "hi"}]}}
    assert shapes[1]["stop_reason"] == "end_turn" and shapes[1]["usage"]["output_tokens"] == 4
    assert shapes[2]["kind"] == "execute" and shapes[2]["raw_input"] == {"command": "ls"} and shapes[2]["diff"]["old_text"] is None
    assert shapes[3]["result"]["raw_output"] == {"exit_code": 0} and shapes[3]["result"]["content"] == [{"type": "text", "text": "ok"}]
    assert shapes[4]["entries"] == [{"content": "x", "status": "pending", "priority": "medium"}]
    assert shapes[5]["stderr_tail"] == ["boom"]
