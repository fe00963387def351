"""What particular programs do with their arguments, beyond running them.

:mod:`agentcore.shell_syntax` finds the simple commands of a command line; this
module knows, program by program, the arguments that turn a harmless-looking
program into a way to run another one (``tar --to-command``, ``git rebase
--exec``, ``sed 's/x/y/e'``, ``uv run``), to set a variable that steers the next
program (``read PATH``, ``printf -v PATH``), or to write files the command does
not name (``tar -x``, ``sed -i``).

The invariant: a reason string means the analysis cannot vouch for the command
(it becomes opaque); None means nothing here makes it so. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple


class Word(NamedTuple):
    """One argv word as far as the text tells (a light record: thousands per command)."""

    text: str
    dynamic: bool = False  # contains an expansion or substitution
    glob: bool = False  # contains unquoted glob or brace characters
    splits: bool = False  # contains an unquoted expansion: may become several words
    misparsed: bool = False  # unquoted white space inside one word: the grammar split it unlike bash


# Options whose value is a command line (or a program) the program runs, by program.
# A word equal to one, or starting with one followed by "=" (long) or anything
# (short, glued: `-Icmd`), makes the command opaque.
_COMMAND_OPTIONS: dict[str, tuple[str, ...]] = {
    "tar": ("--to-command", "--checkpoint-action", "-I", "--use-compress-program", "--info-script", "-F",
            "--new-volume-script", "--rsh-command", "--rmt-command"),
    "zip": ("-TT", "--unzip-command"),
    "rsync": ("-e", "--rsh", "--rsync-path"),
    "sort": ("--compress-program",),
    "man": ("-P", "--pager", "-H", "--html"),
    "scp": ("-S", "-F"),
    "sftp": ("-S", "-F", "-D"),
    "ssh": ("-F", "-I"),
}
# ssh -o keys that run a local command or load code.
_SSH_COMMAND_KEYS = ("proxycommand", "localcommand", "permitlocalcommand", "knownhostscommand", "match",
                     "include", "pkcs11provider", "securitykeyprovider")
_SSH_PROGRAMS = frozenset({"ssh", "scp", "sftp"})
_VIM_PROGRAMS = frozenset("vi vim nvim view ex gvim rvim vimdiff".split())
_VIM_SCRIPT_OPTIONS = frozenset({"-c", "--cmd", "-S", "-u", "-s", "-W"})
_SED_PROGRAMS = frozenset({"sed", "gsed"})
_AWK_PROGRAMS = frozenset({"awk", "gawk", "mawk", "nawk", "busybox-awk"})
# awk text that runs a command, writes a file or loads code.
_AWK_RISKY = re.compile(r"system|\||print[^;}]*>|@|\bclose\b")
# (program, subcommand) pairs and programs that run the program named next: the
# command is judged as that program (a rule for `uv` is not a rule for `uv run rm`).
RUNNER_SUBCOMMANDS = frozenset({
    ("npm", "exec"), ("npm", "x"), ("pnpm", "exec"), ("pnpm", "dlx"), ("yarn", "exec"), ("yarn", "dlx"),
    ("uv", "run"), ("poetry", "run"), ("pdm", "run"), ("bundle", "exec"), ("pipx", "run"), ("hatch", "run"),
    ("conda", "run"), ("mise", "exec"), ("asdf", "exec"), ("rbenv", "exec"), ("pyenv", "exec"), ("bun", "x"),
})
RUNNER_PROGRAMS = frozenset({"npx", "pnpx", "bunx", "uvx"})
# Builtins that set a shell variable named by an argument.
_VARIABLE_SETTERS = frozenset({"read", "mapfile", "readarray", "getopts", "let", "declare", "typeset", "export",
                               "local", "readonly", "printf"})
_ASSIGNED_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\[[^]]*\])?\s*[-+*/%&|^<>]*=")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def runner_rest(words: Sequence[Word]) -> Sequence[Word] | str | None:
    """For a runner (``uv run X``, ``npx X``): the words of the program it runs;
    a reason when that program cannot be told (options before it); None when
    ``words`` is not a runner."""
    program = words[0].text
    if program in RUNNER_PROGRAMS:
        rest = words[1:]
    elif len(words) > 1 and (program, words[1].text) in RUNNER_SUBCOMMANDS:
        rest = words[2:]
    else:
        return None
    if rest and rest[0].text == "--":
        rest = rest[1:]
    if not rest:
        return None
    if rest[0].text.startswith("-") or rest[0].dynamic or rest[0].glob:
        return f"{program} runs a program this analysis cannot tell from its options"
    return rest


def program_reason(program: str, args: Sequence[Word], *, dangerous: Callable[[str], bool]) -> str | None:
    """Why ``program args`` may run something the analysis does not see; None if nothing here says so.
    ``dangerous(name)``: whether setting variable ``name`` can make a program run something else."""
    if program in _COMMAND_OPTIONS and _has_option(args, _COMMAND_OPTIONS[program]):
        return f"{program} has an option that runs a command"
    if program in _SSH_PROGRAMS and _ssh_runs_local_command(args):
        return f"{program} -o with a key that runs a local command"
    if program in _VIM_PROGRAMS and any(a.text in _VIM_SCRIPT_OPTIONS or a.text.startswith("+") for a in args):
        return f"{program} runs editor commands given on its command line"
    if program in ("less", "more") and any(a.text.startswith("+") or a.text.startswith("--lesskey") for a in args):
        return f"{program} runs commands given on its command line"
    if program == "rsync" and any(re.fullmatch(r"-[A-Za-z]*e[A-Za-z]*", a.text) for a in args):
        return "rsync -e runs a command"
    if program in _SED_PROGRAMS:
        return _sed_reason(program, args)
    if program in _AWK_PROGRAMS:
        return _awk_reason(program, args)
    if program in _VARIABLE_SETTERS:
        return _setter_reason(program, args, dangerous)
    return None


def _has_option(args: Sequence[Word], options: tuple[str, ...]) -> bool:
    for a in args:
        for option in options:
            if a.text == option or a.text.startswith(option + "="):
                return True
            if not option.startswith("--") and a.text.startswith(option) and not a.text.startswith("--"):
                return True
    return False


def _ssh_runs_local_command(args: Sequence[Word]) -> bool:
    for i, a in enumerate(args):
        value = None
        if a.text == "-o" and i + 1 < len(args):
            value = args[i + 1]
        elif a.text.startswith("-o") and len(a.text) > 2:
            value = a._replace(text=a.text[2:])
        if value is not None and (value.dynamic or value.text.strip().lower().startswith(_SSH_COMMAND_KEYS)):
            return True
    return False


def _setter_reason(program: str, args: Sequence[Word], dangerous: Callable[[str], bool]) -> str | None:
    names: list[Word] = []
    if program == "printf":
        for i, a in enumerate(args):
            if a.text == "-v" and i + 1 < len(args):
                names.append(args[i + 1])
            elif a.text.startswith("-v") and len(a.text) > 2:
                names.append(a._replace(text=a.text[2:]))
    elif program in ("mapfile", "readarray") and any(a.text.startswith("-C") for a in args):
        return f"{program} -C runs a command"
    else:
        for a in args:
            match = _ASSIGNED_NAME.match(a.text)
            if match:
                names.append(a._replace(text=match.group(1)))
            elif program != "let" and (a.dynamic or _NAME.match(a.text)):
                names.append(a)
    for name in names:
        if name.dynamic:
            return f"{program} sets a variable whose name is computed when the command runs"
        if dangerous(name.text):
            return f"{program} sets {name.text}, which can make a program run something else"
    return None


def _awk_reason(program: str, args: Sequence[Word]) -> str | None:
    for a in args:
        if a.text in ("-f", "--file", "-i", "--include", "-l", "--load", "-E", "--exec") or a.text.startswith(
            ("--file=", "--include=", "--load=", "--exec=")
        ):
            return f"{program} runs a script from a file"
        if a.text == "-v" or a.text == "-F" or (a.text.startswith("-") and len(a.text) > 1):
            continue
        if a.dynamic or _AWK_RISKY.search(a.text):
            return f"{program}'s script may run commands or write files"
        return None  # the first operand is the script; the rest are files
    return None


def _sed_reason(program: str, args: Sequence[Word]) -> str | None:
    scripts: list[Word] = []
    i = 0
    operands: list[Word] = []
    sandbox = False
    while i < len(args):
        a = args[i]
        text = a.text
        if text == "--":
            operands.extend(args[i + 1 :])
            break
        if text in ("-e", "--expression") and i + 1 < len(args):
            scripts.append(args[i + 1])
            i += 2
            continue
        if text.startswith("--expression="):
            scripts.append(a._replace(text=text.split("=", 1)[1]))
        elif text in ("-f", "--file") or text.startswith("--file="):
            return f"{program} runs a script from a file"
        elif text == "--sandbox":
            sandbox = True
        elif text in ("-l", "--line-length") and i + 1 < len(args):
            i += 1
        elif text.startswith("--") or text == "-":
            pass
        elif text.startswith("-") and not a.dynamic:
            cluster = text[1:]
            for at, flag in enumerate(cluster):
                if flag in "i":
                    break  # the rest is the backup suffix
                if flag == "f":
                    return f"{program} runs a script from a file"
                if flag in "el":
                    rest = cluster[at + 1 :]
                    if flag == "e":
                        if rest:
                            scripts.append(a._replace(text=rest))
                        elif i + 1 < len(args):
                            scripts.append(args[i + 1])
                            i += 1
                    elif not rest:
                        i += 1
                    break
        else:
            operands.append(a)
        i += 1
    if not scripts and operands:
        scripts.append(operands[0])
    if sandbox:
        return None
    for script in scripts:
        if script.dynamic or sed_script_acts(script.text):
            return f"{program}'s script may run commands or write files"
    return None


def sed_operands(args: Sequence[Word]) -> tuple[bool, list[Word]]:
    """(whether sed edits in place, the files it reads) for sed's ``args``."""
    in_place = False
    has_script_option = False
    operands: list[Word] = []
    i = 0
    while i < len(args):
        text = args[i].text
        if text == "--":
            operands.extend(args[i + 1 :])
            break
        if text in ("-e", "--expression", "-f", "--file", "-l", "--line-length"):
            has_script_option = has_script_option or text not in ("-l", "--line-length")
            i += 2
            continue
        if text.startswith(("--expression=", "--file=")):
            has_script_option = True
        elif text.startswith("--in-place"):
            in_place = True
        elif text.startswith("-") and not text.startswith("--") and text != "-":
            cluster = text[1:]
            for at, flag in enumerate(cluster):
                if flag == "i":
                    in_place = True
                    break
                if flag in "efl":
                    has_script_option = has_script_option or flag != "l"
                    if not cluster[at + 1 :]:
                        i += 1
                    break
        else:
            operands.append(args[i])
        i += 1
    return in_place, operands if has_script_option else operands[1:]


