"""``agent chat --attach [SESSION]``: the terminal chat on a session that runs
in ``agent serve`` (one an editor started, say).

The chat is :class:`cli.chat.Chat` itself; :class:`AttachedChat` changes only
what differs when the session lives elsewhere: it is joined over the
server's Unix socket (:class:`~cli.remote_session.RemoteSession`, as
controller, with its history replayed) instead of opened, its status line
follows the session's updates, and its slash commands are the few that make
sense remotely. Questions the server asks while another client's turn runs
(the prompt is on screen, no turn of ours) are answered with the same keys:
``y``/``a``/``n``/``N`` go to the question on screen, everything else to the
prompt.

On exit the terminal detaches; the session stays live in the server. Problems
before the chat starts — no server, no such live session, an owner who
refuses — are one line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import attrs
import trio
from rich.console import Console
from rich.text import Text

from agentcore.config import find_project, resolve_paths
from agentcore.errors import StoreError
from agentcore.session import SessionNotFound
from agentcore.events import Notice
from agentcore.permissions import PermissionOption
from agentcore.cli.chat import ANSWERS, Chat, SessionView, make_console
from agentcore.cli.keys import Key, KeyQueue, raw_mode
from agentcore.cli.remote_session import RemoteSession
from agentcore.cli.render_blocks import StatusInfo
from agentcore.cli.serve_client import NO_SERVER_MESSAGE, AttachError, LiveSession, NoServer, server_socket

EXIT_ATTACH_FAILED = 2  # no server, no such live session, refused: as for a bad flag
EXIT_INTERRUPTED = 130  # Ctrl-C before the chat started (128 + SIGINT)
EXIT_SERVER_GONE = 1  # the server stopped (or dropped this terminal) while the chat ran
REMOTE_COMMANDS = ("context", "compact")  # the server runs these as prompts (acp.live)


# ------------------------------------------------------------ choosing


def choose_session(live: Sequence[LiveSession], wanted: str, *, cwd: Path, updated: Callable[[str], float]) -> LiveSession:
    """The live session ``wanted`` names: an id, a unique prefix, or ("") the
    most recently updated one in ``cwd``. :class:`AttachError` says why none fits."""
    if not wanted:
        here = [s for s in live if _same_dir(s.cwd, cwd)]
        if not here:
            raise AttachError(f"no session of {cwd} is live in agent serve; `agent sessions list --all` shows the live ones")
        return max(reversed(here), key=lambda s: updated(s.id))  # ties: the last one opened
    exact = [s for s in live if s.id == wanted]
    matches = exact or [s for s in live if s.id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(sorted(s.id for s in matches)[:5])
        raise AttachError(f"{wanted!r} matches {len(matches)} live sessions: {shown}")
    raise AttachError(f"no live session {wanted!r} in agent serve (`agent sessions list` marks the live ones; "
                      f"`agent chat --resume {wanted}` opens a saved one here)")  # fmt: skip


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


@attrs.frozen
class StoredFacts:
    """What the journal knows and the wire does not (the provider, the cost so far)."""

    provider: str = ""
    cost_usd: float = 0.0
    cwd: Path | None = None


class _Journal:
    """The user's session store, read-only, for ordering and the status line."""

    def __init__(self, env: Any) -> None:
        from agentcore.store import JournalStore

        self._store = JournalStore(resolve_paths(env).sessions_dir)
        self._updated: dict[str, float] | None = None

    def updated(self, session_id: str) -> float:
        if self._updated is None:
            try:
                self._updated = {row.id: row.updated for row in self._store.scan().sessions}
            except (StoreError, OSError):
                self._updated = {}
        return self._updated.get(session_id, 0.0)

    def facts(self, session_id: str) -> StoredFacts:
        try:
            snapshot = self._store.open_read_only(session_id).snapshot
        except (StoreError, SessionNotFound, OSError):  # not saved yet: a live session without a prompt
            return StoredFacts()
        return StoredFacts(provider=snapshot.provider or "", cost_usd=snapshot.cost_usd, cwd=snapshot.cwd)


# --------------------------------------------------------------- the chat


@attrs.frozen
class _AttachedApp:
    """What :class:`Chat` reads of an app when no app is built here (the
    server built the session): where input history is kept."""

    paths: Any


class _QuestionKeys:
    """The chat's keys, except answers to a question shown while no turn of ours runs."""

    def __init__(self, keys: KeyQueue, answer: Callable[[Key], bool]) -> None:
        self._keys = keys
        self._answer = answer

    async def receive(self) -> Key:
        while True:
            key = await self._keys.receive()
            if not self._answer(key):
                return key

    def unget(self, keys: list[Key]) -> None:
        self._keys.unget(keys)

    def __aiter__(self) -> _QuestionKeys:
        return self

    async def __anext__(self) -> Key:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None


