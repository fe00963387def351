"""Drive a real ``agent`` process through a pseudo-terminal.

The child gets the pty's slave end as stdin, stdout and stderr, so it sees a
terminal exactly as a person's shell would give it one. The test reads the
master end with a deadline and waits for the text it expects (ANSI escape
sequences removed) — never for a fixed time.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import sys
import subprocess
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

import trio

AGENT = Path(sys.executable).parent / "agent"  # the console script of the venv running the tests
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]|\x1b\][^\x07]*\x07|\r")
EXPECT_TIMEOUT_S = 15.0  # generous for a loaded CI machine; a pass takes milliseconds


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


class PtyAgent:
    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, rows: int = 40, cols: int = 120) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.master = master
        self.proc = subprocess.Popen(
            [str(AGENT), *args], stdin=slave, stdout=slave, stderr=slave, env=dict(env), cwd=cwd, close_fds=True
        )
        os.close(slave)
        self.raw = bytearray()
        self.mark = 0  # expect() searches output after the previous match

    @property
    def text(self) -> str:
        return strip_ansi(self.raw.decode("utf-8", errors="replace"))

    async def _read_some(self) -> bool:
        await trio.lowlevel.wait_readable(self.master)
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.raw += data
        return True

    async def expect(self, needle: str, *, timeout: float = EXPECT_TIMEOUT_S) -> str:
        """Wait until ``needle`` appears after the previous match; return the text up to it."""
        with trio.move_on_after(timeout):
            while True:
                text = self.text
                index = text.find(needle, self.mark)
                if index >= 0:
                    before = text[self.mark : index]
                    self.mark = index + len(needle)
                    return before
                if not await self._read_some():
                    raise AssertionError(f"agent closed its terminal before printing {needle!r}:\n{text[self.mark:]}")
        raise AssertionError(f"no {needle!r} within {timeout} s; output since the last match:\n{self.text[self.mark:]}")

    def send(self, data: str | bytes) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    async def wait_exit(self, *, timeout: float = EXPECT_TIMEOUT_S) -> int:
        with trio.fail_after(timeout):
            while await self._read_some():
                pass
            return await trio.to_thread.run_sync(self.proc.wait)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
