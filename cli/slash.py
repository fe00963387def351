"""Slash commands of ``agent chat`` (``/help`` lists them) and their completion."""

from __future__ import annotations

import time
from functools import partial
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio
from rich.table import Table
from rich.text import Text

from agentcore.core import SessionNotFound
from agentcore.llm import ProviderSelectionError
from agentcore.permissions import PermissionMode
from agentcore.cli.app_support import STARTUP_ERRORS, latest_session_id, resolve_session_id, selection_reason
from agentcore.cli.custom_commands import COMMANDS_DIR_NAME, CommandCatalog
from agentcore.cli.render_blocks import context_view, format_cost, human_tokens
from agentcore.cli import pending_cmd, rewind_slash
from agentcore.cli.session_keep import KeptChoices

if TYPE_CHECKING:
    from rich.console import Console

    from agentcore.app import AppContext
    from agentcore.session import DefaultSession, SessionCreateInfo
    from agentcore.cli.render import Renderer

SESSIONS_LISTED = 20  # /sessions shows the most recent ones
TASK_OUTPUT_LINES = 3  # /tasks shows the last lines of each task's output


class ChatHost(Protocol):
    """What the slash commands use of the chat they serve (:class:`cli.chat.Chat`)."""

    app: AppContext
    console: Console
    renderer: Renderer

    @property
    def session(self) -> DefaultSession: ...

    async def tokenizer_ready(self) -> None:
        """Wait until the token counter is loaded (``/context`` counts exactly)."""
        ...

    async def drained(self) -> None: ...

    async def switch_session(self, info: SessionCreateInfo) -> DefaultSession: ...

    async def while_keys_watched(self, work: Callable[[], Awaitable[None]], *, cancel: Callable[[], None]) -> None: ...

    async def run_turn(self, text: str) -> None:
        """Send ``text`` as a prompt (what a custom command expands to)."""
        ...


@attrs.frozen
class Command:
    name: str
    usage: str
    help: str
    run: Callable[[str], Awaitable[bool]]  # returns False to leave the chat


KEYS_HELP = (
    ("Enter", "send; a trailing \\ or Alt-Enter starts a new line (pastes keep their lines)"),
    ("Tab", "complete a slash command, a mode, a session id or an @path"),
    ("@path", "attach a file's content (@dir/ lists a folder; quote paths with spaces: @\"my file\")"),
    ("!command", "run a shell command yourself; its output goes to the model with your next message"),
    ("Up / Down", "input history (kept between sessions)"),
    ("Ctrl-C / Esc", "cancel the running turn (the partial answer stays); Ctrl-C twice on an empty prompt: exit"),
    ("Esc", "at the prompt: nothing (what you typed stays; Ctrl-U clears the line)"),
    ("Shift-Tab", "next permission mode: ask → accept-edits → plan → ask"),
    ("Ctrl-O", "show the last collapsed tool output whole (/expand N for older ones)"),
    ("Ctrl-D", "exit (on an empty prompt)"),
    ("y a n N", "answer a permission question: yes once, always, no, never (a plan: y approve, a approve and accept edits, n keep planning)"),
)


