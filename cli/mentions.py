"""``@path`` mentions in a chat prompt: the files' contents attached to it.

Invariant: a mentioned file's content reaches the model only when the agent
could read it without asking anybody — inside the workspace (symlinks
resolved, so ``@../x`` and a link pointing out are outside), not denied by a
path rule of the session (the mention as typed and the file it reaches are
both judged), not a protected path (agent or git configuration, shell
start-up files, the user configuration), not a secret store by name (``.env``,
``.netrc``, ssh keys, ...) or by content (a private key), and text (binary
files are refused). The agent's own key values are redacted from what is
attached. Each refusal is one line for the person typing; the prompt text
keeps the mention as typed. An ``@`` that names no existing path (an e-mail
address, a handle, a lone ``@``) stays plain text.

Attachments are text blocks fenced with their workspace-relative path,
``<context path="src/x.py">...</context>``, after the typed text: what the
model reads and what the journal keeps.
"""

from __future__ import annotations

import codecs
import fnmatch
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import attrs

from agentcore.messages import TextBlock
from agentcore.secrets import Redactor
from agentcore.tools import Workspace

MENTION_MAX_BYTES = 256 * 1024  # of one file given to the model (same as an ACP attachment); the rest is cut with a note
MENTIONS_TOTAL_MAX_BYTES = 1024 * 1024  # of all the files of one prompt: more is refused, not silently cut
BINARY_SNIFF_BYTES = 8192  # a NUL byte in the first 8 KiB means binary, as git and grep decide
DIRECTORY_MAX_ENTRIES = 500  # paths listed for an `@dir/` mention
TRAILING_PUNCTUATION = ".,;:!?)]}'\""  # "see @src/x.py." means the file, not "x.py."

# Secret stores by name: never attached, whatever the rules say.
SECRET_FILE_NAMES = frozenset(
    {".env", ".netrc", ".git-credentials", ".npmrc", ".pypirc", ".pgpass", ".my.cnf", "credentials",
     "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
)  # fmt: skip
SECRET_FILE_GLOBS = ("*.pem", "*.key", "*.p12", "*.pfx", "*.keystore", "*.jks", ".env.*")
NOT_SECRET_GLOBS = (".env.example", ".env.sample", ".env.template", ".env.dist", "*.pub")
PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----")

# `@` at the start or after whitespace, then a quoted path or a run of non-space.
MENTION = re.compile(r"""(?:(?<=\s)|^)@(?:"([^"\n]+)"|'([^'\n]+)'|([^\s"'@][^\s]*))""")


class MentionHost(Protocol):
    """What resolving mentions reads of a session."""

    @property
    def workspace(self) -> Workspace: ...

    @property
    def redactor(self) -> Redactor: ...

    def content_denied(self, path: Path) -> str | None:
        """Why a path rule denies ``path``'s contents to every tool; None if none does."""
        ...


ProtectedReason = Callable[[Path], str | None]  # why a path is agent/shell configuration, or None


@attrs.frozen
class Mention:
    """One ``@`` mention as typed: the text to resolve and where it sits in the line."""

    raw: str  # the path as written, without @ and quotes
    start: int
    end: int


@attrs.frozen
class Attachments:
    """What a prompt's mentions became: blocks for the model, one line each for the person."""

    blocks: tuple[TextBlock, ...] = ()
    attached: tuple[str, ...] = ()  # "src/x.py (1.2 KB)"
    refused: tuple[str, ...] = ()  # "@.env was not attached: ..."


def find_mentions(text: str) -> list[Mention]:
    return [Mention(m.group(1) or m.group(2) or m.group(3), m.start(), m.end()) for m in MENTION.finditer(text)]


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, g) for g in NOT_SECRET_GLOBS):
        return False
    return lowered in SECRET_FILE_NAMES or any(fnmatch.fnmatchcase(lowered, g) for g in SECRET_FILE_GLOBS)


def _existing(raw: str, cwd: Path) -> tuple[str, Path] | None:
    """The path a mention names, trying it without trailing punctuation too; None if nothing is there."""
    for text in dict.fromkeys((raw, raw.rstrip(TRAILING_PUNCTUATION))):
        if not text:
            continue
        path = Path(os.path.expanduser(text))
        path = path if path.is_absolute() else cwd / path
        if os.path.lexists(path):
            return text, path
    return None


