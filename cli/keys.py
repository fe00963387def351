"""Keystrokes from a terminal in raw mode, and the terminal modes themselves.

``agent chat`` reads the keyboard itself instead of through ``readline``: a
readline call blocks a thread that trio cannot interrupt, and the same key
stream has to serve the line editor, the permission prompt (one key, during a
turn) and Ctrl-C (cancel the turn). In raw mode Ctrl-C arrives as a byte, so
it never becomes a signal that could kill the process mid-render.

A lone Esc and the start of an escape sequence (an arrow key sends
``ESC [ A``) begin with the same byte. :class:`KeyDecoder` keeps an
unfinished sequence and says so (:attr:`KeyDecoder.pending_escape`); when no
further byte arrives within ``ESCAPE_TIMEOUT_S`` the reader calls
:meth:`KeyDecoder.expire`, which turns it into an ``escape`` key. Terminals
send a whole sequence in one write, so only a real Esc press waits that long.
"""

from __future__ import annotations

import codecs
import os
import sys
import termios
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

import attrs
import trio

READ_CHUNK_BYTES = 4096  # one read takes whatever a paste delivered so far
PASTE_START = "\x1b[200~"  # bracketed paste markers (xterm; supported by every modern terminal)
PASTE_END = "\x1b[201~"
BRACKETED_PASTE_ON = "\x1b[?2004h"
BRACKETED_PASTE_OFF = "\x1b[?2004l"
ESCAPE_TIMEOUT_S = 0.05  # after a lone ESC byte: no more bytes within this -> the Esc key (vim's ttimeoutlen)

# Escape sequences (CSI / SS3) for the keys the editor understands.
_SEQUENCES = {
    "[A": "up",
    "[B": "down",
    "[C": "right",
    "[D": "left",
    "[H": "home",
    "[F": "end",
    "OH": "home",
    "OF": "end",
    "OA": "up",
    "OB": "down",
    "OC": "right",
    "OD": "left",
    "[1~": "home",
    "[7~": "home",
    "[4~": "end",
    "[8~": "end",
    "[3~": "delete",
    "[1;5C": "word-right",
    "[1;5D": "word-left",
    "[1;3C": "word-right",
    "[1;3D": "word-left",
    "[Z": "shift-tab",
}
_CONTROL = {
    "\x01": "ctrl-a",
    "\x03": "ctrl-c",
    "\x04": "ctrl-d",
    "\x05": "ctrl-e",
    "\x0b": "ctrl-k",
    "\x0c": "ctrl-l",
    "\x0f": "ctrl-o",
    "\x15": "ctrl-u",
    "\x17": "ctrl-w",
    "\t": "tab",
    "\r": "enter",
    "\n": "enter",
    "\x7f": "backspace",
    "\x08": "backspace",
}


@attrs.frozen
class Key:
    """One keystroke. ``name`` is ``"char"`` for printable text (in ``text``),
    ``"paste"`` for a bracketed paste (its text), ``"eof"`` when input ended,
    otherwise the key's name (``"enter"``, ``"ctrl-c"``, ``"up"`` ...)."""

    name: str
    text: str = ""