class AttachedChat(Chat):
    def __init__(self, remote: RemoteSession, facts: StoredFacts, *, paths: Any, console: Console, terminal: bool,
                 color: bool) -> None:  # fmt: skip
        super().__init__(_AttachedApp(paths), console, terminal=terminal, color=color)  # type: ignore[arg-type]
        self.remote = remote
        self.facts = facts
        self.keys = _QuestionKeys(self.keys, self._answer_between_turns)  # type: ignore[assignment]
        self.server_gone = False

    async def run(self, first: Any = None) -> int:
        code = await super().run(first)
        return EXIT_SERVER_GONE if self.server_gone else code

    def make_commands(self) -> AttachedCommands:
        return AttachedCommands(self)

    async def switch_session(self, info: Any = None) -> Any:
        """Show the joined session (its replay is waiting in its events)."""
        assert self.nursery is not None
        remote = self.remote
        remote.translator.provider = self.facts.provider
        self.renderer.status = StatusInfo(
            provider=self.facts.provider, model=remote.translator.model, mode=remote.mode, cost_usd=self.facts.cost_usd
        )
        clients = int(remote.attached.get("connectedClients") or 1)
        others = {1: "no other client", 2: "1 other client"}.get(clients, f"{clients - 1} other clients")
        running = "; a turn is running" if remote.attached.get("turnRunning") else ""
        self.console.print(Text(f"attached to session {remote.id} in agent serve ({others}{running})", style="dim"))
        self.view = SessionView(remote, self.renderer)  # type: ignore[arg-type]
        self.view.emitted = remote.events.emitted  # the replay, emitted before the view existed
        await self.nursery.start(self.view.pump)
        await self.view.drained()  # the history is on screen before the prompt
        self.nursery.start_soon(self._watch_server)
        return remote

    def _sync_status(self) -> None:
        """The renderer's status follows the session's updates (usage, mode, model)."""

    def _rule_file(self) -> str:
        cwd = self.facts.cwd
        return str(find_project(cwd).local_config_file) if cwd is not None else "the session's project configuration"

    def _answer_between_turns(self, key: Key) -> bool:
        """A question from another client's turn, answered while the prompt is on
        screen. True when ``key`` was the answer (it does not reach the prompt)."""
        request = self.renderer.current_permission
        if self._turn_cancel is not None or request is None:
            return False  # during our own turn the chat's turn keys answer
        text = key.text.strip() if key.name == "line" else key.text if key.name == "char" else ""
        option = ANSWERS.get(text)
        if option is None:
            return False
        if self.remote.permissions.resolve(request.request_id, option):
            self.renderer.permission_answered(request, option, saved_to=self._rule_file() if option is PermissionOption.ALLOW_ALWAYS else None)
        return True

    async def _watch_server(self) -> None:
        """The server went away (or dropped us): say so and leave."""
        await self.remote.ended.wait()
        if not self.remote.leaving:
            self.server_gone = True
            self.renderer.handle(Notice("warning", f"{self.remote.end_reason}; the chat ends here"))
            self.quit_scope.cancel()


class AttachedCommands:
    """Slash commands of an attached chat: the server runs ``/context`` and
    ``/compact``; ``/mode`` asks it to switch; the rest belong to local sessions."""

    def __init__(self, chat: AttachedChat) -> None:
        self.chat = chat
        self.names = ("help", *REMOTE_COMMANDS, "mode", "exit", "quit")

    def _say(self, text: str, style: str = "") -> None:
        self.chat.console.print(Text(text, style=style))

    async def dispatch(self, line: str) -> bool:
        name, _, rest = line[1:].partition(" ")
        match name.lower():
            case "exit" | "quit":
                return False
            case "help":
                self._say("/context, /compact [focus]  run in the server; /mode [name]  show or set the permission mode; "
                          "/exit  detach (the session stays live)\n"
                          "Ctrl-C cancels a turn · y a n N answer a question · Ctrl-D exits")  # fmt: skip
            case command if command in REMOTE_COMMANDS:
                await self.chat.run_turn(line.strip())
            case "mode":
                await self._mode(rest.strip())
            case _:
                self._say(f"/{name} is for local sessions; /help lists what an attached chat offers", "red")
        return True

    async def _mode(self, mode: str) -> None:
        if not mode:
            self._say(f"mode: {self.chat.renderer.status.mode}", "magenta")
            return
        try:
            await self.chat.remote.set_mode(mode)
        except AttachError as exc:
            self._say(f"/mode: {exc}", "red")
        await self.chat.drained()

    def complete(self, text: str) -> Sequence[str]:
        if not text.startswith("/") or " " in text:
            return []
        return sorted(f"/{n}" for n in self.names if f"/{n}".startswith(text))


# ------------------------------------------------------------------ entry


async def _attached(wanted: str, socket: Path, *, env: Any, cwd: Path, console: Console, terminal: bool,
                    color: bool) -> int:  # fmt: skip
    journal = _Journal(env)
    async with trio.open_nursery() as nursery:
        try:
            remote = await RemoteSession.connect(socket, nursery)
            target = choose_session(await remote.live(), wanted, cwd=cwd, updated=journal.updated)
            if target.clients:
                console.print(Text("asking the session's owner to let this terminal control it…", style="dim"))
            facts = journal.facts(target.id)
            await remote.attach(target.id, cwd=facts.cwd or target.cwd)
        except AttachError as exc:
            Console(stderr=True, highlight=False).print(Text(f"error: {exc}", style="bold red"))
            nursery.cancel_scope.cancel()
            return EXIT_ATTACH_FAILED
        chat = AttachedChat(remote, facts, paths=resolve_paths(env), console=console, terminal=terminal, color=color)
        with ExitStack() as stack:
            if terminal:
                stack.enter_context(raw_mode(sys.stdin.fileno()))
            code = await chat.run()
        await remote.aclose()
        nursery.cancel_scope.cancel()
    return code


def main(args: argparse.Namespace) -> int:
    env = os.environ
    socket = server_socket(env)
    if socket is None:  # no state file: no server, and nothing to wait for
        Console(stderr=True, highlight=False).print(Text(f"error: {NO_SERVER_MESSAGE}", style="bold red"))
        return EXIT_ATTACH_FAILED
    console, color = make_console(no_color=bool(getattr(args, "no_color", False)), env=env)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        return trio.run(lambda: _attached(args.attach or "", socket, env=env, cwd=Path.cwd(), console=console,
                                          terminal=terminal, color=color))  # fmt: skip
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


__all__ = ["AttachedChat", "NoServer", "choose_session", "main"]
