"""``agent chat``: the interactive terminal frontend.

One trio loop does everything: a task turns keystrokes into :class:`Key`
values (the terminal is in raw mode, so Ctrl-C is a key, not a signal), a
task pumps the session's events into the :class:`~cli.render.Renderer`, a
ticker redraws the live region, and the main task alternates between the
line editor and running a turn. While a turn runs, keys go to the turn:
Ctrl-C or Esc cancels it, ``y``/``a``/``n``/``N`` answer a permission question;
at any time Shift-Tab cycles the permission mode (ask, accept-edits, plan) and
Ctrl-O prints the last collapsed tool output in full.

When stdin or stdout is not a terminal the same loop runs on lines (one
prompt per line) with plain output, so ``echo hi | agent chat`` works.

``agent chat --attach`` runs this same loop on a session that lives in
``agent serve`` (:mod:`cli.attach`): a subclass replaces only how the session
is opened and which slash commands exist (:meth:`Chat.make_commands`), so keys,
rendering and permission questions stay one implementation.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import attrs
import trio
from rich.console import Console
from rich.text import Text

from agentcore.app import AppContext
from agentcore.config import find_project
from agentcore.permissions import PermissionMode, PermissionOption
from agentcore.session import DefaultSession, PromptTooLarge, SessionCreateInfo, SessionNotFound
from agentcore.turn import TurnAbortedError, TurnInProgress
from agentcore import WhenBusy
from agentcore.cli.app_support import STARTUP_ERRORS, app_flags, selection_notice, session_to_open
from agentcore.cli.chat_input import ChatInputs
from agentcore.cli.keys import Key, KeyQueue, pump_keys, pump_lines, raw_mode
from agentcore.cli.line_editor import InputHistory, LineEditor
from agentcore.cli.render import REFRESH_PER_SECOND, Renderer
from agentcore.cli.render_blocks import StatusInfo, status_line
from agentcore.cli.resume_view import resume_preview

PROMPT = "› "
ATTACH_ENTRY = "agentcore.cli.attach"  # `agent chat --attach`: the same chat on a session in agent serve
KEY_BUFFER = 256  # keystrokes typed ahead while a command runs
# Shift-Tab steps through these (from any other mode it goes to the first).
MODE_CYCLE = (PermissionMode.ASK, PermissionMode.ACCEPT_EDITS, PermissionMode.PLAN)
CANCEL_KEYS = ("ctrl-c", "escape", "eof")  # keys that cancel a running turn
ANSWERS: Mapping[str, PermissionOption] = {
    "y": PermissionOption.ALLOW_ONCE,
    "a": PermissionOption.ALLOW_ALWAYS,
    "n": PermissionOption.REJECT_ONCE,
    "N": PermissionOption.REJECT_ALWAYS,
}


class SessionView:
    """Pumps one session's events into the renderer and knows when it has caught up."""

    def __init__(self, session: DefaultSession, renderer: Renderer) -> None:
        self.session = session
        self.renderer = renderer
        self.emitted = 0
        self.handled = 0
        self._progress = trio.Event()
        self.scope = trio.CancelScope()
        session.events.add_observer(self._count)

    def _count(self, _event: Any) -> None:
        self.emitted += 1

    async def pump(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with self.scope:
            async with self.session.events.subscribe() as events:
                task_status.started()
                async for event in events:
                    self.renderer.handle(event)
                    self.handled += 1
                    self._progress.set()

    async def drained(self) -> None:
        """Wait until every event emitted so far has been rendered."""
        while self.handled < self.emitted:
            self._progress = trio.Event()
            await self._progress.wait()


class Chat:
    def __init__(self, app: AppContext, console: Console, *, terminal: bool, color: bool) -> None:
        self.app = app
        self.console = console
        self.terminal = terminal
        self.renderer = Renderer(console, live=terminal, color=color)
        self.history = InputHistory(app.paths.input_history_file if terminal else None)
        self.editor: LineEditor | None = None
        self.view: SessionView | None = None
        self.nursery: trio.Nursery | None = None
        self.quit_scope = trio.CancelScope()
        self._turn_cancel: Callable[[], None] | None = None
        self._keys_send, receive = trio.open_memory_channel[Key](KEY_BUFFER)
        self.keys = KeyQueue(receive)
        self._question = trio.Event()  # a permission question is waiting for an answer
        self._tokenizer_ready = trio.Event()
        self.renderer.on_question = self._question.set
        self.inputs = ChatInputs(self)  # @path mentions, !command, what a typed line sends

    @property
    def session(self) -> DefaultSession:
        assert self.view is not None
        return self.view.session

    async def tokenizer_ready(self) -> None:
        await self._tokenizer_ready.wait()

    # ------------------------------------------------------------ lifetime

    def make_commands(self) -> Any:
        """The slash commands (``dispatch(line)``, ``complete(text)``) this chat offers."""
        from agentcore.cli.slash import SlashCommands  # loaded when a chat starts, not with the parser

        return SlashCommands(self)

    async def run(self, first: SessionCreateInfo) -> int:
        commands = self.make_commands()
        if self.terminal:
            self.editor = LineEditor(
                write=self._write_raw, width=lambda: self.console.width, history=self.history,
                completer=self.inputs.completer(commands.complete),
            )
            self.editor.on_key = self._prompt_key
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            if self.terminal:
                nursery.start_soon(pump_keys, sys.stdin.fileno(), self._keys_send)
            else:
                nursery.start_soon(pump_lines, self._keys_send)
            nursery.start_soon(self._tick)
            nursery.start_soon(self._watch_sigint)
            with self.quit_scope:
                try:
                    await self.switch_session(first)
                except STARTUP_ERRORS as exc:
                    self.console.print(Text(f"error: {exc}", style="bold red"))
                    nursery.cancel_scope.cancel()
                    return 1
                self.console.print(Text("/help for commands · Ctrl-C cancels a turn · Ctrl-D exits", style="dim"))
                # Started only now: loading the tokenizer holds the GIL for a few hundred ms,
                # which would slow opening the session and drawing the first prompt.
                nursery.start_soon(self._load_tokenizer)
                self.inputs.warm_up(nursery)  # the file index for @path completion
                while True:
                    line = await self._read_line()
                    if line is None:
                        break
                    if not line.strip():
                        continue
                    if line.lstrip().startswith("/"):
                        if not await commands.dispatch(line.strip()):
                            break
                    elif line.lstrip().startswith("!"):
                        await self.inputs.shell(line.lstrip()[1:].strip())
                    else:
                        await self.run_turn(line)
            self.renderer.close()
            if self.view is not None:
                await self.session.aclose()
            nursery.cancel_scope.cancel()
        return 0

    async def switch_session(self, info: SessionCreateInfo) -> DefaultSession:
        """Open ``info`` (a new or a resumed session) and make it current."""
        assert self.nursery is not None
        servers = [s for s in getattr(self.app.settings.mcp, "servers", {}).values() if getattr(s, "enabled", True)]
        self.renderer.show_activity(f"starting {len(servers)} MCP server(s)" if servers else "starting session")
        try:
            session = await self.app.core.start_session(info, self.nursery)
        finally:
            self.renderer.end_activity()
        if self.view is not None:
            self.view.scope.cancel()
            await self.session.aclose()
        self.view = SessionView(session, self.renderer)
        await self.nursery.start(self.view.pump)
        self._sync_status()
        for notice in session.startup_notices:
            self.renderer.handle(notice)
        self.console.print(Text(selection_notice(session), style="dim"))
        if info.session_id:
            self.console.print(Text(f"resumed session {session.id} ({len(session.history)} messages)", style="dim"))
            preview = resume_preview(session.history.snapshot())
            if preview is not None:
                self.console.print(preview)
            await self._count_resumed_context(session)
        return session

    async def _count_resumed_context(self, session: DefaultSession) -> None:
        """The status line's context usage of a resumed conversation, right away
        (not 0 until the next answer): counted from the restored history, in a
        worker thread (the tokenizer loads there too), while keys keep arriving."""
        await self._load_tokenizer()
        context = await trio.to_thread.run_sync(session.context_status, abandon_on_cancel=True)
        self.renderer.status = attrs.evolve(
            self.renderer.status, context_used=context.used, context_window=context.window
        )

    async def drained(self) -> None:
        if self.view is not None:
            await self.view.drained()

    def _sync_status(self) -> None:
        """Refresh the status line from the session. Counting tokens needs the
        tokenizer, which loads in a worker thread at start-up (a few hundred ms)
        so the first prompt does not wait for it; until then the last known
        numbers stay."""
        session = self.session
        status = self.renderer.status
        used, window = status.context_used, status.context_window or session.model_info().context_window
        if self._tokenizer_ready.is_set():
            context = session.context_status()
            used, window = context.used, context.window
        self.renderer.status = StatusInfo(
            provider=session.provider_name,
            model=session.model,
            mode=session.mode.value,
            context_used=used,
            context_window=window,
            cost_usd=session.cost_usd,
        )

    async def _load_tokenizer(self) -> None:
        if self._tokenizer_ready.is_set():
            return
        from agentcore import tokens

        await trio.to_thread.run_sync(tokens.encoding, abandon_on_cancel=True)
        self._tokenizer_ready.set()

    # --------------------------------------------------------------- input

    async def _read_line(self) -> str | None:
        self._sync_status()
        if self.editor is None:
            async for key in self.keys:
                if key.name == "line":
                    return key.text
                if key.name == "eof":
                    return None
            return None
        self.console.print(status_line(self.renderer.status), style="dim")
        self.renderer.print_wrapper = self.editor.print_above
        try:
            prompt = f"\x1b[1;36m{PROMPT}\x1b[0m" if self.renderer.color else PROMPT
            return await self.editor.read(self.keys, prompt, prompt_cells=len(PROMPT))
        finally:
            self.renderer.print_wrapper = None

    def _write_raw(self, text: str) -> None:
        self.console.file.write(text)
        self.console.file.flush()

    # --------------------------------------------------------------- turns

    async def run_turn(self, text: str) -> None:
        """Send a typed line (or a custom command's text): mentioned files and
        waiting ``!`` outputs go with it (:class:`cli.chat_input.ChatInputs`)."""
        session = self.session
        prompt = await self.inputs.prompt_for(text)

        async def turn() -> None:
            try:
                await session.run_turn(prompt, when_busy=WhenBusy.WAIT)
            except TurnAbortedError:
                pass  # the renderer has shown the TurnAborted event
            except (TurnInProgress, PromptTooLarge) as exc:
                self.console.print(Text(str(exc), style="red"))
                self.inputs.keep_for_later(prompt)

        await self.while_keys_watched(turn, cancel=session.cancel)

    async def while_keys_watched(self, work: Callable[[], Awaitable[None]], *, cancel: Callable[[], None]) -> None:
        """Run ``work`` while keys answer permission questions and Ctrl-C calls ``cancel``."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._turn_keys, cancel)
            self._turn_cancel = cancel
            try:
                await work()
                assert self.view is not None
                await self.view.drained()
            finally:
                self._turn_cancel = None
                nursery.cancel_scope.cancel()
        self.renderer.stop_live()

    async def _turn_keys(self, cancel: Callable[[], None]) -> None:
        """Keys during a turn. Ones it does not use go back to the prompt; with
        line input, lines are read only when a question waits for an answer."""
        leftover: list[Key] = []
        try:
            while True:
                if not self.terminal:
                    await self._question.wait()
                key = await self.keys.receive()
                if key.name in CANCEL_KEYS:
                    cancel()  # at end of input nobody is left to answer questions
                    if key.name == "eof":
                        leftover.append(key)
                        return
                    continue
                if key.name == "ctrl-o":
                    self.renderer.expand()
                    continue
                if key.name == "shift-tab":
                    await self.cycle_mode()
                    continue
                request = self.renderer.current_permission
                text = key.text.strip() if key.name == "line" else key.text if key.name == "char" else ""
                option = ANSWERS.get(text)
                if request is None or option is None:
                    leftover.append(key)
                    continue
                if self.session.permissions.resolve(request.request_id, option):
                    saved = self._rule_file() if option is PermissionOption.ALLOW_ALWAYS else None
                    self.renderer.permission_answered(request, option, saved_to=saved)
                if self.renderer.current_permission is None:
                    self._question = trio.Event()
                    self.renderer.on_question = self._question.set
        finally:
            self.keys.unget(leftover)

    def _prompt_key(self, key: Key) -> None:
        """A key the line editor leaves alone, pressed at the prompt."""
        if key.name == "ctrl-o":
            self.renderer.expand()
        elif key.name == "shift-tab" and self.nursery is not None:
            self.nursery.start_soon(self.cycle_mode)
        # Esc at the prompt does nothing: what was typed stays (Ctrl-U or Ctrl-C clears it).

    async def cycle_mode(self) -> None:
        """Shift-Tab: the next mode of ``MODE_CYCLE`` (shown by the ModeChanged line)."""
        current = self.session.mode
        index = MODE_CYCLE.index(current) + 1 if current in MODE_CYCLE else 0
        await self.session.set_mode(MODE_CYCLE[index % len(MODE_CYCLE)])

    def _rule_file(self) -> str:
        """Where an "allow always" rule is remembered (the project's personal config)."""
        return str(find_project(self.session.cwd).local_config_file)

    async def _tick(self) -> None:
        while True:
            self.renderer.refresh()
            await trio.sleep(1 / REFRESH_PER_SECOND)

    async def _watch_sigint(self) -> None:
        """Ctrl-C as a signal (input not in raw mode, or ``kill -INT``): cancel the
        running turn; with none running, leave."""
        with trio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if self._turn_cancel is not None:
                    self._turn_cancel()
                else:
                    self.quit_scope.cancel()


def make_console(*, no_color: bool, env: Mapping[str, str]) -> tuple[Console, bool]:
    terminal = sys.stdout.isatty()
    color = terminal and not no_color and not env.get("NO_COLOR")
    console = Console(no_color=not color, highlight=False, force_terminal=terminal or None, emoji=False)
    return console, color


def initial_info(app: AppContext, args: argparse.Namespace, console: Console) -> SessionCreateInfo | None:
    """What to open: a new session, or the one ``--continue``/``--resume [ID]``
    names (a unique prefix is enough); None when that one does not exist (said)."""
    try:
        session_id, note = session_to_open(
            app, continue_=getattr(args, "continue_", False), resume=getattr(args, "resume", None)
        )
    except SessionNotFound as exc:
        console.print(Text(f"error: {exc}", style="bold red"))
        return None
    if note:
        console.print(Text(note, style="yellow"))
    return app.session_info(session_id=session_id)


def open_chat_app(args: argparse.Namespace, *, cwd: Path, env: Mapping[str, str], console: Console,
                  terminal: bool) -> AppContext:  # fmt: skip
    """The app for ``cwd``, after asking whether to trust an untrusted folder that
    has configuration (on a terminal; piped input is never asked)."""
    from agentcore.app import build_app
    from agentcore.frontend import Frontend
    from agentcore.cli.trust_cmd import review_folder

    def write(text: str) -> None:
        console.file.write(text)
        console.file.flush()

    if terminal:
        review_folder(args, cwd=cwd, env=env, read_line=sys.stdin.readline, write=write)

    def ignored(trust: Any) -> None:
        if terminal:
            console.print(Text(f"{trust.root}: project configuration not applied (folder not trusted)", style="dim"))
        else:
            console.print(Text(trust.notice(), style="yellow"))

    return build_app(cwd=cwd, env=env, flags=app_flags(args), frontend=Frontend.cli(), allow_echo=True,
                     on_untrusted_project=ignored)  # fmt: skip


def main(args: argparse.Namespace) -> int:
    if getattr(args, "attach", None) is not None:
        # Named, not imported: cli.attach builds on this module, and the parser's
        # command table names its entry points the same way.
        return int(importlib.import_module(ATTACH_ENTRY).main(args))
    env = os.environ
    console, color = make_console(no_color=bool(getattr(args, "no_color", False)), env=env)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        app = open_chat_app(args, cwd=Path.cwd(), env=env, console=console, terminal=terminal)
    except STARTUP_ERRORS as exc:
        console.print(Text(f"error: {exc}", style="bold red"))
        return 1
    info = initial_info(app, args, console)
    if info is None:
        return 2
    chat = Chat(app, console, terminal=terminal, color=color)
    with ExitStack() as stack:
        if terminal:
            stack.enter_context(raw_mode(sys.stdin.fileno()))
        return trio.run(chat.run, info)
