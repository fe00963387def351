"""Command patterns: the subject of a rule like ``bash(git status *)``.

A pattern is a list of words compared with the normalised words of one
simple command (see :mod:`agentcore.shell_syntax`): quotes removed, the
program reduced to its basename, wrappers stripped. A bare ``*`` word matches
any run of words, zero included; a ``*`` glued to the end of the last word
(``git status*``, the older spelling) means the same at a word boundary, so
it never matches ``git statusx``. Inside a word ``*`` is literal; write
``'*'`` for a literal star word.

:func:`always_patterns` chooses what an "allow always" answer saves: the
narrowest patterns that still cover what the user saw — never ``*`` alone and
never a prefix glob, and the exact words for programs that destroy data.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Iterator, Sequence

import attrs

from agentcore.shell_syntax import INTERPRETERS, SHELLS, ShellAnalysis, SimpleCommand, program_basename, program_name, unwrap_words

ANY = None  # a pattern word matching any run of words
PATTERN_CACHE_ENTRIES = 512  # distinct rule subjects; configs hold tens

# Programs whose first argument is a subcommand ("git status" differs from "git push"),
# so an "always" answer should cover that subcommand only.
SUBCOMMAND_PROGRAMS = frozenset(
    "git npm pnpm yarn bun deno cargo go docker podman kubectl helm pip pip3 uv poetry "
    "gh apt apt-get brew make just npx terraform dotnet mvn gradle systemctl".split()
)
# Programs that destroy or overwrite data: "always" covers exactly what was shown.
DESTRUCTIVE_PROGRAMS = frozenset(
    "rm rmdir unlink mv dd chmod chown chgrp kill pkill killall shred truncate wipefs fdisk sfdisk parted "
    "mkswap srm install ln reboot shutdown halt poweroff crontab".split()
)
_DESTRUCTIVE_PREFIXES = ("mkfs",)


@attrs.frozen
class CommandPattern:
    words: tuple[str | None, ...]

    @classmethod
    def parse(cls, text: str) -> CommandPattern:
        return _parse_cached(text)

    def matches(self, words: Sequence[str]) -> bool:
        return _match(self.words, tuple(words))

    def __str__(self) -> str:
        return " ".join("*" if w is ANY else _quote(w) for w in self.words)

    @property
    def admits(self) -> str:
        """What the pattern lets run, in words a person can check."""
        if not self.words:
            return "nothing"
        if self.words == (ANY,):
            return "any command"
        if self.words[-1] is ANY and ANY not in self.words[:-1]:
            return f"`{CommandPattern(self.words[:-1])}` with any arguments"
        return f"exactly `{self}`"


@functools.lru_cache(maxsize=PATTERN_CACHE_ENTRIES)
def _parse_cached(text: str) -> CommandPattern:
    words = _split_pattern(text)
    if not words or words[0] is ANY:
        return CommandPattern(tuple(words))
    literal = [w for w in words]
    head = program_name(literal[0] or "")
    plain = tuple(w if w is not ANY else _ANY_MARK for w in [head, *literal[1:]])
    unwrapped = unwrap_words(plain, stop=_ANY_MARK)
    return CommandPattern(tuple(ANY if w == _ANY_MARK else w for w in unwrapped))


_ANY_MARK = "\x00*"


def _split_pattern(text: str) -> list[str | None]:
    """Words of a rule subject: quotes group and are removed; an unquoted ``*``
    word, or an unquoted ``*`` ending the last word, is :data:`ANY`."""
    words: list[str | None] = []
    current: list[str] = []
    started = False
    quote = ""
    trailing_star = False  # the current word ends with an unquoted star
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"' and i + 1 < len(text):
                i += 1
                current.append(text[i])
            else:
                current.append(char)
            trailing_star = False
        elif char in "'\"":
            quote, started, trailing_star = char, True, False
        elif char == "\\" and i + 1 < len(text):
            i += 1
            current.append(text[i])
            started, trailing_star = True, False
        elif char.isspace():
            if started:
                _finish(words, current, trailing_star)
            current, started, trailing_star = [], False, False
        else:
            current.append(char)
            started, trailing_star = True, char == "*"
        i += 1
    if started:
        _finish(words, current, trailing_star)
    return words


def _finish(words: list[str | None], current: list[str], trailing_star: bool) -> None:
    text = "".join(current)
    if trailing_star:
        stem = text[:-1]
        if stem:
            words.append(stem)
        words.append(ANY)
    else:
        words.append(text)


def _match(pattern: tuple[str | None, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head is ANY:
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    return bool(words) and words[0] == head and _match(rest, words[1:])


def _quote(word: str) -> str:
    return word if word and all(c.isalnum() or c in "-_./:=@%+,^" for c in word) else shlex.quote(word)


def is_destructive(program: str) -> bool:
    return program in DESTRUCTIVE_PROGRAMS or program.startswith(_DESTRUCTIVE_PREFIXES)


def always_patterns(analysis: ShellAnalysis) -> tuple[CommandPattern, ...]:
    """One narrow pattern per distinct simple command; none for an opaque command."""
    if analysis.is_opaque:
        return ()
    return tuple(dict.fromkeys(always_pattern(c) for c in analysis.commands))


def always_pattern(command: SimpleCommand) -> CommandPattern:
    words = command.words
    program = words[0]
    base = program_basename(program)
    if not program or is_destructive(base) or base in SHELLS or base in INTERPRETERS:
        return CommandPattern(words)
    if program in SUBCOMMAND_PROGRAMS:
        if len(words) == 1:
            return CommandPattern((program, ANY))
        if not words[1].startswith("-"):
            return CommandPattern((program, words[1], ANY))
        return CommandPattern(words)
    return CommandPattern((program, ANY))


# Programs that do the same harm: a deny or ask rule for one holds for the others
# (`bash(rm *)` also refuses `unlink x`), with the arguments compared as written.
_SAME_HARM = (frozenset({"rm", "unlink", "rmdir", "shred", "srm"}), frozenset({"kill", "pkill", "killall"}))


def subject_hits(subject: str | None, target: ShellAnalysis | SimpleCommand, *, outer_views: bool = False) -> bool:
    """Whether a rule subject matches a simple command of ``target``.

    Allow rules (``outer_views=False``) see only the command with wrappers
    stripped; deny and ask rules also see it as written around each wrapper
    (``sudo *`` denies ``sudo rm x``) and under the names of programs that do
    the same harm.
    """
    if subject is None:
        return True
    pattern = CommandPattern.parse(subject)
    commands = target.commands if isinstance(target, ShellAnalysis) else (target,)
    for command in commands:
        views = _deny_views(command) if outer_views else (command.words,)
        if any(pattern.matches(v) for v in views):
            return True
    return False


def _deny_views(command: SimpleCommand) -> Iterator[tuple[str, ...]]:
    yield command.words
    yield from command.views
    program = program_basename(command.program)
    if program != command.program:  # `./rm x`, `/opt/bin/rm x`: a deny rule for rm holds
        yield (program, *command.words[1:])
    for family in _SAME_HARM:
        if program in family:
            yield from ((alias, *command.words[1:]) for alias in family)


def path_words(analysis: ShellAnalysis) -> Iterator[str]:
    """Arguments that may name files (operands and ``--opt=value`` values), and redirection targets."""
    for command in analysis.commands:
        for word in command.words[1:]:
            if word.startswith("--") and "=" in word:
                yield word.split("=", 1)[1]
            elif word and not word.startswith("-"):
                yield word
    for write in analysis.writes:
        yield write.path
