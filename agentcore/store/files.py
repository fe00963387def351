"""Files of one stored session: the writer lock, the journal writer, meta.json.

Durability policy: every record is written and flushed to the OS at once (a
killed process loses nothing it already recorded); ``fsync`` happens only at
turn boundaries and on close, off the per-message critical path. meta.json is
a cache for listing, replaced atomically; the journal is the truth.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import suppress
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentcore.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, open_private
from agentcore.store.format import TORN_SUFFIX, JournalWriteError, SessionLocked, encode

try:  # POSIX advisory locks; elsewhere a session is not protected against a second writer
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FILE_MODE = PRIVATE_FILE_MODE  # sessions hold the user's conversations: readable by the owner only
DIR_MODE = PRIVATE_DIR_MODE


class SessionLock:
    """An exclusive ``flock`` on the session's lock file, held while it is open
    for writing. The holder (pid, host, since when) is written into the file,
    so a second writer's error names it."""

    def __init__(self, fd: int | None, path: Path) -> None:
        self._fd = fd
        self.path = path

    @classmethod
    def acquire(cls, path: Path, session_id: str) -> SessionLock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        if fcntl is None:  # pragma: no cover - Windows
            return cls(fd, path)
        try:
            _flock_soon(fd)
        except BlockingIOError:
            holder = os.pread(fd, HOLDER_MAX_BYTES, 0).decode(errors="replace").strip()
            os.close(fd)
            raise SessionLocked(session_id, _holder_text(holder)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {since}\n".encode(), 0)
        return cls(fd, path)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock


HOLDER_MAX_BYTES = 256  # "pid host since" of the lock's holder
# A child forked by another thread (a git or shell subprocess) holds a copy of every
# descriptor until it execs, so a lock this process just released can look held for
# a moment; a real holder still holds it after these tries.
LOCK_TRIES = 8
LOCK_RETRY_S = 0.002


def _flock_soon(fd: int) -> None:
    """``flock(LOCK_EX | LOCK_NB)``, retried briefly (see :data:`LOCK_TRIES`)."""
    for attempt in range(LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if attempt == LOCK_TRIES - 1:
                raise
            time.sleep(LOCK_RETRY_S * (attempt + 1))  # at most ~56 ms in all


def _holder_text(holder: str) -> str:
    """``by process 1234 on laptop since 2026-12-06 10:00:00`` from the lock file's
    line (older agentcore versions wrote the pid alone)."""
    pid, _, rest = holder.partition(" ")
    if not pid:
        return "by another process"
    host, _, since = rest.partition(" ")
    return f"by process {pid}" + (f" on {host}" if host else "") + (f" since {since}" if since else "")


class JournalWriter:
    """Appends encoded records to one journal, each record whole or not at all.

    Invariant: the file always ends on a record boundary. A write that fails
    part-way (ENOSPC, EFBIG, EIO, EROFS) is cut back to the last whole record
    and raises :class:`JournalWriteError`; the writer then refuses further
    writes, so a record is never glued onto a torn one once space returns.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size  # bytes up to the last whole record
        self.failure: JournalWriteError | None = None

    @classmethod
    def create(cls, path: Path) -> JournalWriter:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)
        return cls(path)

    @classmethod
    def reopen(cls, path: Path, *, valid_bytes: int, torn: bytes) -> JournalWriter:
        """Open for appending after cutting off a torn last line (kept beside
        the journal), so the next record starts on a line of its own."""
        if torn:
            with open_private(path.with_name(path.name + TORN_SUFFIX), "ab") as side:
                side.write(torn + b"\n")
            with open(path, "r+b") as f:
                f.truncate(valid_bytes)
                os.fsync(f.fileno())
        return cls(path)

    def write(self, rec: Mapping[str, Any]) -> None:
        self._append(encode(rec))

    def write_many(self, recs: list[dict[str, Any]]) -> None:
        self._append(b"".join(encode(r) for r in recs))

    def _append(self, data: bytes) -> None:
        if self.failure is not None:
            raise self.failure
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self.failure = JournalWriteError(self.path, exc)
            with suppress(OSError):  # even when this fails, a load cuts the torn tail off
                os.ftruncate(self._fd, self._size)
            raise self.failure from None
        self._size += len(data)

    def sync(self) -> None:
        if self.failure is None:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self.failure = JournalWriteError(self.path, exc)
                raise self.failure from None

    def close(self) -> None:
        if self._fd < 0:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)
            self._fd = -1


def write_meta(path: Path, meta: Mapping[str, Any], *, sync: bool) -> None:
    """Replace ``path`` atomically (write a temp file, then rename over it)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(json.dumps(meta, ensure_ascii=False, indent=1).encode())
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def read_meta(path: Path) -> dict[str, Any] | None:
    """meta.json as a dict, or None when missing or unreadable (then the
    caller rebuilds it from the journal, which is the source of truth)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def sync_dir(path: Path) -> None:
    """Make a new directory entry durable (POSIX); a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
