"""Which shell command lines only read: the plan mode's shell allowlist.

:func:`not_read_only` says why a command line might change something, or
None when every part of it is known to only read. The invariant: None only
when the analysis saw through the whole line (nothing opaque), it writes no
file (redirections and ``tee`` included; only ``/dev/null`` and the standard
streams are fine), and every simple command in it is a program on the short
list below with no argument that makes it write, delete or run another
program. Anything unknown is "not read-only": the list only grows by review.

Pure: no I/O, no process state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentcore.shell_syntax import ShellAnalysis, SimpleCommand

# Targets a read-only command may still redirect into.
HARMLESS_WRITES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})

# Programs that only read, whatever their operands, unless an option below says otherwise.
READ_ONLY_PROGRAMS = frozenset(
    """
    ls dir cat tac head tail wc grep egrep fgrep rg ag pwd echo printf true false test [ file stat
    du df which whereis type whoami id uname basename dirname realpath readlink diff cmp comm cut
    tr nl column jq sed awk gawk mawk find fd fdfind tree sort uniq cd pushd popd nproc printenv locale
    md5sum sha1sum sha256sum sha512sum cksum od hexdump strings git date sleep seq expr
    """.split()
)
# Options that make an otherwise read-only program write files or run programs.
_WRITING_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "sort": ("-o", "--output"),
    "tree": ("-o", "-R"),
    "rg": ("--pre", "--pre-glob"),
    "fd": ("-x", "--exec", "-X", "--exec-batch"),
    "fdfind": ("-x", "--exec", "-X", "--exec-batch"),
    "date": ("-s", "--set"),
    "sed": ("-i", "--in-place"),
    "file": ("-C", "--compile"),
}
# git subcommands that only read (plus what each must not be given).
GIT_READ_ONLY = frozenset(
    "status log diff show blame ls-files ls-tree rev-parse grep describe shortlog cat-file rev-list "
    "show-ref merge-base name-rev count-objects whatchanged reflog".split()
)
_GIT_LISTING_ONLY = {
    # Subcommands that read only when given nothing but these options (else they create or delete).
    "branch": frozenset("-a --all -r --remotes -v -vv --verbose --list -l --show-current --no-color --color".split()),
    "tag": frozenset("-l --list -n".split()),
    "remote": frozenset("-v --verbose show".split()),
}
# Subcommands whose first word must be one of these (a bare `git stash` stashes); options may follow.
_GIT_READING_ACTIONS = {"stash": frozenset({"list", "show"}), "worktree": frozenset({"list"})}
_GIT_WRITING_OPTIONS = ("--output",)  # `git diff --output=FILE` (`git grep -O` is opaque already)
_GIT_GLOBAL_OK = frozenset({"--no-pager", "-P", "--no-optional-locks"})


def not_read_only(analysis: ShellAnalysis) -> str | None:
    """Why ``analysis``'s command line may change something; None when it only reads."""
    if analysis.is_opaque:
        return analysis.opaque[0]
    for target in analysis.writes:
        if not target.known or target.path not in HARMLESS_WRITES:
            return f"it writes {target.path}"
    if not analysis.commands:
        return "it runs nothing that is known to only read"
    for command in analysis.commands:
        why = _command_reason(command)
        if why is not None:
            return why
    return None


def _command_reason(command: SimpleCommand) -> str | None:
    program, args = command.program, command.words[1:]
    if program not in READ_ONLY_PROGRAMS:
        return f"{program or 'the command'} is not on the list of read-only programs"
    if program == "git":
        return _git_reason(args)
    if program == "uniq" and len([a for a in args if not a.startswith("-")]) > 1:  # `uniq IN OUT` writes OUT
        return "uniq with two files writes the second"
    bad = _first_option(args, _WRITING_OPTIONS.get(program, ()))
    if bad is not None:
        return f"{program} {bad} writes files or runs programs"
    return None


def _first_option(args: Sequence[str], options: Sequence[str]) -> str | None:
    """The first of ``args`` that is one of ``options``: ``--opt``, ``--opt=value``, or a
    short option anywhere in a bundle of them (``-uo FILE``; a false alarm only denies)."""
    for arg in args:
        if arg == "--":
            return None
        for option in options:
            if option.startswith("--"):
                if arg == option or arg.startswith(option + "="):
                    return option
            elif arg.startswith("-") and not arg.startswith("--") and option[1] in arg[1:]:
                return option
    return None


def _git_reason(args: Sequence[str]) -> str | None:
    rest = list(args)
    while rest and rest[0].startswith("-"):
        if rest[0] not in _GIT_GLOBAL_OK:
            return f"git {rest[0]} is not known to be read-only"
        rest.pop(0)
    if not rest:
        return None  # plain `git`: prints its usage
    sub, options = rest[0], rest[1:]
    if sub in GIT_READ_ONLY:
        bad = _first_option(options, _GIT_WRITING_OPTIONS)
        if bad is not None:
            return f"git {sub} {bad} writes a file"
        return None
    actions = _GIT_READING_ACTIONS.get(sub)
    if actions is not None and options and options[0] in actions:
        if all(o.startswith("-") for o in options[1:]) and _first_option(options, _GIT_WRITING_OPTIONS) is None:
            return None
    allowed = _GIT_LISTING_ONLY.get(sub)
    if allowed is not None and all(_listing_word(word, allowed) for word in options):
        return None
    return f"git {sub} may change the repository"


def _listing_word(word: str, allowed: frozenset[str]) -> bool:
    return word in allowed or any(word.startswith(a + "=") for a in allowed if a.startswith("--"))

