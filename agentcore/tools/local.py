"""Local backends: the files and processes of the machine the agent runs on.

``LocalFs`` does blocking file I/O in worker threads so a slow disk never
stalls the event loop, and writes atomically (temp file + rename) so a crash
mid-write never leaves a half-written file. ``LocalShell`` runs each command
in its own session (process group) and kills the whole group on timeout,
cancellation or when the command exits leaving children behind, so nothing it
started outlives it; and ties the group to the agent's life
(:mod:`agentcore.tools.lifeline`), so nothing outlives the agent either.
"""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import trio

from agentcore.messages import new_id
from agentcore.private_files import open_private
from agentcore.secrets import Redactor, StreamRedactor, ToolSecrets
from agentcore.tools.backends import FileStat, FsError, OutputSink, ShellResult
from agentcore.tools.lifeline import Lifeline, lifeline
from agentcore.tools.sandbox import ProcessConfinement

SHELL = "/bin/sh"  # POSIX sh: what `sh -c` means in the ShellBackend contract
READ_CHUNK_BYTES = 64 * 1024  # one pipe read; large enough to keep syscalls few
KILL_GRACE_S = 0.3  # between SIGTERM and SIGKILL; the group is gone well within 1 s
GROUP_POLL_S = 0.01  # how often to check whether a signalled group has exited
DRAIN_AFTER_EXIT_S = 1.0  # reading what is left in the pipe once the group is dead
# Output kept in memory per command (characters); beyond it the whole output
# streams to a file and only head and tail stay in memory.
MEMORY_LIMIT_CHARS = 4 * 1024 * 1024
HEAD_SHARE = 0.4  # of the in-memory budget kept from the start once spilling


def _fs_error(exc: OSError, path: Path) -> FsError:
    match exc:
        case FileNotFoundError():
            reason = "file not found"
        case IsADirectoryError():
            reason = "is a directory"
        case NotADirectoryError():
            reason = "a parent of the path is not a directory"
        case PermissionError():
            reason = "permission denied"
        case _:
            reason = exc.strerror or type(exc).__name__
    return FsError(f"{path}: {reason}")


