"""A real ``agent chat`` on a pseudo-terminal, read with deadlines (the same
approach as tests/cli's driver; helper modules are per folder)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

import trio

from trust_repo import AGENT

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]|\x1b\][^\x07]*\x07|\r")
EXPECT_TIMEOUT_S = 15.0  # generous for a loaded CI machine; a pass takes milliseconds
ROWS, COLS = 40, 160


class TrustPty:
    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.master = master
        self.proc = subprocess.Popen([str(AGENT), *args], stdin=slave, stdout=slave, stderr=slave, env=dict(env),
                                     cwd=cwd, close_fds=True)  # fmt: skip
        os.close(slave)
        self.raw = bytearray()
        self.mark = 0

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", errors="replace"))

    async def expect(self, needle: str) -> str:
        with trio.move_on_after(EXPECT_TIMEOUT_S):
            while True:
                index = self.text.find(needle, self.mark)
                if index >= 0:
                    before, self.mark = self.text[self.mark : index], index + len(needle)
                    return before
                await trio.lowlevel.wait_readable(self.master)
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"agent closed its terminal before {needle!r}:\n{self.text[self.mark:]}")
                self.raw += data
        raise AssertionError(f"no {needle!r} within {EXPECT_TIMEOUT_S} s:\n{self.text[self.mark:]}")

    def send(self, data: str | bytes) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
