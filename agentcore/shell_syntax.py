"""What a shell command line will run, as far as its text can tell.

:func:`analyse_command` parses a command with tree-sitter's bash grammar and
returns every simple command in it (across ``;``, ``&&``, ``||``, pipes,
newlines, subshells, groups, ``$(…)``, backticks, process substitution and the
bodies of ``if``/``for``/``while``/``case`` and functions), each as normalised
argv words: quotes and escapes removed, the program reduced to its basename,
wrappers (``sudo``, ``env``, ``timeout``, ``sh -c '…'``, …) stripped.

The invariant: a command the analysis cannot see through completely is
*opaque* — it carries at least one reason in :attr:`ShellAnalysis.opaque`.
Nothing here ever raises on odd input (parse errors, odd Unicode, NUL bytes);
whatever the parser cannot handle becomes an opaque reason. The permission
gate may therefore trust :attr:`ShellAnalysis.commands` exactly when
``opaque`` is empty.

Pure: no I/O, no process state. Results are cached by command string.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
from collections.abc import Iterator, Sequence
import attrs
import tree_sitter
import tree_sitter_bash

from agentcore.shell_programs import Word, extracts_archive, git_reason, program_reason, runner_rest, sed_operands

ANALYSIS_CACHE_ENTRIES = 1024  # distinct command strings kept; a session repeats a few hundred at most
SHELL_C_DEPTH_LIMIT = 4  # nested `sh -c 'sh -c …'` levels looked into before giving up (opaque)
COMMAND_CHARS_LIMIT = 100_000  # longer command lines are not parsed at all (opaque)

# Programs that run another program given as their arguments, and take no script.
PLAIN_WRAPPERS = frozenset(
    "command builtin exec env nice timeout sudo doas nohup time stdbuf setsid ionice busybox".split()
)
SHELLS = frozenset("sh bash dash zsh ksh mksh ash posh".split())
# Shells with a syntax this module does not parse: `-c` scripts for them stay opaque.
FOREIGN_SHELLS = frozenset("fish csh tcsh xonsh nu pwsh powershell elvish".split())
INTERPRETERS = frozenset(
    "python python2 python3 node nodejs perl ruby php lua luajit Rscript osascript deno bun".split()
)
_INTERPRETER_SCRIPT_FLAGS = frozenset({"-c", "-e", "-E", "--eval", "-p", "--print", "-r", "--command"})
# Programs that run strings or other programs in ways this module does not follow.
OPAQUE_PROGRAMS: dict[str, str] = {
    "eval": "eval runs a string as a command",
    "source": "source runs a script file",
    ".": ". runs a script file",
    "xargs": "xargs runs commands built from its input",
    "trap": "trap runs a string as a command",
    "alias": "alias redefines command names",
    "hash": "hash can remap command names",
    "enable": "enable can load builtins",
    "coproc": "coproc runs a command in the background",
    "watch": "watch runs a string as a command",
    "parallel": "parallel runs commands built from its input",
    "su": "su runs a command as another user",
    "runuser": "runuser runs a command as another user",
    "chroot": "chroot runs a command in another root",
    "script": "script runs a command in a terminal",
    "flock": "flock runs a command",
    "strace": "strace runs a command",
    "ltrace": "ltrace runs a command",
    "unshare": "unshare runs a command",
    "nsenter": "nsenter runs a command",
    "firejail": "firejail runs a command",
    "fakeroot": "fakeroot runs a command",
    "proot": "proot runs a command",
    "systemd-run": "systemd-run runs a command",
    "unbuffer": "unbuffer runs a command",
    "taskset": "taskset runs a command",
    "at": "at runs commands from its input later",
    "batch": "batch runs commands from its input later",
    "chrt": "chrt runs a command",
}
_FIND_ACTIONS = frozenset("-exec -execdir -ok -okdir -delete -fprint -fprint0 -fprintf -fls".split())
# Variables that make an innocent-looking program run something else.
_DANGEROUS_ENV_NAMES = frozenset(
    "BASH_ENV ENV PATH PAGER EDITOR VISUAL PROMPT_COMMAND SHELLOPTS BASHOPTS IFS PS4 HOME ZDOTDIR "
    "XDG_CONFIG_HOME PYTHONPATH PYTHONSTARTUP PYTHONHOME NODE_OPTIONS NODE_PATH PERL5OPT PERL5LIB PERLLIB "
    "RUBYOPT RUBYLIB LESSOPEN LESSCLOSE BROWSER SHELL SSH_ASKPASS SUDO_ASKPASS JAVA_TOOL_OPTIONS "
    "_JAVA_OPTIONS CDPATH".split()
)
_DANGEROUS_ENV_PREFIXES = ("LD_", "DYLD_", "GIT_", "BASH_FUNC_", "NPM_CONFIG_")
_DANGEROUS_ENV_SUFFIXES = ("PAGER", "EDITOR", "ASKPASS")
_CD_PROGRAMS = frozenset({"cd", "pushd"})
# Programs that create, change or remove the files they name, so protected-path and
# outside-the-workspace checks apply to them as to a redirection: every operand ...
_WRITES_EVERY_OPERAND = frozenset("touch mkdir rm rmdir unlink shred truncate link".split())
# ... every operand after the first (a mode, an owner, a script) ...
_WRITES_AFTER_FIRST = frozenset("chmod chown chgrp".split())
# ... or the destination: the last operand, or the -t/--target-directory option.
_COPIERS = frozenset("cp mv install ln rsync scp".split())
_WRITE_OPERATORS = frozenset({">", ">>", "&>", "&>>", ">|"})
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
_UNQUOTED_GLOB = re.compile(r"[*?\[{]")
# Nodes that hold no command, redirection or assignment: the walk does not descend into them.
_REDIRECTS = frozenset({"file_redirect", "herestring_redirect", "heredoc_redirect"})
_LEAVES = frozenset({"word", "raw_string", "number", "ansi_c_string", "string_content", "variable_name",
                     "test_operator", "file_descriptor", "heredoc_start", "heredoc_end", "comment"})


@attrs.frozen
class SimpleCommand:
    """One program run: ``words`` with wrappers stripped; ``views`` the same
    command as written before each wrapper was stripped, outermost first."""

    words: tuple[str, ...]
    views: tuple[tuple[str, ...], ...] = ()

    @property
    def program(self) -> str:
        return self.words[0] if self.words else ""


@attrs.frozen
class WriteTarget:
    """A file a redirection or ``tee`` writes; ``known`` is False when the
    path contains an expansion the analysis cannot resolve."""

    path: str
    known: bool = True


@attrs.frozen
class ShellAnalysis:
    command: str
    commands: tuple[SimpleCommand, ...] = ()
    opaque: tuple[str, ...] = ()
    writes: tuple[WriteTarget, ...] = ()
    # Directories the command changes into (cd/pushd); "" when not literal.
    directories: tuple[str, ...] = ()

    @property
    def is_opaque(self) -> bool:
        return bool(self.opaque)


_NON_ASCII = re.compile(rb"[\x80-\xff]")
# The UTF-8 source of the script being walked (see _Collector.script).
_SOURCE: contextvars.ContextVar[bytes] = contextvars.ContextVar("shell_source")
_UNESCAPED_SPACE = re.compile(r"(?<!\\)\s")
_LONE_CONTROL = re.compile(r"\r(?!\n)|[\x0b\x0c]")


@functools.cache
def _query() -> tree_sitter.Query:
    return tree_sitter.Query(
        _parser().language,
        "(command) @command (file_redirect) @redirect (variable_assignment) @assignment "
        "(command_substitution) @substitution (declaration_command) @declaration "
        "(for_statement variable: (variable_name) @loop_variable)",
    )


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


@functools.lru_cache(maxsize=ANALYSIS_CACHE_ENTRIES)
def analyse_command(command: str) -> ShellAnalysis:
    """The simple commands, opaque reasons and written files of ``command``."""
    collector = _Collector()
    try:
        collector.script(command, views=(), depth=0)
    except RecursionError:
        collector.opaque.append("the command is nested too deeply to analyse")
    return ShellAnalysis(
        command=command,
        commands=tuple(dict.fromkeys(collector.commands)),
        opaque=tuple(dict.fromkeys(collector.opaque)),
        writes=tuple(dict.fromkeys(collector.writes)),
        directories=tuple(dict.fromkeys(collector.directories)),
    )


# Where the system's own programs live: "/usr/bin/git" is the git a rule names,
# "./git" or "/tmp/x/git" is some other program that happens to share its name.
SYSTEM_PROGRAM_DIRS = frozenset(
    {"/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin"}
)


def program_name(text: str) -> str:
    """How rules and commands name a program: ``/usr/bin/rm`` -> ``rm`` (a system
    directory), while a program run by any other path keeps it (``./git``,
    ``/tmp/x/git``): a rule for ``git`` must not admit a script the model wrote."""
    if "/" not in text:
        return text
    folder, _, base = text.rpartition("/")
    if not base:
        return text
    if os.path.normpath(folder or "/") in SYSTEM_PROGRAM_DIRS:
        return base
    return text if text.startswith(("/", "./", "../", "~")) else f"./{text}"


def program_basename(text: str) -> str:
    """The bare name of a program however it was run (deny rules look at it too)."""
    return text.rsplit("/", 1)[-1] or text


def unwrap_words(words: tuple[str, ...], *, stop: str) -> tuple[str, ...]:
    """Literal ``words`` with plain wrappers stripped as in a command, keeping a
    wrapper whose next word is ``stop`` (rules: ``sudo *`` stays ``sudo *``)."""
    current = [Word(w) for w in words]
    while current and current[0].text in PLAIN_WRAPPERS:
        rest = _strip_wrapper(current[0].text, current[1:])
        if not isinstance(rest, list) or not rest or rest[0].text == stop:
            break
        current = [Word(program_name(rest[0].text)), *rest[1:]]
    return _texts(current)


def dangerous_assignment(name: str) -> bool:
    upper = name.upper()
    return (
        upper in _DANGEROUS_ENV_NAMES
        or upper.startswith(_DANGEROUS_ENV_PREFIXES)
        or upper.endswith(_DANGEROUS_ENV_SUFFIXES)
    )


class _Collector:
    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.opaque: list[str] = []
        self.writes: list[WriteTarget] = []
        self.directories: list[str] = []

    def script(self, text: str, *, views: tuple[tuple[str, ...], ...], depth: int) -> None:
        if len(text) > COMMAND_CHARS_LIMIT:
            self.opaque.append("the command is too long to analyse")
            return
        try:
            source = text.encode("utf-8")
        except UnicodeEncodeError:
            self.opaque.append("the command is not valid text")
            return
        if b"\x00" in source:
            self.opaque.append("the command contains a NUL byte")
            return
        if _LONE_CONTROL.search(text):
            # The grammar splits words at a carriage return, vertical tab or form
            # feed; bash keeps them inside the word: the two would disagree.
            self.opaque.append("the command contains a control character bash reads as part of a word")
        # The grammar's scanner can crash the process on some non-ASCII input, and
        # bash's syntax is all ASCII (other bytes are always word characters), so
        # the parser sees a shadow with each such byte as "x"; texts come from
        # the real source by byte offset (the two have the same length).
        root = _parser().parse(_NON_ASCII.sub(b"x", source)).root_node
        token = _SOURCE.set(source)
        try:
            if root.has_error:
                self.opaque.append("the shell syntax could not be parsed")
            self._walk(root, views, depth)
        finally:
            _SOURCE.reset(token)

    def _walk(self, root: tree_sitter.Node, views: tuple[tuple[str, ...], ...], depth: int) -> None:
        """Visit every node of interest, found by one tree query in C (a Python walk
        over every node cost most of the analysis time)."""
        captures = tree_sitter.QueryCursor(_query()).captures(root)
        for node in captures.get("command", ()):
            self._command(node.named_children, views, depth)
        for node in captures.get("redirect", ()):
            self._redirect(node)
        for node in captures.get("assignment", ()):
            self._assignment(node)
        for node in captures.get("declaration", ()):
            self._declaration(node)
        for node in captures.get("loop_variable", ()):
            if dangerous_assignment(_text(node)):
                self.opaque.append(f"a loop sets {_text(node)}, which can make a program run something else")
        for node in captures.get("substitution", ()):
            text = _text(node)
            if text.startswith("`") and "\\`" in text:
                self.opaque.append("nested backticks")

    def _declaration(self, node: tree_sitter.Node) -> None:
        """``declare``/``export``/``local``/...: assignments written as quoted or escaped words."""
        program = _text(node.children[0]) if node.children else ""
        words = [_word(c) for c in node.named_children if c.type not in ("variable_assignment", "variable_name")]
        reason = program_reason(program, words, dangerous=dangerous_assignment)
        if reason:
            self.opaque.append(reason)

    def _assignment(self, node: tree_sitter.Node) -> None:
        name = node.child_by_field_name("name")
        if name is not None and dangerous_assignment(_text(name)):
            self.opaque.append(f"sets {_text(name)}, which can make a program run something else")

    def _redirect(self, node: tree_sitter.Node) -> None:
        operator = next((c.type for c in node.children if not c.is_named), "")
        target = node.child_by_field_name("destination")
        if target is None or operator not in _WRITE_OPERATORS | {">&"}:
            return
        word = _word(target)
        if operator == ">&" and (word.text.isdigit() or word.text == "-"):
            return  # fd duplication, not a file
        self.writes.append(WriteTarget(word.text, known=not (word.dynamic or word.glob)))

    def _command(self, children: list[tree_sitter.Node], views: tuple[tuple[str, ...], ...], depth: int) -> None:
        at = next((i for i, c in enumerate(children) if c.type == "command_name"), None)
        if at is None:
            return  # assignments or redirections only
        name = children[at]
        if name.named_child_count == 1:
            name = name.named_children[0]
        nodes = [name, *(a for a in children[at + 1 :] if a.is_named and a.type not in _REDIRECTS)]
        words = [_word(node) for node in nodes]
        if any(word.misparsed for word in words):
            # A shell never puts unquoted white space inside a word: the grammar and
            # bash disagree here (e.g. "git status\n\\rm x"), so nothing is vouched for.
            self.opaque.append("the command's words could not be told apart reliably")
            return
        first = words[0]
        if first.dynamic or first.glob:
            self.opaque.append(f"the program name {first.text!r} is computed when the command runs")
            return
        self._unwrapped(words, views, depth)

    def _unwrapped(self, words: list[Word], views: tuple[tuple[str, ...], ...], depth: int) -> None:
        words = [words[0]._replace(text=program_name(words[0].text)), *words[1:]]
        while True:
            program = words[0].text
            if program in PLAIN_WRAPPERS:
                rest = _strip_wrapper(program, words[1:])
                if isinstance(rest, str):
                    self.opaque.append(rest)
                    return
                if rest is None or not rest:
                    break  # `command -v x`, a bare `env`: the wrapper itself is the command
                if rest[0].dynamic or rest[0].glob:
                    self.opaque.append(f"{program} runs a program computed when the command runs")
                    return
                views = (*views, _texts(words))
                words = [rest[0]._replace(text=program_name(rest[0].text)), *rest[1:]]
                continue
            if program in SHELLS:
                self._shell(words, views, depth)
                return
            ran = runner_rest(words)
            if isinstance(ran, str):
                self.opaque.append(ran)
                return
            if ran:
                views = (*views, _texts(words))
                words = [ran[0]._replace(text=program_name(ran[0].text)), *ran[1:]]
                continue
            break
        self._leaf(words, views)

    def _shell(self, words: list[Word], views: tuple[tuple[str, ...], ...], depth: int) -> None:
        options, operands = _split_shell_options(words[1:])
        if any(o.dynamic for o in options) or (operands and operands[0].splits):
            self.opaque.append(f"{words[0].text} gets options computed when the command runs")
            return
        if any(o.text.startswith("-") and not o.text.startswith("--") and "c" in o.text for o in options):
            if not operands:
                self.opaque.append(f"{words[0].text} -c without a script")
                return
            script = operands[0]
            if script.dynamic:
                self.opaque.append(f"{words[0].text} -c runs a script computed when the command runs")
                return
            if depth >= SHELL_C_DEPTH_LIMIT:
                self.opaque.append("shell scripts nested too deeply")
                return
            self.script(script.text, views=(*views, _texts(words)), depth=depth + 1)
            return
        if not operands or any(o.text in ("-s", "--stdin") for o in options):
            if not any(o.text in ("--version", "--help") for o in options):
                self.opaque.append(f"{words[0].text} reads a script from its input")
                return
        self._leaf(words, views)

    def _leaf(self, words: list[Word], views: tuple[tuple[str, ...], ...]) -> None:
        texts = _texts(words)
        self.commands.append(SimpleCommand(texts, views))
        reason = _opaque_reason(words)
        if reason:
            self.opaque.append(reason)
        program = texts[0]
        written = _written_operands(program, words[1:])
        if extracts_archive(program, words[1:]):
            self.writes.append(WriteTarget("the files inside an archive", known=False))
        if written:
            self.writes.extend(WriteTarget(w.text, known=not w.dynamic and (not w.glob or _tame_glob(w.text)))
                               for w in written)
        elif program in _CD_PROGRAMS:
            targets = _operands(words[1:])
            literal = targets and not (targets[0].dynamic or targets[0].glob) and targets[0].text != "-"
            self.directories.append(targets[0].text if literal else "")


def _opaque_reason(words: list[Word]) -> str | None:
    program = words[0].text
    args = words[1:]
    if program in OPAQUE_PROGRAMS:
        return OPAQUE_PROGRAMS[program]
    if program in FOREIGN_SHELLS and any(a.text.startswith("-") and "c" in a.text for a in args):
        return f"{program} runs a script in a syntax this analysis does not read"
    if program == "find":
        if any(a.splits for a in args):
            return "find gets arguments computed when the command runs"
        action = next((a.text for a in args if a.text in _FIND_ACTIONS), None)
        return f"find {action} runs commands or deletes files" if action else None
    if program == "git":
        return git_reason(args)
    reason = program_reason(program, args, dangerous=dangerous_assignment)
    if reason:
        return reason
    if program in INTERPRETERS or re.fullmatch(r"python\d(\.\d+)?", program):
        return _interpreter_reason(program, args)
    return None


def _interpreter_reason(program: str, args: list[Word]) -> str | None:
    for i, a in enumerate(args):
        if a.text in _INTERPRETER_SCRIPT_FLAGS or (a.text.startswith("-") and a.text[-1:] in "ce" and len(a.text) <= 3):
            script = args[i + 1] if i + 1 < len(args) else None
            if script is None or script.dynamic:
                return f"{program} {a.text} runs a script computed when the command runs"
            return None
        if a.text in ("-m", "--version", "-V", "--help", "-h") or not a.text.startswith("-"):
            return None
    if args and args[-1].text == "-" or not args:
        return f"{program} reads a script from its input"
    return None


def _strip_wrapper(program: str, args: list[Word]) -> list[Word] | str | None:
    """The words after ``program``'s own options; None when ``program`` does not
    run another command here; a reason string when that cannot be known."""
    if any(a.splits for a in args[: _option_span(args) + 1]):
        return f"{program} gets options computed when the command runs"
    match program:
        case "command":
            i = 0
            while i < len(args) and args[i].text.startswith("-") and args[i].text != "--":
                if "v" in args[i].text or "V" in args[i].text:
                    return None  # `command -v x` looks a program up, it does not run it
                i += 1
            return args[i + (i < len(args) and args[i].text == "--"):]
        case "builtin" | "nohup" | "busybox":
            return args[1:] if args[:1] and args[0].text == "--" else args
        case "exec":
            return _skip_options(args, with_value={"-a"})
        case "nice":
            return _skip_options(args, with_value={"-n", "--adjustment"}, numeric_flags=True)
        case "timeout":
            rest = _skip_options(args, with_value={"-s", "--signal", "-k", "--kill-after"})
            return rest[1:] if isinstance(rest, list) else rest  # the duration
        case "sudo":
            rest = _skip_options(args, with_value=set("-u -g -h -p -C -D -r -t -U -T -R".split()))
            return _skip_assignments(rest)
        case "doas":
            return _skip_options(args, with_value={"-u", "-C"})
        case "time":
            return _skip_options(args, with_value={"-f", "-o", "--format", "--output"})
        case "stdbuf":
            return _skip_options(args, with_value={"-i", "-o", "-e", "--input", "--output", "--error"})
        case "setsid":
            return _skip_options(args, with_value=set())
        case "ionice":
            if any(a.text in ("-p", "-P", "-u", "--pid", "--pgid", "--uid") for a in args):
                return None
            return _skip_options(args, with_value={"-c", "-n", "--class", "--classdata"})
        case "env":
            if any(a.text.startswith(("-S", "--split-string")) for a in args):
                return "env -S splits a string into a command"
            return _skip_assignments(_skip_options(args, with_value={"-u", "--unset", "-C", "--chdir"}))
        case _:
            return None


def _option_span(args: Sequence[Word]) -> int:
    return next((i for i, a in enumerate(args) if not a.text.startswith("-") and "=" not in a.text), len(args))


def _skip_options(args: list[Word], *, with_value: set[str], numeric_flags: bool = False) -> list[Word]:
    i = 0
    while i < len(args):
        text = args[i].text
        if text == "--":
            return args[i + 1 :]
        if not text.startswith("-") or text == "-":
            break
        if text in with_value:
            i += 2
            continue
        i += 1
        if numeric_flags and text[1:].isdigit():
            continue
    return args[i:]


def _skip_assignments(args: list[Word] | str) -> list[Word] | str:
    if isinstance(args, str):
        return args
    i = 0
    while i < len(args) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", args[i].text):
        name = args[i].text.split("=", 1)[0]
        if dangerous_assignment(name):
            return f"sets {name}, which can make a program run something else"
        i += 1
    return args[i:]


def _split_shell_options(args: list[Word]) -> tuple[list[Word], list[Word]]:
    i = 0
    options: list[Word] = []
    while i < len(args):
        text = args[i].text
        if text == "--":
            return options, args[i + 1 :]
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            options.extend(args[i : i + 2])
            i += 2
            continue
        if not (text.startswith(("-", "+")) and len(text) > 1) or text == "-":
            break
        options.append(args[i])
        i += 1
    return options, args[i:]


def _written_operands(program: str, args: list[Word]) -> list[Word]:
    """The files ``program`` writes among its arguments (``tee``, ``cp``, ``touch``, ...)."""
    if program == "tee" or program in _WRITES_EVERY_OPERAND:
        return _operands(args)
    if program in ("sed", "gsed"):
        in_place, files = sed_operands(args)
        return files if in_place else []
    if program == "ln" or (program == "cp" and any(_links_instead_of_copying(a.text) for a in args)):
        # A link made to a file is a way to write it later: its target counts as written.
        return _operands(args)
    if program in _WRITES_AFTER_FIRST:
        return _operands(args)[1:]
    if program == "dd":
        return [Word(a.text[3:], a.dynamic, a.glob, a.splits) for a in args if a.text.startswith("of=")]
    if program in _COPIERS:
        for i, a in enumerate(args):
            if a.text in ("-t", "--target-directory") and i + 1 < len(args):
                return [args[i + 1], *(_operands(args) if program == "mv" else [])]
            if a.text.startswith("--target-directory="):
                target = Word(a.text.split("=", 1)[1], a.dynamic, a.glob, a.splits)
                return [target, *(_operands(args) if program == "mv" else [])]
        operands = _operands(args)
        if program == "mv":  # the sources are removed: moving .git/config away writes it too
            return operands
        return operands[-1:] if len(operands) >= 2 else []
    return []


def _links_instead_of_copying(option: str) -> bool:
    return option in ("--link", "--symbolic-link") or bool(re.fullmatch(r"-[A-Za-z]*[ls][A-Za-z]*", option))


def _tame_glob(pattern: str) -> bool:
    """A relative glob that can only name files below where it runs, and none
    whose name starts with a dot (bash's globs never match a leading dot unless
    it is written): ``rm *.o`` cannot reach ``.git`` or leave the workspace."""
    if pattern.startswith(("/", "~")):
        return False
    return not any(part.startswith(".") or not part for part in pattern.split("/"))


def _operands(args: list[Word]) -> list[Word]:
    return [a for a in args if not a.text.startswith("-") or a.text == "-" or a.dynamic]


def _texts(words: Sequence[Word]) -> tuple[str, ...]:
    return tuple(w.text for w in words)


def _text(node: tree_sitter.Node) -> str:
    return _SOURCE.get()[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _word(node: tree_sitter.Node) -> Word:
    """The value of a word node after quote removal, as far as it is literal."""
    match node.type:
        case "word":
            raw = _text(node)
            if _UNESCAPED_SPACE.search(raw):
                return Word(raw, misparsed=True)
            if "\\" not in raw:
                return Word(raw, glob=_UNQUOTED_GLOB.search(raw) is not None)
            return Word(_unescape(raw, r"\\(.)"), glob=bool(_UNQUOTED_GLOB.search(re.sub(r"\\.", "", raw))))
        case "raw_string":
            return Word(_text(node)[1:-1])
        case "number":
            return Word(_text(node))
        case "string" | "translated_string":
            return _concat(_string_parts(node))
        case "ansi_c_string":
            return _ansi_c(_text(node)[2:-1])
        case "concatenation":
            return _concat(_word(child) for child in node.children)
        case _:
            return Word(_text(node), dynamic=True, splits=True)


def _string_parts(node: tree_sitter.Node) -> Iterator[Word]:
    for child in node.children:
        if child.type == "string_content":
            yield Word(_unescape(_text(child), r'\\([$`"\\\n])'))
        elif child.is_named:
            yield Word(_text(child), dynamic=True)  # quoted: one word whatever it expands to
        elif child.type not in ('"', '$"'):
            yield Word(_text(child))


def _concat(parts: Iterator[Word] | Sequence[Word]) -> Word:
    parts = list(parts)
    return Word(
        "".join(p.text for p in parts),
        dynamic=any(p.dynamic for p in parts),
        glob=any(p.glob for p in parts),
        splits=any(p.splits for p in parts),
        misparsed=any(p.misparsed for p in parts),
    )


def _unescape(text: str, pattern: str) -> str:
    return re.sub(pattern, lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def _ansi_c(body: str) -> Word:
    try:
        decoded = body.encode("latin-1", errors="backslashreplace").decode("unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return Word(f"$'{body}'", dynamic=True)
    return Word(decoded)
