"""A private git object store that snapshots a workspace without touching it.

Invariant: git runs here only with ``GIT_DIR`` set to a bare repository of our
own and ``GIT_INDEX_FILE`` set to an index of our own, with every configuration
file but that repository's ignored (no system, global or workspace config), hooks
pointed at ``/dev/null``, fsmonitor, untracked cache, replace objects, pagers and
automatic maintenance off, and attribute conversions disabled by our
``info/attributes`` (the highest-precedence attribute file), so blobs are the
files' exact bytes. The workspace's own ``.git`` (config, hooks, index, refs,
stash) is never written and its configuration never read: a cloned repository
cannot make this code run a program. The one thing read from the user's
repository is its index *file* (through our hermetic git), to include files
git tracks there even when ``.gitignore`` names them, and its
``info/exclude`` patterns.

Blobs go into pack files (``core.bigFileThreshold=1`` streams each blob into
the running bulk-checkin pack) rather than one loose file per blob, which costs
a file creation per file on the first snapshot. Files larger than
:data:`MAX_FILE_BYTES` are left out (and reported).

Everything here is synchronous; callers run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs

from agentcore.errors import StoreError
from agentcore.private_files import open_private, private_dir

MAX_NEW_FILES = 100_000  # new files one scan may store; beyond that the folder is not a project
MAX_FILE_BYTES = 10 * 1024 * 1024  # a file bigger than this is not snapshotted (a build artefact, a dataset)
MALLOC_PAD_BYTES = 64 * 1024 * 1024  # heap kept by a git process between blobs (see _env)
GIT_TIMEOUT_S = 60.0  # one git command; a snapshot of a huge tree is bounded by the file count, not this

MODE_FILE = "100644"
MODE_EXEC = "100755"
MODE_LINK = "120000"
ZERO_SHA = "0" * 40

# Every config key that could run a program or change bytes, pinned for each call.
_HERMETIC_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.untrackedCache=false",
    "core.splitIndex=false",
    "core.sparseCheckout=false",
    "index.sparse=false",
    "core.bigFileThreshold=1",
    "core.compression=1",  # fast zlib: snapshots are written often and read rarely
    "core.autocrlf=false",
    "core.safecrlf=false",
    "core.symlinks=true",
    "core.fileMode=true",
    "core.pager=cat",
    "core.quotePath=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "protocol.allow=never",
)
_ATTRIBUTES = "* -text -filter -ident -eol -diff -merge -working-tree-encoding\n"


class CheckpointError(StoreError):
    """The checkpoint store cannot snapshot or read (git missing, a broken store)."""


class TooManyFiles(CheckpointError):
    """A workspace scan found more new files than :data:`MAX_NEW_FILES` (a home folder?)."""


@attrs.frozen
class FileState:
    """One path's state in a snapshot: git mode and blob id; ``mode`` None = absent."""

    mode: str | None
    sha: str | None

    @property
    def exists(self) -> bool:
        return self.mode is not None


ABSENT = FileState(None, None)


@attrs.frozen
class Change:
    """A path whose state differs between two snapshots."""

    path: str  # relative to the workspace, "/"-separated
    before: FileState
    after: FileState


@attrs.frozen
class Snapshot:
    tree: str
    skipped: tuple[str, ...] = ()  # paths left out (too big)


