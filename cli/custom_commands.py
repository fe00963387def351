"""Custom slash commands: Markdown files whose body becomes a prompt.

``<dir>/review.md`` is ``/review``, ``<dir>/git/commit.md`` is ``/git:commit``.
``/review some args`` sends the body with ``$ARGUMENTS`` replaced by
``some args`` and ``$1`` .. ``$9`` by the words of it (shell-like quoting);
a body with no placeholder gets the arguments appended. Optional front matter
between ``---`` lines gives ``description:`` (shown by ``/help`` and
completion) and ``argument-hint:``.

Invariant: a project's ``.agent/commands/`` is read only when the folder is
trusted (like every other project file that steers the agent); the user's
``<config dir>/commands/`` always is. A command never shadows a built-in one.
A file that cannot be read or has bad front matter costs that command and one
line saying why, nothing else.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

import attrs

from agentcore.errors import InputError

COMMANDS_DIR_NAME = "commands"
COMMAND_SUFFIX = ".md"
COMMAND_MAX_BYTES = 256 * 1024  # a prompt template, not a document; bigger files are refused
NAME_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
FRONT_MATTER_KEYS = frozenset({"description", "argument-hint", "argument_hint"})
POSITIONAL = re.compile(r"\$([1-9])")


@attrs.frozen
class CustomCommand:
    name: str  # "review", "git:commit"
    body: str
    source: Path
    scope: str  # "project" or "user"
    description: str = ""
    argument_hint: str = ""

    @property
    def usage(self) -> str:
        return f"/{self.name}" + (f" {self.argument_hint}" if self.argument_hint else "")

    def expand(self, arguments: str) -> str:
        """The prompt for ``/name arguments``."""
        try:
            words = shlex.split(arguments)
        except ValueError:  # an unbalanced quote: plain words will do
            words = arguments.split()
        has_placeholder = "$ARGUMENTS" in self.body or POSITIONAL.search(self.body) is not None
        text = self.body.replace("$ARGUMENTS", arguments)
        text = POSITIONAL.sub(lambda m: words[int(m.group(1)) - 1] if int(m.group(1)) <= len(words) else "", text)
        if arguments and not has_placeholder:
            text = f"{text.rstrip()}\n\n{arguments}"
        return text.strip()


class CommandFileError(InputError):
    """Why one command file was not loaded (shown as one line, never raised to the chat)."""


def parse_command(text: str) -> tuple[dict[str, str], str]:
    """(front matter, body) of a command file."""
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        raise CommandFileError("front matter starts with --- but never ends")
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            raise CommandFileError(f"front matter line {number} is not `key: value`")
        key = key.strip().lower()
        if key in FRONT_MATTER_KEYS:
            fields[key.replace("_", "-")] = value.strip().strip("\"'")
    return fields, "\n".join(lines[end + 1 :])


def _command_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if not all(NAME_PART.match(p) for p in parts):
        raise CommandFileError("names may use letters, digits, '-', '_' and '.' only")
    return ":".join(parts)


def load_dir(root: Path, scope: str) -> tuple[list[CustomCommand], list[str]]:
    """The commands under ``root`` (sorted by name) and one error line per bad file."""
    commands: list[CustomCommand] = []
    errors: list[str] = []
    if not root.is_dir():
        return commands, errors
    for path in sorted(root.rglob(f"*{COMMAND_SUFFIX}")):
        try:
            if not path.is_file():
                continue
            name = _command_name(path, root)
            if not path.resolve().is_relative_to(root.resolve()):
                raise CommandFileError("it is a link to a file outside the commands folder")
            if path.stat().st_size > COMMAND_MAX_BYTES:
                raise CommandFileError(f"larger than {COMMAND_MAX_BYTES // 1024} KB")
            fields, body = parse_command(path.read_text(encoding="utf-8"))
            if not body.strip():
                raise CommandFileError("the body is empty")
        except CommandFileError as exc:
            errors.append(f"custom command {path}: {exc}")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
            errors.append(f"custom command {path}: cannot be read ({why})")
            continue
        commands.append(
            CustomCommand(
                name=name,
                body=body,
                source=path,
                scope=scope,
                description=fields.get("description", ""),
                argument_hint=fields.get("argument-hint", ""),
            )
        )
    return commands, errors


@attrs.frozen
class CommandSet:
    commands: dict[str, CustomCommand]
    notes: tuple[str, ...]  # errors and shadowing, one line each


def load_commands(dirs: Iterable[tuple[str, Path]], *, builtin: Sequence[str]) -> CommandSet:
    """Commands from ``(scope, dir)`` pairs, later scopes overriding earlier ones
    of the same name (the user's own over a project's); built-in names win."""
    found: dict[str, CustomCommand] = {}
    notes: list[str] = []
    for scope, root in dirs:
        commands, errors = load_dir(root, scope)
        notes += errors
        for command in commands:
            if command.name.lower() in builtin:
                notes.append(f"custom command /{command.name} ({command.source}) is not used: /{command.name} is built in")
                continue
            previous = found.get(command.name)
            if previous is not None:
                notes.append(f"custom command /{command.name}: {command.source} overrides {previous.source}")
            found[command.name] = command
    return CommandSet(found, tuple(notes))


class CommandCatalog:
    """The custom commands of one chat, re-read whenever they are looked up
    (a few small files), each problem said once.

    ``project_dir`` is None when the folder is not trusted: its commands are
    then not read at all (one line says so if it has any)."""

    def __init__(self, *, user_dir: Path, project_dir: Path | None, untrusted_dir: Path | None,
                 builtin: Callable[[], Collection[str]], say: Callable[[str], None]) -> None:  # fmt: skip
        self.user_dir = user_dir
        self.project_dir = project_dir
        self.untrusted_dir = untrusted_dir
        self._builtin = builtin
        self._say = say
        self._said: set[str] = set()

    def load(self, *, quiet: bool = False) -> dict[str, CustomCommand]:
        """The commands now; problems are said unless ``quiet`` (while the prompt is drawn)."""
        dirs = [("project", self.project_dir)] if self.project_dir is not None else []
        loaded = load_commands([*dirs, ("user", self.user_dir)], builtin=tuple(self._builtin()))
        notes = list(loaded.notes)
        if self.untrusted_dir is not None and any(self.untrusted_dir.rglob(f"*{COMMAND_SUFFIX}")):
            notes.append(f"custom commands in {self.untrusted_dir} are not loaded: this folder is not trusted (agent trust)")
        for note in notes if not quiet else ():
            if note not in self._said:
                self._said.add(note)
                self._say(note)
        return loaded.commands
