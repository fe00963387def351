"""Spawning and watching store_child.py from a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import attrs
import trio

CHILD = Path(__file__).resolve().parent / "store_child.py"
CHILD_TIMEOUT_S = 60  # generous: a cold interpreter importing agentcore on a busy machine


@attrs.define
class Child:
    process: trio.Process
    stderr_path: Path
    _buffer: bytearray = attrs.field(factory=bytearray)

    async def wait_for_line(self, prefix: str) -> str:
        """Read stdout until a line starting with ``prefix``; fail with the child's stderr if it exits."""
        assert self.process.stdout is not None
        with trio.fail_after(CHILD_TIMEOUT_S):
            while True:
                while b"\n" in self._buffer:
                    raw, _, rest = bytes(self._buffer).partition(b"\n")
                    self._buffer[:] = rest
                    line = raw.decode()
                    if line.startswith(prefix):
                        return line
                data = await self.process.stdout.receive_some(4096)
                if not data:
                    await self.process.wait()
                    raise AssertionError(
                        f"child exited ({self.process.returncode}) before {prefix!r}:\n{self.stderr_path.read_text()}"
                    )
                self._buffer += data

    async def kill(self) -> int:
        self.process.kill()  # SIGKILL on POSIX: no cleanup code runs in the child
        with trio.fail_after(CHILD_TIMEOUT_S):
            return await self.process.wait()


async def spawn_child(tmp_path: Path, *args: str) -> Child:
    stderr_path = tmp_path / f"child-{len(list(tmp_path.glob('child-*')))}.stderr"
    stderr = stderr_path.open("wb")
    try:
        process = await trio.lowlevel.open_process(
            [sys.executable, str(CHILD), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
        )
    finally:
        stderr.close()
    return Child(process, stderr_path)
