"""A small line editor for ``agent chat`` that reads :class:`~cli.keys.Key` values.

It does what a chat prompt needs and nothing more: editing and cursor keys,
history (persisted in the state directory), tab completion, multi-line input
(bracketed paste, Alt-Enter, or a trailing backslash), Ctrl-C to clear the
line or — twice on an empty line — to leave, Ctrl-D on an empty line to leave.

The editor redraws its whole input on every key (prompts are short); the only
terminal state it tracks is which row of its area the cursor is on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.cells import cell_len

from agentcore.private_files import open_private, replace_private_text
from agentcore.cli.keys import Key, KeyQueue

HISTORY_MAX_ENTRIES = 1000  # plenty for recall, keeps the file small
TAB_WIDTH = 4  # how a tab inside pasted text is shown
CONTINUATION_PROMPT = "… "
EXIT_HINT = "(press Ctrl-C again or Ctrl-D to exit)"
COMPLETIONS_LISTED = 20  # candidates printed under the prompt when Tab cannot choose one

Completer = Callable[[str], Sequence[str]]


class InputHistory:
    """Entries oldest first; stored one JSON string per line (entries may span lines)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: list[str] = []
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a damaged line loses one entry, not the history
                if isinstance(entry, str):
                    self.entries.append(entry)
            self.entries = self.entries[-HISTORY_MAX_ENTRIES:]

    def add(self, entry: str) -> None:
        if not entry.strip() or (self.entries and self.entries[-1] == entry):
            return
        self.entries.append(entry)
        if self.path is None:
            return
        # Prompts may quote secrets: the file is the user's alone (0600 in a 0700 directory).
        if len(self.entries) > HISTORY_MAX_ENTRIES:
            self.entries = self.entries[-HISTORY_MAX_ENTRIES:]
            replace_private_text(self.path, "".join(json.dumps(e) + "\n" for e in self.entries))
        else:
            with open_private(self.path, "a") as out:
                out.write(json.dumps(entry) + "\n")


def _show(text: str) -> str:
    return text.replace("\t", " " * TAB_WIDTH)