def sed_script_acts(script: str) -> bool:
    """Whether a sed script may run a command or write a file (``e``, ``w``, ``W``
    commands, ``s///e`` and ``s///w`` flags); True for anything it cannot read."""
    i, n = 0, len(script)
    while i < n:
        while i < n and script[i] in " \t\n;{}!":
            i += 1
        if i >= n:
            return False
        i = _skip_addresses(script, i)
        if i < 0:
            return True
        while i < n and script[i] in " \t!":
            i += 1
        if i >= n:
            return False
        command = script[i]
        i += 1
        if command in "ewW":
            return True
        if command in "{}":
            continue
        if command == "s":
            i = _skip_delimited(script, i, parts=2)
            if i < 0:
                return True
            while i < n and script[i] not in ";\n}":
                if script[i] in "ew":
                    return True
                if script[i] not in "gpiImM0123456789 \t":
                    return True
                i += 1
        elif command == "y":
            i = _skip_delimited(script, i, parts=2)
            if i < 0:
                return True
        elif command in "aicrRbtT:#vFLqQlz=dDgGhHnNpPx":
            if command in "aicrRbtT:#v":  # the rest of the line is text, a label or a file to read
                end = script.find("\n", i)
                i = n if end < 0 else end
            elif command in "qQlL":
                while i < n and (script[i].isdigit() or script[i] in " \t"):
                    i += 1
        else:
            return True
    return False


