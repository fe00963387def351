"""Content-addressed blobs beside the sessions: images kept out of the journals.

Invariant: the file ``<root>/sha256/<2 hex>/<62 hex>`` holds exactly the bytes
whose SHA-256 is its name. It is written to a temporary file in the same
directory and renamed into place (a reader sees all of it or nothing), and
verified against its name on every read. Durability follows the journal's:
``write_blob`` (called from ``history.append``, on the event loop) does not
wait for the disk; :meth:`BlobStore.sync` makes every blob written since
durable and is called right before the journal's own fsync at the end of a
turn (and at close), so a record that survived a power loss names a blob that
did too. A blob id is ``sha256:`` and 64
lowercase hex digits, checked *before* any path is built, so an id read from a
journal can never name a file outside ``root``. Blobs are shared: forks and
resumed sessions name the same blob, the bytes exist once, and a blob is
removed only when no journal under the sessions directory names it any more
(:func:`unreferenced`; a blob written moments ago is left to a later sweep, in
case its journal record is still on its way).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from agentcore.messages import BLOB_ID, MediaUnavailable
from agentcore.private_files import PRIVATE_FILE_MODE, private_dir
from agentcore.store.files import sync_dir

log = logging.getLogger(__name__)

BLOBS_DIR = "blobs"  # under the sessions directory
_ALGORITHM = "sha256"
_PREFIX = f"{_ALGORITHM}:"
_READ_CHUNK_BYTES = 1024 * 1024
_TEMP_PREFIX = ".tmp-"
# A blob (or a temp file) younger than this is never swept: a writer in another
# process may have stored it and not yet journaled the record that names it.
SWEEP_GRACE_S = 3600.0


class BlobError(MediaUnavailable):
    """A blob that cannot be read as what its id promises."""


class InvalidBlobId(BlobError):
    """A blob id that is not ``sha256:`` + 64 lowercase hex digits (refused unread)."""


class BlobMissing(BlobError):
    """No file for the blob (deleted by hand, or a copy of the session without its blobs)."""


class BlobCorrupt(BlobError):
    """The blob's file does not hash to its id, or has the wrong size."""


def blob_id_of(data: bytes) -> str:
    return _PREFIX + hashlib.sha256(data).hexdigest()