class KeyDecoder:
    """Turns raw bytes into :class:`Key` values; keeps partial sequences between reads."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._paste: list[str] | None = None

    def feed(self, data: bytes) -> list[Key]:
        self._pending += self._utf8.decode(data)
        keys: list[Key] = []
        while self._pending:
            if self._paste is not None:
                end = self._pending.find(PASTE_END)
                if end < 0:
                    keep = _partial_suffix(self._pending, PASTE_END)
                    self._paste.append(self._pending[: len(self._pending) - keep])
                    self._pending = self._pending[len(self._pending) - keep :]
                    break
                self._paste.append(self._pending[:end])
                self._pending = self._pending[end + len(PASTE_END) :]
                text = "".join(self._paste).replace("\r\n", "\n").replace("\r", "\n")
                self._paste = None
                keys.append(Key("paste", text))
                continue
            head = self._pending[0]
            if head == "\x1b":
                consumed = self._escape(keys)
                if consumed == 0:
                    break  # an incomplete sequence: wait for the rest
                self._pending = self._pending[consumed:]
                continue
            self._pending = self._pending[1:]
            name = _CONTROL.get(head)
            if name is not None:
                keys.append(Key(name))
            elif head >= " ":
                keys.append(Key("char", head))
        return keys

    @property
    def pending_escape(self) -> bool:
        """An escape sequence has begun and not ended: a lone Esc, if nothing follows in time."""
        return self._paste is None and self._pending.startswith("\x1b")

    def expire(self) -> list[Key]:
        """Nothing followed the pending ESC in time: it was the Esc key; what
        came after it (``ESC [`` typed by hand) is ordinary text."""
        if not self.pending_escape:
            return []
        rest, self._pending = self._pending[1:], ""
        return [Key("escape"), *self.feed(rest.encode())]

    def _escape(self, keys: list[Key]) -> int:
        """Decode the escape sequence at the start of the buffer; 0 if incomplete."""
        text = self._pending
        if text.startswith(PASTE_START):
            self._paste = []
            return len(PASTE_START)
        if PASTE_START.startswith(text):
            return 0
        if len(text) < 2:
            return 0
        second = text[1]
        if second in "\r\n":
            keys.append(Key("alt-enter"))
            return 2
        if second not in "[O":
            keys.append(Key("escape"))
            return 1
        for index in range(2, len(text)):
            if text[index].isalpha() or text[index] == "~":
                keys.append(Key(_SEQUENCES.get(text[1 : index + 1], "unknown")))
                return index + 1
        return 0


def _partial_suffix(text: str, marker: str) -> int:
    """How many trailing characters of ``text`` could begin ``marker``."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


@contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Keys one by one, unechoed, Ctrl-C/Ctrl-Z as bytes; output processing
    (``\\n`` -> ``\\r\\n``) stays on so rich renders as usual."""
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON)
    new[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
    new[6][termios.VMIN] = 1
    new[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSADRAIN, new)
    out = sys.stdout
    out.write(BRACKETED_PASTE_ON)
    out.flush()
    try:
        yield
    finally:
        out.write(BRACKETED_PASTE_OFF)
        out.flush()
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


async def pump_keys(fd: int, send: trio.MemorySendChannel[Key]) -> None:
    """Read ``fd`` (a terminal in raw mode) and send its keys until it closes.

    ``wait_readable`` + ``os.read`` leaves the descriptor blocking: making a
    tty non-blocking would also affect stdout, which shares the open file.
    """
    decoder = KeyDecoder()
    async with send:
        while True:
            if decoder.pending_escape:
                with trio.move_on_after(ESCAPE_TIMEOUT_S) as waited:
                    await trio.lowlevel.wait_readable(fd)
                if waited.cancelled_caught:
                    for key in decoder.expire():
                        await send.send(key)
                    continue
            else:
                await trio.lowlevel.wait_readable(fd)
            data = os.read(fd, READ_CHUNK_BYTES)
            if not data:
                await send.send(Key("eof"))
                return
            for key in decoder.feed(data):
                await send.send(key)


async def pump_lines(send: trio.MemorySendChannel[Key]) -> None:
    """For a piped stdin: every line becomes a paste followed by ``enter``."""
    async with send:
        while True:
            line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
            if not line:
                await send.send(Key("eof"))
                return
            await send.send(Key("line", line.rstrip("\n")))


class KeyQueue:
    """The key channel plus push-back: keys a turn did not use go back to the prompt."""

    def __init__(self, receive: trio.MemoryReceiveChannel[Key]) -> None:
        self._receive = receive
        self._back: deque[Key] = deque()

    async def receive(self) -> Key:
        if self._back:
            await trio.lowlevel.checkpoint()
            return self._back.popleft()
        return await self._receive.receive()

    def unget(self, keys: list[Key]) -> None:
        self._back.extendleft(reversed(keys))

    def __aiter__(self) -> KeyQueue:
        return self

    async def __anext__(self) -> Key:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None