class LocalFs:
    """:class:`FsBackend` over the local disk (also a :class:`RangeReader`)."""

    async def read_bytes(self, path: Path) -> bytes:
        return await trio.to_thread.run_sync(self._read_bytes, path)

    async def read_text(self, path: Path) -> str:
        """Strict UTF-8 (a BOM is kept as U+FEFF so writing it back keeps it);
        line endings untouched. Non-UTF-8 content is an :class:`FsError`."""
        data = await self.read_bytes(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FsError(f"{path}: not valid UTF-8 (byte {exc.start})") from None

    async def read_range(self, path: Path, offset: int, length: int) -> bytes:
        return await trio.to_thread.run_sync(self._read_range, path, offset, length)

    async def write_text(self, path: Path, content: str) -> None:
        await trio.to_thread.run_sync(self._write_atomic, path, content.encode("utf-8"))

    async def stat(self, path: Path) -> FileStat | None:
        try:
            st = await trio.to_thread.run_sync(os.stat, path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _fs_error(exc, path) from None
        return FileStat(size=st.st_size, is_dir=os.path.isdir(path), mtime=st.st_mtime)

    @staticmethod
    def _read_bytes(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise _fs_error(exc, path) from None

    @staticmethod
    def _read_range(path: Path, offset: int, length: int) -> bytes:
        try:
            with path.open("rb") as f:
                f.seek(offset)
                return f.read(length)
        except OSError as exc:
            raise _fs_error(exc, path) from None

    @staticmethod
    def _write_atomic(path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{new_id('tmp')}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            existing_mode = path.stat().st_mode & 0o7777 if path.exists() else None
            # A new file gets 0o666 minus the umask, exactly like open(); an
            # existing file keeps its mode (executable scripts stay executable).
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise _fs_error(exc, path) from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if existing_mode is not None:
                os.chmod(tmp, existing_mode)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _fs_error(exc, path) from None


class _OutputCollector:
    """Accumulates decoded output; past ``memory_limit`` it spills to a file."""

    def __init__(self, memory_limit: int, spill_dir: Path | None, redactor: StreamRedactor) -> None:
        self._limit = memory_limit
        self._spill_dir = spill_dir
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._redactor = redactor
        self._chunks: list[str] = []
        self._size = 0
        self._head = ""
        self._tail: deque[str] = deque()
        self._tail_size = 0
        self._file: object | None = None
        self.spill_path: Path | None = None
        self.total_chars = 0

    def feed(self, data: bytes | bytearray, *, final: bool = False) -> str:
        """Decode, redact and keep ``data``; returns the text kept (what may be shown)."""
        text = self._redactor.feed(self._decoder.decode(data, final=final))
        if final:
            text += self._redactor.flush()
        if text:
            self._add(text)
        return text

    def _add(self, text: str) -> None:
        self.total_chars += len(text)
        if self._file is None:
            self._chunks.append(text)
            self._size += len(text)
            if self._size > self._limit:
                self._start_spill()
            return
        self._file.write(text)  # type: ignore[attr-defined]
        self._tail.append(text)
        self._tail_size += len(text)
        tail_budget = self._limit - len(self._head)
        while self._tail and self._tail_size - len(self._tail[0]) >= tail_budget:
            self._tail_size -= len(self._tail.popleft())

    def _start_spill(self) -> None:
        directory = self._spill_dir or Path(tempfile.gettempdir()) / "agentcore-shell"
        self.spill_path = directory / f"shell-{new_id('out')}.txt"
        self._file = open_private(self.spill_path, "x")
        whole = "".join(self._chunks)
        self._chunks = []
        self._file.write(whole)  # type: ignore[attr-defined]
        head_len = int(self._limit * HEAD_SHARE)
        self._head = whole[:head_len]
        self._tail = deque([whole[head_len:][-(self._limit - head_len) :]])
        self._tail_size = len(self._tail[0])

    def finish(self) -> tuple[str, bool]:
        """The output (head + marker + tail once spilled) and whether it was cut."""
        if rest := self._redactor.flush():  # held back when the stream was cut short (timeout, cancel)
            self._add(rest)
        if self._file is None:
            return "".join(self._chunks), False
        self._file.close()  # type: ignore[attr-defined]
        tail = "".join(self._tail)[-(self._limit - len(self._head)) :]
        omitted = self.total_chars - len(self._head) - len(tail)
        marker = f"\n\n[... {omitted:,} characters omitted; full output in {self.spill_path} ...]\n\n"
        return self._head + marker + tail, True


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when no process is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # A member changed credentials (setuid); the rest was still signalled.
        return True
    return True


PROC = Path("/proc")


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running. Zombies do not count:
    an orphan's zombie lingers until its new parent reaps it, and in some
    containers nothing ever does."""
    if not _signal_group(pgid, 0):
        return False
    if not PROC.is_dir():
        return True  # no /proc: a zombie cannot be told from a live process
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # Fields after "(comm)": state, ppid, pgrp, ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


async def terminate_group(proc: trio.Process, *, grace_s: float = KILL_GRACE_S) -> None:
    """SIGTERM the process group, SIGKILL whatever is left after ``grace_s``,
    and reap the leader. Cheap when the group is already gone."""
    pgid = proc.pid
    if _signal_group(pgid, signal.SIGTERM):
        with trio.move_on_after(grace_s):
            # No event tells us when grandchildren exit, so poll the group.
            while True:
                proc.poll()  # reap the leader so its zombie does not count
                if not _group_alive(pgid):
                    break
                await trio.sleep(GROUP_POLL_S)
        _signal_group(pgid, signal.SIGKILL)
    await proc.wait()


class LocalShell:
    """:class:`ShellBackend` running ``sh -c`` on this machine.

    Commands start from ``secrets.env`` (the scrubbed environment the wiring
    gives; by default this process's environment without secrets, see
    :mod:`agentcore.secrets`), with the ``env`` given to :meth:`run` layered
    over it; their output is redacted with ``secrets.redactor`` as it streams,
    so progress and spill files never hold the agent's keys. ``confinement``
    runs them in the OS sandbox (:mod:`agentcore.tools.sandbox`).
    A command's process group does not outlive the command: children left
    running when the shell exits are terminated too (background work belongs
    in ``run_in_background``). Output larger than ``memory_limit_chars`` is
    written in full to a private file in ``spill_dir`` (default: the temp directory).
    """

    def __init__(
        self,
        *,
        secrets: ToolSecrets | None = None,
        confinement: ProcessConfinement | None = None,
        memory_limit_chars: int = MEMORY_LIMIT_CHARS,
        spill_dir: Path | None = None,
    ) -> None:
        self.secrets = secrets if secrets is not None else ToolSecrets.from_environment(os.environ)
        self.confinement = confinement
        self._memory_limit = memory_limit_chars
        self._spill_dir = spill_dir

    @property
    def redactor(self) -> Redactor:
        return self.secrets.redactor

    async def run(
        self,
        command: str,
        *,
        cwd: Path,
        timeout_s: float,
        env: Mapping[str, str] | None = None,
        on_output: OutputSink | None = None,
        on_start: Callable[[str], Awaitable[None]] | None = None,
    ) -> ShellResult:
        """Raises :class:`~agentcore.tools.sandbox.SandboxUnavailable` when the
        sandbox is on but cannot run."""
        argv, full_env = [SHELL, "-c", command], {**self.secrets.env, **(env or {})}
        if self.confinement is not None:
            argv, full_env = self.confinement.wrap(argv, cwd=cwd, env=full_env)
        collector = _OutputCollector(self._memory_limit, self._spill_dir, self.secrets.redactor.stream())
        proc = await trio.lowlevel.open_process(
            argv,
            cwd=str(cwd),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: killpg reaches grandchildren
        )
        try:
            async with lifeline(proc.pid) as line:  # the group dies with the agent
                timed_out = await _supervise(proc, line, collector, timeout_s, on_output)
        finally:
            with trio.CancelScope(shield=True):
                await terminate_group(proc)  # cheap when _supervise already did (or the watcher failed to start)
                assert proc.stdout is not None
                await proc.stdout.aclose()
        output, truncated = collector.finish()
        code = proc.returncode
        return ShellResult(
            exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else None,
            output=output,
            timed_out=timed_out,
            truncated=truncated,
            full_output_path=collector.spill_path,
        )


async def _supervise(
    proc: trio.Process,
    line: Lifeline,
    collector: _OutputCollector,
    timeout_s: float,
    on_output: OutputSink | None,
) -> bool:
    """Collect the output until the command exits or times out, then end its
    group (leftover children included). True when it timed out."""
    assert proc.stdout is not None
    terminated = timed_out = False
    try:
        async with trio.open_nursery() as nursery:
            drained = trio.Event()
            nursery.start_soon(_pump, proc.stdout, collector, on_output, drained)
            with trio.move_on_after(timeout_s) as deadline:
                await proc.wait()
            timed_out = deadline.cancelled_caught
            await terminate_group(proc)
            terminated = True
            await line.release()  # the group is gone: the watcher may stand down
            with trio.move_on_after(DRAIN_AFTER_EXIT_S):
                await drained.wait()
            # A process that left the group (setsid) may still hold the pipe.
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            if not terminated:
                await terminate_group(proc)
            await proc.stdout.aclose()
    return timed_out


async def _pump(
    stream: trio.abc.ReceiveStream,
    collector: _OutputCollector,
    on_output: OutputSink | None,
    drained: trio.Event,
) -> None:
    try:
        while data := await stream.receive_some(READ_CHUNK_BYTES):
            text = collector.feed(data)
            if text and on_output is not None:
                await on_output(text)
        tail = collector.feed(b"", final=True)
        if tail and on_output is not None:
            await on_output(tail)
    except (trio.ClosedResourceError, trio.BrokenResourceError):
        pass  # the pipe was closed under us after the group died; output so far is kept
    finally:
        drained.set()