class BlobStore:
    """Blobs under ``root`` (see the module docstring); a :class:`~agentcore.messages.MediaStore`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._unsynced: dict[Path, None] = {}  # written since the last sync(), in order

    def sync(self) -> None:
        """fsync every blob written since the last call, then their directories. Raises ``OSError``."""
        pending, self._unsynced = self._unsynced, {}
        for path in pending:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # removed since (a delete of its only session): nothing to keep
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for directory in dict.fromkeys(path.parent for path in pending):
            sync_dir(directory)

    def path_of(self, blob_id: str) -> Path:
        """The file of ``blob_id``; :class:`InvalidBlobId` for anything but a well-formed id."""
        if not isinstance(blob_id, str) or not BLOB_ID.fullmatch(blob_id):
            raise InvalidBlobId(f"{str(blob_id)[:80]!r} is not a blob id")
        digest = blob_id[len(_PREFIX) :]
        return self.root / _ALGORITHM / digest[:2] / digest[2:]

    # ----------------------------------------------------------- writing

    def write_blob(self, data: bytes) -> str:
        """Store ``data`` unless an intact copy is there; its id. Raises ``OSError``."""
        blob_id = blob_id_of(data)
        path = self.path_of(blob_id)
        try:
            self.check_blob(blob_id, len(data))
            os.utime(path)  # fresh again: a sweep running now leaves it alone
            return blob_id
        except BlobError:
            pass  # absent, or damaged: (re)written below
        private_dir(path.parent)
        tmp = path.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._unsynced[path] = None  # made durable by sync(), before the journal that names it
        return blob_id

    # ----------------------------------------------------------- reading

    def read_blob(self, blob_id: str) -> bytes:
        path = self.path_of(blob_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"image {blob_id} is missing from {self.root}") from None
        except OSError as exc:
            raise BlobMissing(f"image {blob_id} cannot be read: {exc.strerror or exc}") from None
        if blob_id_of(data) != blob_id:
            raise BlobCorrupt(f"image {blob_id} is corrupt (its bytes do not match its hash)")
        return data

    def check_blob(self, blob_id: str, size: int) -> None:
        """Hash the blob's file in chunks (nothing kept in memory)."""
        path = self.path_of(blob_id)
        digest = hashlib.sha256()
        length = 0
        try:
            with path.open("rb") as f:
                while chunk := f.read(_READ_CHUNK_BYTES):
                    digest.update(chunk)
                    length += len(chunk)
        except FileNotFoundError:
            raise BlobMissing(f"image {blob_id} is missing from {self.root}") from None
        except OSError as exc:
            raise BlobMissing(f"image {blob_id} cannot be read: {exc.strerror or exc}") from None
        if length != size or _PREFIX + digest.hexdigest() != blob_id:
            raise BlobCorrupt(f"image {blob_id} is corrupt (its bytes do not match its hash)")

    def ids(self) -> Iterator[str]:
        """Every stored blob's id (temp files and stray names left out)."""
        base = self.root / _ALGORITHM
        if not base.is_dir():
            return
        for sub in base.iterdir():
            if len(sub.name) != 2 or not sub.is_dir():
                continue
            for entry in sub.iterdir():
                blob_id = f"{_PREFIX}{sub.name}{entry.name}"
                if BLOB_ID.fullmatch(blob_id):
                    yield blob_id

    # ----------------------------------------------------------- removing

    def remove(self, blob_ids: Iterable[str], *, min_age_s: float = 0.0, now: float | None = None) -> list[str]:
        """Delete these blobs (those older than ``min_age_s``); the ids removed."""
        now = time.time() if now is None else now
        removed = []
        for blob_id in blob_ids:
            path = self.path_of(blob_id)
            try:
                if now - path.stat().st_mtime < min_age_s:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(blob_id)
        return removed

    def remove_stale_temps(self, *, min_age_s: float = SWEEP_GRACE_S, now: float | None = None) -> int:
        """Temp files a crashed writer left behind."""
        now = time.time() if now is None else now
        base = self.root / _ALGORITHM
        count = 0
        if not base.is_dir():
            return 0
        for tmp in base.glob(f"*/{_TEMP_PREFIX}*"):
            try:
                if now - tmp.stat().st_mtime >= min_age_s:
                    tmp.unlink()
                    count += 1
            except FileNotFoundError:
                continue
        return count


class SessionBlobs:
    """The :class:`BlobStore` as one session's journal sees it: errors name the
    session, each blob is checked once per load, and what failed is kept in
    ``problems`` for the session to report (it loads with placeholders)."""

    def __init__(self, store: BlobStore, session_id: str) -> None:
        self.store = store
        self.session_id = session_id
        self.problems: list[str] = []
        self._checked: dict[tuple[str, int], BlobError | None] = {}

    def read_blob(self, blob_id: str) -> bytes:
        try:
            return self.store.read_blob(blob_id)
        except BlobError as exc:
            raise type(exc)(f"session {self.session_id}: {exc}") from None

    def check_blob(self, blob_id: str, size: int) -> None:
        key = (blob_id, size)
        if key not in self._checked:
            try:
                self.store.check_blob(blob_id, size)
                self._checked[key] = None
            except BlobError as exc:
                error = type(exc)(f"session {self.session_id}: {exc}")
                self._checked[key] = error
                self.problems.append(str(error))
                log.warning("%s", error)
        error = self._checked[key]
        if error is not None:
            raise error


def blob_ids_in(journal: bytes) -> set[str]:
    """Every well-formed blob id a journal's bytes name, in any record (live,
    summarised, rolled back, forked); text that merely quotes an id keeps it too."""
    out = set()
    marker = _PREFIX.encode()
    start = journal.find(marker)
    while start != -1:
        candidate = journal[start : start + len(marker) + 64].decode("ascii", errors="replace")
        if BLOB_ID.fullmatch(candidate):
            out.add(candidate)
        start = journal.find(marker, start + len(marker))
    return out