def _skip_addresses(script: str, i: int) -> int:
    for _ in range(2):
        n = len(script)
        if i < n and (script[i].isdigit() or script[i] == "$"):
            while i < n and (script[i].isdigit() or script[i] in "$~"):
                i += 1
        elif i < n and (script[i] == "/" or script[i] == "\\"):
            if script[i] == "\\":
                i += 1
            i = _skip_delimited(script, i, parts=1)
            if i < 0:
                return -1
            while i < n and script[i] in "IM":
                i += 1
        if i < n and script[i] == ",":
            i += 1
            while i < n and script[i] in "+~":
                i += 1
            continue
        break
    return i


def _skip_delimited(script: str, i: int, *, parts: int) -> int:
    """Past ``parts`` fields delimited by the character at ``i`` (backslash escapes honoured); -1 if unclosed."""
    if i >= len(script) or script[i] in "\n\\":
        return -1
    delimiter = script[i]
    i += 1
    for _ in range(parts):
        while i < len(script) and script[i] != delimiter:
            i += 2 if script[i] == "\\" else 1
        if i >= len(script):
            return -1
        i += 1
    return i


_GIT_CONFIG_RUNS = ("alias.", "core.", "filter.", "diff.", "merge.", "credential.", "include", "gpg.",
                    "sequence.", "pager.", "uploadpack.", "receivepack.", "remote.")
