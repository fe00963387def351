"""``/rewind``, ``/edit`` and ``/diff`` in ``agent chat``.

* ``/rewind`` lists the turns (number, first line of the prompt, files changed);
  ``/rewind N [code|conversation|both]`` goes back to just before prompt N:
  files put back (those changed since by someone else are kept and named), and
  the conversation continues in a fork (the original stays, ``/resume`` it).
* ``/edit [N]`` (default: the last prompt) puts prompt N in the input line to
  edit; Enter continues from there in a fork with the new text, an empty line
  or Ctrl-C leaves everything as it was.
* ``/diff`` shows what the session changed, file by file, as unified diffs.

Invariant: the chat's session changes only by ``switch_session`` to a fork; the
session rewound from is never rewritten.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from agentcore.checkpoints import LiveRewind, RewindScope
from agentcore.errors import AgentcoreError

EDIT_PROMPT = "edit› "
FILES_LISTED = 4  # per turn in /rewind's list; the rest is counted
USAGE = "/rewind N [code|conversation|both]"


def _say(chat: Any, text: str, style: str = "") -> None:
    chat.console.print(Text(text, style=style))


def _rewinder(chat: Any) -> LiveRewind:
    return LiveRewind(chat.app.core, chat.session)


async def rewind(chat: Any, arg: str) -> bool:
    words = arg.split()
    try:
        rewinder = _rewinder(chat)
        if not words:
            _list(chat, rewinder)
            return True
        if not words[0].isdigit() or len(words) > 2 or (len(words) == 2 and words[1] not in {s.value for s in RewindScope}):
            _say(chat, f"usage: {USAGE}", "yellow")
            return True
        scope = RewindScope(words[1]) if len(words) == 2 else RewindScope.BOTH
        result = await rewinder.rewind(int(words[0]), scope)
    except AgentcoreError as exc:
        _say(chat, f"/rewind: {exc}", "red")
        return True
    report = result.report
    if report is not None:
        for path in report.restored:
            _say(chat, f"  restored {path}", "green")
        for path in report.deleted:
            _say(chat, f"  deleted  {path}", "green")
        for path, why in report.kept:
            _say(chat, f"  kept     {path}: {why}", "yellow")
        if not report.changed and not report.kept:
            _say(chat, "  no files to restore", "dim")
            _problem(chat)
    if result.session_id is not None:
        source = chat.session.id
        await chat.switch_session(chat.app.session_info(session_id=result.session_id))
        _say(chat, f"rewound to before turn {result.turn.number} in {result.session_id}; /resume {source} goes back", "dim")
    return True


def _problem(chat: Any) -> None:
    problem = getattr(chat.session.checkpoints, "problem", None)
    if problem:
        _say(chat, f"checkpoints are not working in this session: {problem}", "yellow")


def _list(chat: Any, rewinder: LiveRewind) -> None:
    _problem(chat)
    rows = rewinder.turns()
    if not rows:
        _say(chat, "no turns yet")
        return
    for row in rows:
        files = ", ".join(row.files[:FILES_LISTED]) + (f" +{len(row.files) - FILES_LISTED}" if len(row.files) > FILES_LISTED else "")
        line = Text(f"{row.number:>3}  ", style="bold")
        line.append(row.prompt or "(empty)")
        if files:
            line.append(f"  [{files}]", style="cyan")
        chat.console.print(line)
    _say(chat, f"{USAGE}: go back to just before that prompt", "dim")


async def edit(chat: Any, arg: str) -> bool:
    try:
        rewinder = _rewinder(chat)
        rows = rewinder.turns()
        if not rows:
            _say(chat, "/edit: no prompt to edit yet", "yellow")
            return True
        if arg and not arg.isdigit():
            _say(chat, "usage: /edit [N]", "yellow")
            return True
        number = int(arg) if arg else len(rows)
        row = rewinder.checkpoints.turn(list(chat.session.history), number)
        old = _prompt_text(chat, row.message_index)
        text = await _read_edited(chat, old)
        if text is None or not text.strip() or text == old:
            _say(chat, "/edit: nothing changed", "dim")
            return True
        fork = rewinder.edit(number, text)
    except AgentcoreError as exc:
        _say(chat, f"/edit: {exc}", "red")
        return True
    source = chat.session.id
    await chat.switch_session(chat.app.session_info(session_id=fork.session_id))
    _say(chat, f"editing turn {number} in {fork.session_id}; /resume {source} goes back", "dim")
    await chat.run_turn(fork.prompt.text)
    return True


def _prompt_text(chat: Any, index: int) -> str:
    return chat.session.history[index].text


async def _read_edited(chat: Any, old: str) -> str | None:
    editor = getattr(chat, "editor", None)
    if editor is None:  # not a terminal: the next input line is the new text
        _say(chat, f"editing: {old}", "dim")
        async for key in chat.keys:
            if key.name == "line":
                return key.text
            if key.name == "eof":
                return None
        return None
    return await editor.read(chat.keys, EDIT_PROMPT, initial=old)


async def diff(chat: Any, arg: str) -> bool:
    try:
        diffs = await _rewinder(chat).diff()
    except AgentcoreError as exc:
        _say(chat, f"/diff: {exc}", "red")
        return True
    if not diffs:
        _say(chat, "no changes by this session")
        return True
    color = getattr(chat.renderer, "color", True)
    for file_diff in diffs:
        chat.console.print(Text(f"{file_diff.status} {file_diff.path}", style="bold"))
        if color:
            from rich.syntax import Syntax

            chat.console.print(Syntax(file_diff.text, "diff", theme="ansi_dark", background_color="default", word_wrap=True))
        else:
            chat.console.print(Text(file_diff.text))
    return True