class MentionResolver:
    """Turns the mentions of one prompt into :class:`Attachments` (blocking I/O:
    call it from a worker thread)."""

    def __init__(self, host: MentionHost, *, protected: ProtectedReason) -> None:
        self.host = host
        self.protected = protected

    def resolve(self, text: str) -> Attachments:
        blocks: list[TextBlock] = []
        attached: list[str] = []
        refused: list[str] = []
        seen: set[Path] = set()
        budget = MENTIONS_TOTAL_MAX_BYTES
        for mention in find_mentions(text):
            found = _existing(mention.raw, self.host.workspace.cwd)
            if found is None:
                continue  # not a path: it stays text
            typed, path = found
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            why = self.refusal(path, resolved)
            if why is not None:
                refused.append(f"@{typed} was not attached: {why}")
                continue
            shown = self.host.workspace.relative(resolved)
            if resolved.is_dir():
                block, note = self._directory(resolved, shown)
            else:
                block, note, used = self._file(resolved, shown, budget)
                if block is None:
                    refused.append(f"@{typed} was not attached: {note}")
                    continue
                budget -= used
            blocks.append(block)
            attached.append(note)
        return Attachments(tuple(blocks), tuple(attached), tuple(refused))

    def refusal(self, path: Path, resolved: Path) -> str | None:
        """Why the file a mention reaches may not be attached; None when it may."""
        workspace = self.host.workspace
        if not workspace.contains(resolved):
            return f"{resolved} is outside the workspace"
        for candidate in dict.fromkeys((path.absolute(), resolved)):  # the link as typed and what it reaches
            denied = self.host.content_denied(candidate)
            if denied is not None:
                return f"a permission rule denies it ({denied})"
            if is_secret_name(candidate.name):
                return f"{candidate.name} holds secrets by its name; secrets are never attached"
            protected = self.protected(candidate)
            if protected is not None:
                return f"{protected}; protected paths are never attached"
        if not (resolved.is_file() or resolved.is_dir()):
            return "it is not a regular file or directory"
        return None

    def _file(self, path: Path, shown: str, budget: int) -> tuple[TextBlock | None, str, int]:
        try:
            with open(path, "rb") as f:
                data = f.read(min(MENTION_MAX_BYTES, budget) + 1)
                size = os.fstat(f.fileno()).st_size
        except OSError as exc:
            return None, f"it cannot be read ({exc.strerror or exc})", 0
        if budget <= 0:
            return None, f"the prompt already carries {MENTIONS_TOTAL_MAX_BYTES // 1024} KB of files", 0
        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            return None, "it is a binary file", 0
        if PRIVATE_KEY.search(data):
            return None, "it holds a private key; secrets are never attached", 0
        limit = min(MENTION_MAX_BYTES, budget)
        cut = len(data) > limit
        try:
            body = codecs.getincrementaldecoder("utf-8")().decode(data[:limit], final=not cut)
        except UnicodeDecodeError:
            return None, "it is not UTF-8 text", 0
        body = self.host.redactor.redact(body)
        note = f"{shown} ({_human(size)})"
        if cut:
            omitted = size - len(body.encode())
            body += f"\n[... {omitted:,} more bytes not included; read_file can page through the rest ...]"
            note += f", first {_human(limit)} attached"
        return TextBlock(f'<context path="{shown}">\n{body}\n</context>'), note, min(len(data), limit)

    def _directory(self, path: Path, shown: str) -> tuple[TextBlock, str]:
        from agentcore.tools import walk_files

        names: list[str] = []
        more = 0
        for rel in walk_files(path):
            if self.host.content_denied(path / rel) is not None:
                continue
            if len(names) < DIRECTORY_MAX_ENTRIES:
                names.append(rel)
            else:
                more += 1
        names.sort(key=lambda rel: rel.split("/"))
        listing = "\n".join(names) or "(no files)"
        if more:
            listing += f"\n[... {more:,} more files not listed ...]"
        label = shown.rstrip("/") + "/"
        return TextBlock(f'<context path="{label}" kind="directory">\n{listing}\n</context>'), f"{label} ({len(names) + more} files listed)"


def _human(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def attachment_lines(result: Attachments) -> Iterable[tuple[str, str]]:
    """(text, style) lines telling the person what was attached and what was not."""
    for note in result.attached:
        yield f"attached {note}", "dim"
    for note in result.refused:
        yield note, "yellow"