class SlashCommands:
    def __init__(self, chat: ChatHost) -> None:
        self.chat = chat
        self._compaction_scope = trio.CancelScope()
        self.commands: dict[str, Command] = {}
        for name, usage, text, run in (
            ("help", "/help", "this list", self._help),
            ("context", "/context", "how full the context window is, by part", self._context),
            ("compact", "/compact [focus]", "summarise older messages to free context", self._compact),
            ("mode", "/mode [name]", "show or set the permission mode (plan: research, then a plan to approve)", self._mode),
            ("expand", "/expand [N]", "show a collapsed tool output whole (1 = the last, Ctrl-O)", self._expand),
            ("model", "/model [provider/]name", "show or switch the model", self._model),
            ("clear", "/clear", "start a new session", self._clear),
            ("resume", "/resume [id]", "switch to a saved session (latest here if no id)", self._resume),
            ("sessions", "/sessions", "list saved sessions in this directory", self._sessions),
            ("tasks", "/tasks", "background tasks and their recent output", self._tasks),
            ("cost", "/cost", "tokens and money spent in this session", self._cost),
            ("mcp", "/mcp", "MCP servers and their tools", self._mcp),
            ("fork", "/fork", "continue in a copy of this session", self._fork),
            ("rewind", "/rewind [N] [code|conversation|both]", "undo files and/or go back to before prompt N", partial(rewind_slash.rewind, chat)),
            ("edit", "/edit [N]", "edit prompt N (default: the last) and continue from there", partial(rewind_slash.edit, chat)),
            ("diff", "/diff", "what this session changed in files", partial(rewind_slash.diff, chat)),
            ("continue", pending_cmd.USAGE, pending_cmd.HELP, partial(pending_cmd.continue_command, chat)),
            ("exit", "/exit", "leave (also /quit, Ctrl-D)", self._exit),
            ("quit", "/quit", "leave", self._exit),
        ):
            self.commands[name] = Command(name, usage, text, run)
        self.chosen_model: tuple[str, str] | None = None  # set by /model; /clear keeps it
        self.custom = _custom_catalog(chat, builtin=lambda: self.commands, say=lambda t: self._say(t, "yellow"))

    @property
    def console(self) -> Any:
        return self.chat.console

    def _say(self, text: str, style: str = "") -> None:
        self.console.print(Text(text, style=style))

    async def dispatch(self, line: str) -> bool:
        name, _, rest = line[1:].partition(" ")
        command = self.commands.get(name.lower())
        if command is None and (custom := self.custom.load().get(name)) is not None:
            await self.chat.run_turn(custom.expand(rest.strip()))
            return True
        if command is None:
            close = [n for n in self.commands if n.startswith(name.lower()[:2])] if name else []
            hint = f" (did you mean /{close[0]}?)" if close else ""
            self._say(f"unknown command /{name}{hint}; /help lists them", "red")
            return True
        try:
            return await command.run(rest.strip())
        except (*STARTUP_ERRORS, SessionNotFound, ProviderSelectionError) as exc:
            self._say(f"/{command.name}: {exc}", "red")
            return True

    def complete(self, text: str) -> Sequence[str]:
        """Completions for the text before the cursor (whole replacements)."""
        if not text.startswith("/"):
            return []
        if " " not in text:
            names = [*self.commands, *self.custom.load(quiet=True)]
            return sorted(f"/{n}" for n in names if f"/{n}".startswith(text))
        head, _, arg = text.partition(" ")
        options: list[str] = []
        if head == "/mode":
            options = [m.value for m in PermissionMode]
        elif head == "/resume":
            options = [row.id for row in self.chat.app.core.list_sessions(cwd=self.chat.app.cwd)[:SESSIONS_LISTED]]
        return [f"{head} {o}" for o in options if o.startswith(arg)]

    # ------------------------------------------------------------ commands

    async def _help(self, _: str) -> bool:
        table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
        table.add_column(style="bold cyan")
        table.add_column()
        for command in self.commands.values():
            if command.name != "quit":
                table.add_row(Text(command.usage), Text(command.help))
        keys = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
        keys.add_column(style="bold")
        keys.add_column()
        for key, text in KEYS_HELP:
            keys.add_row(key, text)
        self.console.print(table)
        custom = self.custom.load()
        if custom:
            mine = Table(title="custom commands", title_justify="left", show_header=False, box=None, padding=(0, 2, 0, 0))
            mine.add_column(style="bold cyan")
            mine.add_column()
            for command in custom.values():
                mine.add_row(Text(command.usage), Text(f"{command.description or command.body.strip().splitlines()[0][:60]}"
                                                       f"  ({command.scope})"))  # fmt: skip
            self.console.print(mine)
        self.console.print(keys)
        return True

    async def _context(self, _: str) -> bool:
        await self.chat.tokenizer_ready()
        self.console.print(context_view(self.chat.session.context_status()))
        return True

    async def _compact(self, focus: str) -> bool:
        reports: list[Any] = []

        async def work() -> None:
            with trio.CancelScope() as scope:
                self._compaction_scope = scope
                reports.append(await self.chat.session.compact(focus=focus or None))

        self.chat.renderer.show_activity("compacting context")
        try:
            await self.chat.while_keys_watched(work, cancel=lambda: self._compaction_scope.cancel())
        finally:
            self.chat.renderer.end_activity()
        if not reports:
            self._say("/compact: cancelled", "yellow")
        elif reports[0] is None:
            self._say("nothing to compact yet: the conversation is still short")
        return True

    async def _mode(self, name: str) -> bool:
        session = self.chat.session
        if not name:
            for mode in PermissionMode:
                mark = "●" if mode is session.mode else " "
                self._say(f"{mark} {mode.value:<13} {mode.description}", "bold" if mode is session.mode else "")
            return True
        try:
            mode = PermissionMode(name)
        except ValueError:
            self._say(f"unknown mode {name!r}; choose one of {', '.join(m.value for m in PermissionMode)}", "red")
            return True
        await session.set_mode(mode)
        await self.chat.drained()
        return True

    async def _expand(self, which: str) -> bool:
        if which and not which.isdigit():
            self._say("/expand: give a number, e.g. /expand 2 for the output before the last", "red")
            return True
        self.chat.renderer.expand(int(which) if which else 1)
        return True

    async def _model(self, spec: str) -> bool:
        session = self.chat.session
        if not spec:
            reason = selection_reason(session)
            self._say(f"{session.provider_name}/{session.model}" + (f"  ({reason})" if reason else ""), "bold")
            return True
        provider, _, model = spec.rpartition("/")
        await session.set_model(model=model, provider=provider or None)
        self.chosen_model = (session.provider_name, session.model)
        await self.chat.drained()
        return True

    async def _clear(self, _: str) -> bool:
        # The mode, the rules answered in this chat and a /model choice outlive the old session.
        kept = KeptChoices.of(self.chat.session, chosen_model=self.chosen_model)
        session = await self.chat.switch_session(self.chat.app.session_info(mode=kept.mode))
        carried = await kept.apply(session)
        await self.chat.drained()
        self._say(f"new session {session.id} (kept {', '.join(carried)})", "dim")
        return True

    async def _resume(self, session_id: str) -> bool:
        if session_id:
            try:
                session_id = resolve_session_id(self.chat.app, session_id)  # a unique prefix is enough
            except SessionNotFound as exc:
                self._say(str(exc), "yellow")
                return True
        session_id = session_id or latest_session_id(self.chat.app) or ""
        if not session_id:
            self._say("no saved session to resume in this directory", "yellow")
            return True
        if session_id == self.chat.session.id:
            self._say("that is the current session", "yellow")
            return True
        await self.chat.switch_session(self.chat.app.session_info(session_id=session_id))
        return True

    async def _sessions(self, _: str) -> bool:
        app = self.chat.app
        if app.store is None:
            self._say("no session store is configured, so sessions are not saved", "yellow")
            return True
        rows = app.core.list_sessions(cwd=app.cwd)[:SESSIONS_LISTED]
        if not rows:
            self._say("no saved sessions in this directory")
            return True
        table = Table(box=None, padding=(0, 2, 0, 0))
        for column in ("id", "title", "messages", "updated", "cost"):
            table.add_column(column, style="bold" if column == "id" else "")
        now = time.time()
        for row in rows:
            current = " (current)" if row.id == self.chat.session.id else ""
            table.add_row(row.id + current, Text(row.title or ""), str(row.message_count), _ago(now - row.updated), format_cost(row.cost_usd))
        self.console.print(table)
        return True

    async def _tasks(self, _: str) -> bool:
        background = getattr(self.chat.session, "background", None)
        tasks = background.snapshot() if background is not None else []
        if not tasks:
            self._say("no background tasks")
            return True
        for task in tasks:
            style = {"running": "cyan", "completed": "green"}.get(task.status.value, "yellow")
            took = f" {task.duration_s:.1f}s" if task.duration_s is not None else ""
            self._say(f"{task.id}  {task.status.value}{took}  {task.label}", style)
            if task.step is not None:  # a sub-agent: what it is doing now
                self._say(f"    step: {task.step}", style)
            for line in task.recent_output[-TASK_OUTPUT_LINES:]:
                self._say(f"    {line}", "dim")
        return True

    async def _cost(self, _: str) -> bool:
        session = self.chat.session
        usage = session.usage
        self._say(f"session cost {format_cost(session.cost_usd)}", "bold")
        self._say(
            f"input {human_tokens(usage.input_tokens)} · output {human_tokens(usage.output_tokens)}"
            f" · cache read {human_tokens(usage.cache_read_tokens)} · cache write {human_tokens(usage.cache_write_tokens)}"
            + (f" · reasoning {human_tokens(usage.reasoning_tokens)}" if usage.reasoning_tokens else "")
        )
        return True

    async def _mcp(self, _: str) -> bool:
        mcp = getattr(self.chat.session, "mcp", None)
        if mcp is None:
            self._say("no MCP servers in this session")
            return True
        status = getattr(mcp, "status", None)
        rows = status() if callable(status) else getattr(mcp, "servers", [])
        rows = list(rows)
        if not rows:
            self._say("no MCP servers in this session")
        for row in rows:
            state = getattr(row, "state", "")
            state = getattr(state, "value", state)
            style = {"ready": "green", "starting": "cyan"}.get(state, "red")
            tools = getattr(row, "tools", ())
            target = getattr(row, "target", "")
            self._say(f"{row.name}  {state}  {len(tools)} tools  {getattr(row, 'transport', '')} {target}".rstrip(), style)
            if getattr(row, "error", ""):
                self._say(f"    {row.error}", "red")
            for line in getattr(row, "stderr_tail", ())[-TASK_OUTPUT_LINES:]:
                self._say(f"    {line}", "dim")
        return True

    async def _fork(self, _: str) -> bool:
        fork_live = getattr(self.chat.app.store, "fork_live", None)
        if fork_live is None:
            self._say("/fork: not available (no session store)", "yellow")
            return True
        source = self.chat.session.id
        new_id = fork_live(self.chat.session)
        await self.chat.switch_session(self.chat.app.session_info(session_id=new_id))
        self._say(f"forked {source} → {new_id}; /resume {source} goes back", "dim")
        return True

    async def _exit(self, _: str) -> bool:
        return False


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return "just now"


def _custom_catalog(chat: ChatHost, *, builtin: Callable[[], Any], say: Callable[[str], None]) -> CommandCatalog:
    """The user's commands, and the project's when its folder is trusted."""
    loaded = chat.app.loaded
    project_dir = loaded.project.agent_dir / COMMANDS_DIR_NAME
    trusted = loaded.trust.trusted
    return CommandCatalog(user_dir=chat.app.paths.config_dir / COMMANDS_DIR_NAME, project_dir=project_dir if trusted else None,
                          untrusted_dir=None if trusted else project_dir, builtin=builtin, say=say)  # fmt: skip
