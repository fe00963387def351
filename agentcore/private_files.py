"""Files only the user may read: everything under the state directory.

Invariant: a state file (journal, meta, lock, spill, background log, input
history, log) is created ``0600`` and the directories holding it are created
``0700``, whatever the umask; a directory we create that already exists with
wider modes is narrowed. Sessions, tool output and logs quote the user's code
and may quote secrets the redactor did not know about.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

PRIVATE_FILE_MODE = 0o600  # owner read/write
PRIVATE_DIR_MODE = 0o700  # owner only
_OPEN_FLAGS = {
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) ``0700``; narrow ``path`` itself if it
    exists with wider modes. Existing parents are left alone: they may be shared
    (``/tmp``, the home directory)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            pass  # created concurrently; narrowed below if it is ours
    if path.is_dir() and path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE and path.stat().st_uid == os.getuid():
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def open_private(path: Path, mode: str = "w", *, encoding: str | None = "utf-8") -> IO[Any]:
    """``open(path, mode)`` for a new or existing state file, made ``0600``.
    ``mode`` is ``w``, ``a`` or ``x``, with ``b`` for bytes. Parents are created private."""
    private_dir(path.parent)
    fd = os.open(path, _OPEN_FLAGS[mode.replace("b", "")], PRIVATE_FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o777 != PRIVATE_FILE_MODE:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # an older file created with the umask's modes
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding=encoding)
    except BaseException:
        os.close(fd)
        raise


def write_private_text(path: Path, text: str) -> None:
    """Write a whole state file ``0600`` (not atomic; see :func:`replace_private_text`)."""
    with open_private(path, "w") as out:
        out.write(text)


def replace_private_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically (temp file + rename) with a ``0600`` file."""
    tmp = path.with_name(f".{path.name}.tmp")
    write_private_text(tmp, text)
    os.replace(tmp, path)