# git options that run a command or point git at a configuration the model may
# have written, for any subcommand (`=value` or a separate value) ...
_GIT_RUN_OPTIONS = ("--config-env", "--exec-path", "--upload-pack", "--receive-pack", "--exec", "--git-dir",
                    "--work-tree", "--template", "--config", "--extcmd", "--open-files-in-pager", "--sendmail-cmd",
                    "--to-cmd", "--cc-cmd", "--header-cmd", "--smtp-server", "--httpd")
# ... short options that do so only for some subcommands (`git clean -x` is harmless) ...
_GIT_SHORT_RUN_OPTIONS = {"difftool": ("-x",), "rebase": ("-x",), "grep": ("-O",), "clone": ("-u",),
                          "fetch": ("--upload-pack",), "instaweb": ("-H",)}
# ... and subcommands that run a command given as their arguments.
_GIT_RUNNING_SUBCOMMANDS = {("bisect", "run"), ("submodule", "foreach"), ("filter-branch", None),
                            ("instaweb", None), ("filter-repo", None)}
# Options of git itself that take a value as the next word.
_GIT_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--namespace", "--git-dir", "--work-tree", "--super-prefix",
                                    "--exec-path", "--config-env", "--list-cmds"})


def git_reason(args: list[Word]) -> str | None:
    """Why ``git args`` may run a command the analysis does not see; None if nothing says so."""
    if any(a.splits for a in args):
        return "git gets arguments computed when the command runs"
    for a in args:
        text = a.text
        if text == "-c" or (text.startswith("-c") and "=" in text) or text.startswith(_GIT_RUN_OPTIONS):
            return f"git {text.split('=', 1)[0]} can make git run any command"
    subcommand, rest = _git_subcommand(args)
    for option in _GIT_SHORT_RUN_OPTIONS.get(subcommand, ()):
        if any(a.text == option or (a.text.startswith(option) and not a.text.startswith("--")) for a in rest):
            return f"git {subcommand} {option} runs a command"
    first = rest[0].text if rest else None
    if (subcommand, None) in _GIT_RUNNING_SUBCOMMANDS or (subcommand, first) in _GIT_RUNNING_SUBCOMMANDS:
        return f"git {subcommand} runs commands it is given"
    if subcommand == "config" and not _git_config_reads(rest):
        for a in rest:
            key = a.text.lower()
            if key.startswith(_GIT_CONFIG_RUNS) or ("." in key and key.endswith(_GIT_KEY_RUNS)):
                return f"git config {a.text} can make git run any command"
    return None


_GIT_KEY_RUNS = ("command", "cmd", "program", "editor", "pager", "hookspath", "fsmonitor", "askpass", "helper",
                 "driver", "tool", "path", "textconv", "clean", "smudge", "process")


def _git_config_reads(args: list[Word]) -> bool:
    """``git config --get x`` / ``git config get x`` / ``--unset``: nothing is set to a command."""
    texts = [a.text for a in args]
    if texts[:1] in (["get"], ["list"], ["unset"], ["remove-section"]):
        return True
    return any(t.startswith(("--get", "--list", "--unset", "--remove-section")) or t == "-l" for t in texts)


def _git_subcommand(args: list[Word]) -> tuple[str, list[Word]]:
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        i += 2 if args[i].text in _GIT_GLOBAL_WITH_VALUE else 1
    if i >= len(args):
        return "", []
    return args[i].text, args[i + 1 :]


def extracts_archive(program: str, args: Sequence[Word]) -> bool:
    """Whether ``program args`` unpacks an archive (it writes whatever the archive holds)."""
    texts = [a.text for a in args]
    match program:
        case "tar" | "bsdtar" | "gtar":
            first = texts[0] if texts else ""
            if first and not first.startswith("-") and "x" in first:
                return True  # old-style bundled flags: `tar xzf a.tgz`
            return any(t in ("--extract", "--get") or re.fullmatch(r"-[A-Za-z]*x[A-Za-z]*", t) for t in texts)
        case "unzip":
            return not any(t in ("-l", "-t", "-v", "-p", "-Z", "-z") for t in texts)
        case "cpio":
            return any(t in ("--extract",) or re.fullmatch(r"-[A-Za-z]*i[A-Za-z]*", t) for t in texts)
        case "7z" | "7za" | "7zr":
            return bool(texts) and texts[0] in ("x", "e")
        case "ar":
            return bool(texts) and "x" in texts[0]
        case _:
            return False