class LineEditor:
    def __init__(
        self,
        *,
        write: Callable[[str], None],
        width: Callable[[], int],
        history: InputHistory,
        completer: Completer | None = None,
    ) -> None:
        self._write = write
        self._width = width
        self.history = history
        self._completer = completer
        self._buf = ""
        self._pos = 0
        self._row = 0  # the cursor's row within the editor area
        self._prompt = ""
        self._prompt_cells = 0
        self.on_key: Callable[[Key], None] | None = None  # keys the editor leaves to the chat

    # ----------------------------------------------------------- reading

    async def read(
        self, keys: KeyQueue, prompt: str, *, prompt_cells: int | None = None, initial: str = ""
    ) -> str | None:
        """One line of input; None when the user leaves (Ctrl-D, Ctrl-C twice, end of input).
        ``initial`` is text already in the line, the cursor after it (``/edit``)."""
        self._prompt = prompt
        self._prompt_cells = cell_len(prompt) if prompt_cells is None else prompt_cells
        self._buf, self._pos, self._row = initial, len(initial), 0
        browse = len(self.history.entries)  # index into history while browsing; len = the new line
        draft = ""
        armed = False  # one Ctrl-C on an empty line arms exit
        self._redraw()
        async for key in keys:
            if key.name != "ctrl-c":
                armed = False
            match key.name:
                case "line":  # a whole line from a non-terminal input
                    return key.text
                case "enter":
                    if self._buf.endswith("\\") and self._pos == len(self._buf):
                        self._insert_text("\n", replace_last=True)
                        continue
                    return self._accept()
                case "alt-enter":
                    self._insert_text("\n")
                case "char" | "paste":
                    self._insert_text(key.text)
                case "eof":
                    self._finish_line()
                    return None
                case "ctrl-d":
                    if not self._buf:
                        self._finish_line()
                        return None
                    self._delete_forward()
                case "ctrl-c":
                    if self._buf:
                        self._finish_line("^C")
                        self._buf, self._pos, self._row = "", 0, 0
                        browse = len(self.history.entries)
                        self._redraw()
                    elif armed:
                        self._finish_line()
                        return None
                    else:
                        armed = True
                        self._finish_line(f"^C {EXIT_HINT}")
                        self._redraw()
                case "backspace":
                    if self._pos > 0:
                        self._buf = self._buf[: self._pos - 1] + self._buf[self._pos :]
                        self._pos -= 1
                        self._redraw()
                case "delete":
                    self._delete_forward()
                case "left":
                    self._move(max(0, self._pos - 1))
                case "right":
                    self._move(min(len(self._buf), self._pos + 1))
                case "word-left":
                    self._move(self._word_start(self._pos))
                case "word-right":
                    self._move(self._word_end(self._pos))
                case "home" | "ctrl-a":
                    self._move(self._buf.rfind("\n", 0, self._pos) + 1)
                case "end" | "ctrl-e":
                    nl = self._buf.find("\n", self._pos)
                    self._move(len(self._buf) if nl < 0 else nl)
                case "ctrl-u":
                    start = self._buf.rfind("\n", 0, self._pos) + 1
                    self._buf = self._buf[:start] + self._buf[self._pos :]
                    self._pos = start
                    self._redraw()
                case "ctrl-k":
                    nl = self._buf.find("\n", self._pos)
                    self._buf = self._buf[: self._pos] + (self._buf[nl:] if nl >= 0 else "")
                    self._redraw()
                case "ctrl-w":
                    start = self._word_start(self._pos)
                    self._buf = self._buf[:start] + self._buf[self._pos :]
                    self._pos = start
                    self._redraw()
                case "ctrl-l":
                    self._write("\x1b[2J\x1b[H")
                    self._row = 0
                    self._redraw()
                case "up" | "down":
                    line_start = self._buf.rfind("\n", 0, self._pos) + 1
                    if key.name == "up" and line_start > 0:
                        self._vertical(-1)
                    elif key.name == "down" and self._buf.find("\n", self._pos) >= 0:
                        self._vertical(1)
                    else:
                        entries = self.history.entries
                        if browse == len(entries):
                            draft = self._buf
                        browse = max(0, browse - 1) if key.name == "up" else min(len(entries), browse + 1)
                        self._buf = entries[browse] if browse < len(entries) else draft
                        self._pos = len(self._buf)
                        self._redraw()
                case "tab":
                    self._complete()
                case _:
                    # Keys the editor does not use (Ctrl-O, Shift-Tab, Esc) go to the chat; the rest are dropped.
                    if self.on_key is not None:
                        self.on_key(key)
        self._finish_line()
        return None

    def _accept(self) -> str:
        line = self._buf
        self._finish_line()
        self.history.add(line)
        return line

    # ----------------------------------------------------------- editing

    def _insert_text(self, text: str, *, replace_last: bool = False) -> None:
        if replace_last:
            self._buf, self._pos = self._buf[:-1], self._pos - 1
        self._buf = self._buf[: self._pos] + text + self._buf[self._pos :]
        self._pos += len(text)
        self._redraw()

    def _delete_forward(self) -> None:
        if self._pos < len(self._buf):
            self._buf = self._buf[: self._pos] + self._buf[self._pos + 1 :]
            self._redraw()

    def _move(self, pos: int) -> None:
        self._pos = pos
        self._redraw()

    def _vertical(self, step: int) -> None:
        start = self._buf.rfind("\n", 0, self._pos) + 1
        column = self._pos - start
        if step < 0:
            prev_start = self._buf.rfind("\n", 0, start - 1) + 1
            self._pos = min(prev_start + column, start - 1)
        else:
            next_start = self._buf.find("\n", self._pos) + 1
            next_end = self._buf.find("\n", next_start)
            self._pos = min(next_start + column, len(self._buf) if next_end < 0 else next_end)
        self._redraw()

    def _word_start(self, pos: int) -> int:
        while pos > 0 and self._buf[pos - 1].isspace():
            pos -= 1
        while pos > 0 and not self._buf[pos - 1].isspace():
            pos -= 1
        return pos

    def _word_end(self, pos: int) -> int:
        n = len(self._buf)
        while pos < n and self._buf[pos].isspace():
            pos += 1
        while pos < n and not self._buf[pos].isspace():
            pos += 1
        return pos

    def _complete(self) -> None:
        if self._completer is None:
            return
        before = self._buf[: self._pos]
        options = list(self._completer(before))
        if not options:
            return
        common = os.path.commonprefix(options)
        if len(options) == 1:
            # A directory (`@src/`) is completed further, so no space closes it.
            common = options[0] + ("" if options[0].endswith((" ", "/")) else " ")
        if len(common) > len(before):
            self._buf = common + self._buf[self._pos :]
            self._pos = len(common)
            self._redraw()
            return
        shown = [o.rsplit(" ", 1)[-1] for o in options[:COMPLETIONS_LISTED]]
        more = len(options) - len(shown)
        listing = "  ".join(shown) + (f"  (+{more} more)" if more > 0 else "")
        self._finish_line(listing, keep_input=True)
        self._redraw()

    # ----------------------------------------------------------- drawing

    def _layout(self, upto: int) -> tuple[int, int]:
        """(row, column) of the cell after ``self._buf[:upto]`` within the editor area."""
        width = max(1, self._width())
        lines = self._buf[:upto].split("\n")
        row = 0
        for index, line in enumerate(lines):
            cells = (self._prompt_cells if index == 0 else len(CONTINUATION_PROMPT)) + cell_len(_show(line))
            if index < len(lines) - 1:
                row += cells // width + 1 if cells % width or cells == 0 else cells // width
            else:
                return row + cells // width, cells % width
        return row, 0

    def _redraw(self) -> None:
        out = []
        if self._row:
            out.append(f"\x1b[{self._row}A")
        out.append("\r\x1b[J")
        lines = self._buf.split("\n")
        out.append(self._prompt + _show(lines[0]))
        for line in lines[1:]:
            out.append("\r\n" + CONTINUATION_PROMPT + _show(line))
        end_row, end_col = self._layout(len(self._buf))
        if end_col == 0 and (len(lines) > 1 or self._buf or self._prompt_cells):
            out.append("\r\n")  # leave the terminal's pending-wrap state at the line end
            out.append("\x1b[K")
        row, col = self._layout(self._pos)
        if end_row > row:
            out.append(f"\x1b[{end_row - row}A")
        out.append("\r")
        if col:
            out.append(f"\x1b[{col}C")
        self._row = row
        self._write("".join(out))

    def _finish_line(self, note: str = "", *, keep_input: bool = False) -> None:
        """Move below the input (optionally printing ``note``) so output can follow."""
        end_row, _ = self._layout(len(self._buf))
        down = end_row - self._row
        self._write((f"\x1b[{down}B" if down > 0 else "") + "\r\n" + (note + "\r\n" if note else ""))
        self._row = 0
        if keep_input:
            return

    def print_above(self, show: Callable[[], None]) -> None:
        """Print something while the prompt is on screen: clear it, print, redraw it."""
        self._write((f"\x1b[{self._row}A" if self._row else "") + "\r\x1b[J")
        self._row = 0
        show()
        self._redraw()