def blob_sha(data: bytes) -> str:
    """The git blob id of ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def current_state(root: Path, rel: str) -> FileState:
    """The state of ``root/rel`` now, computed the way git would (no git process)."""
    path = root / rel
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return ABSENT
    if stat.S_ISLNK(st.st_mode):
        return FileState(MODE_LINK, blob_sha(os.fsencode(os.readlink(path))))
    if not stat.S_ISREG(st.st_mode):
        return FileState("dir", None)
    mode = MODE_EXEC if st.st_mode & stat.S_IXUSR else MODE_FILE
    return FileState(mode, blob_sha(path.read_bytes()))


class PrivateGitStore:
    """A bare repository and index under ``directory`` snapshotting ``workspace``."""

    def __init__(self, directory: Path, workspace: Path, *, git: str | None = None) -> None:
        self.directory = Path(directory)
        self.workspace = Path(workspace)
        self.git_dir = self.directory / "objects.git"
        self.index = self.directory / "index"
        self._git = git or shutil.which("git")
        self._guard = threading.Lock()  # the running git process and the closed flag
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop at once: kill the git process running for this store (a long first
        scan) and refuse further work. Safe from any thread."""
        with self._guard:
            self._closed = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    # ------------------------------------------------------------ plumbing

    def _env(self, *, index: Path | None = None) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C",
            "LC_ALL": "C",
            "HOME": str(self.directory),
            "XDG_CONFIG_HOME": str(self.directory),
            "GIT_DIR": str(self.git_dir),
            "GIT_WORK_TREE": str(self.workspace),
            "GIT_INDEX_FILE": str(index or self.index),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_ATTR_NOSYSTEM": "1",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_NOGLOB_PATHSPECS": "1",
            # zlib allocates per blob; without these glibc returns and re-grows the heap
            # each time, which made the first snapshot of 5,000 files 3-6x slower.
            "MALLOC_TOP_PAD_": str(MALLOC_PAD_BYTES),
            "MALLOC_TRIM_THRESHOLD_": str(MALLOC_PAD_BYTES * 2),
            "MALLOC_MMAP_THRESHOLD_": str(MALLOC_PAD_BYTES * 2),
        }

    def _run(self, args: Sequence[str], *, stdin: bytes | None = None, index: Path | None = None,
             check: bool = True) -> bytes:
        if self._git is None:
            raise CheckpointError("git is not installed, so file changes cannot be checkpointed")
        config: list[str] = []
        for item in (*_HERMETIC_CONFIG, f"core.excludesFile={self._user_excludes()}"):
            config += ["-c", item]
        with self._guard:
            if self._closed:
                raise CheckpointError("the checkpoint store is closed")
            try:
                proc = subprocess.Popen(
                    [self._git, *config, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=self._env(index=index), cwd=self.workspace,
                )  # fmt: skip
            except OSError as exc:
                raise CheckpointError(f"git {args[0]} failed: {exc}") from exc
            self._proc = proc
        try:
            out, err = proc.communicate(stdin, timeout=GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.communicate()
            raise CheckpointError(f"git {args[0]} failed: {exc}") from exc
        finally:
            with self._guard:
                self._proc = None
        if self._closed:
            if proc.returncode != 0 and index is None:  # killed by close(): a lock it held on OUR index is stale
                self.index.with_name(self.index.name + ".lock").unlink(missing_ok=True)  # (never the user's)
            raise CheckpointError("the checkpoint store is closed")
        if check and proc.returncode != 0:
            detail = err.decode(errors="replace").strip().splitlines()
            raise CheckpointError(f"git {args[0]} failed: {detail[-1] if detail else proc.returncode}")
        return out

    def _user_excludes(self) -> str:
        exclude = self.workspace / ".git" / "info" / "exclude"
        return str(exclude) if exclude.is_file() else os.devnull

    def ensure(self) -> None:
        """Create the private repository (0700) once."""
        if (self.git_dir / "HEAD").is_file():
            return
        private_dir(self.directory)
        git_dir = self.git_dir
        for sub in ("objects/pack", "objects/info", "refs/heads", "info"):
            private_dir(git_dir / sub)
        # sharedRepository=0600: git makes what it writes later (objects, packs, the
        # index, refs) owner-only too; the store holds copies of the user's files.
        for name, text in (
            ("config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tsharedRepository = 0600\n"),
            ("info/attributes", _ATTRIBUTES),
            ("HEAD", "ref: refs/heads/checkpoints\n"),  # last: its presence means "created"
        ):
            with open_private(git_dir / name) as out:
                out.write(text)

    # ----------------------------------------------------------- snapshots

    def snapshot_paths(self, paths: Iterable[str]) -> Snapshot:
        """Refresh just ``paths`` (relative) in the private index, then write its tree."""
        self.ensure()
        wanted, skipped = self._sizeable(paths)
        if wanted:
            self._run(["update-index", "--add", "--remove", "-z", "--stdin"], stdin=_nul(wanted))
        if skipped:
            self._forget(skipped)
        return Snapshot(self._write_tree(), tuple(skipped))

    def snapshot_workspace(self, skip: Callable[[str], bool] | None = None, *, max_new: int = MAX_NEW_FILES) -> Snapshot:
        """Refresh every file git would see (untracked and not ignored, tracked by the
        user's index even if ignored, and what the private index already holds), then
        write the tree. Only new, changed and deleted files are handed to git: the
        private index's stat cache finds them, so an unchanged file costs one stat in
        git. ``skip(path)`` leaves a path out (and drops it from the store); more than
        ``max_new`` files new to the store is :class:`TooManyFiles`, before any is hashed."""
        self.ensure()
        new = _split(self._run(["ls-files", "-z", "--others", "--exclude-standard"]))
        changed = _split(self._run(["ls-files", "-z", "--modified", "--deleted"]))
        if len(new) > max_new:
            raise TooManyFiles(f"{len(new):,} new files in {self.workspace}: too many to checkpoint")
        unique = dict.fromkeys([*new, *changed, *self._user_tracked_ignored()])
        refused = [p for p in unique if skip(p)] if skip is not None else []
        for rel in refused:
            del unique[rel]
        if refused:
            self._forget(refused)
        wanted, skipped = self._sizeable(unique)
        if wanted:
            self._run(["update-index", "--add", "--remove", "-z", "--stdin"], stdin=_nul(wanted))
        if skipped:
            self._forget(skipped)
        return Snapshot(self._write_tree(), tuple(skipped))

    def _user_tracked_ignored(self) -> list[str]:
        """Files the user's git tracks although ``.gitignore`` names them (usually none)."""
        index = self.workspace / ".git" / "index"
        if not index.is_file():
            return []
        try:  # read-only: ls-files never writes the index it reads
            return _split(self._run(["ls-files", "-z", "--cached", "--ignored", "--exclude-standard"], index=index))
        except CheckpointError:
            return []  # a split or sparse index we cannot read alone: the untracked scan still runs

    def _sizeable(self, paths: Iterable[str]) -> tuple[list[str], list[str]]:
        wanted: list[str] = []
        skipped: list[str] = []
        root = self.workspace
        for rel in paths:
            if not safe_relative(rel):
                continue
            try:
                st = os.lstat(root / rel)
            except OSError:
                wanted.append(rel)  # gone: update-index --remove drops it
                continue
            if stat.S_ISDIR(st.st_mode):
                continue  # a nested repository or a directory named by a tool
            if stat.S_ISREG(st.st_mode) and st.st_size > MAX_FILE_BYTES:
                skipped.append(rel)
            else:
                wanted.append(rel)
        return wanted, skipped

    def _forget(self, paths: Sequence[str]) -> None:
        self._run(["update-index", "--force-remove", "-z", "--stdin"], stdin=_nul(paths))

    def _write_tree(self) -> str:
        return self._run(["write-tree"]).decode().strip()

    # ---------------------------------------------------------------- reads

    def changes(self, before: str, after: str) -> list[Change]:
        """What differs between two trees, path by path (no rename detection)."""
        if before == after:
            return []
        out = self._run(["diff-tree", "-r", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", before, after])
        fields = out.split(b"\0")
        changes = []
        for i in range(0, len(fields) - 1, 2):
            meta, path = fields[i].decode(), os.fsdecode(fields[i + 1])
            old_mode, new_mode, old_sha, new_sha, _status = meta.lstrip(":").split(" ")
            changes.append(Change(path, _state(old_mode, old_sha), _state(new_mode, new_sha)))
        return changes

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each blob (one ``cat-file --batch`` process)."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self._run(["cat-file", "--batch"], stdin="".join(f"{s}\n" for s in wanted).encode())
        blobs: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode().split(" ")
            if len(header) != 3:
                raise CheckpointError(f"checkpoint blob {sha} is missing from the store")
            size = int(header[2])
            blobs[sha] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return blobs


def _state(mode: str, sha: str) -> FileState:
    if mode == "000000" or sha == ZERO_SHA:
        return ABSENT
    return FileState(mode, sha)


def _split(out: bytes) -> list[str]:
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def _nul(paths: Iterable[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)


def safe_relative(rel: str) -> bool:
    """A relative path that stays inside its root by its text alone."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and ".." not in parts and ".git" not in parts and "" not in parts
