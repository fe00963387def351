"""How a typed chat line becomes what the model gets.

Three habits live here, between the line editor and ``Session.run_turn``:

* ``@path`` mentions attach files (:mod:`cli.mentions`; completion in
  :mod:`cli.mention_complete`);
* ``!command`` runs a shell command for the person (:mod:`cli.shell_passthrough`);
  its output waits here and goes to the model with the next prompt, after the
  typed text, so it is in the conversation (and the journal) from then on;
* the prompt is the typed text, then the waiting command outputs, then the
  attached files — one user message.

Invariant: only a local session (one with a workspace and a shell) gets
attachments or runs commands; an attached chat (``agent chat --attach``)
sends the line as typed and says ``!`` is not available there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import trio
from rich.text import Text

from agentcore.messages import TextBlock, UserMessage
from agentcore.cli.mention_complete import FileIndex, MentionCompleter
from agentcore.cli.mentions import Attachments, MentionResolver, attachment_lines, find_mentions
from agentcore.cli.shell_passthrough import denial, run_user_command

if TYPE_CHECKING:
    from rich.console import Console

    from agentcore.session import Prompt

PENDING_COMMANDS_MAX = 20  # `!` outputs waiting for the next prompt; older ones are dropped (said)


class InputHost(Protocol):
    """What the input path uses of the chat (:class:`cli.chat.Chat`)."""

    console: Console

    @property
    def session(self) -> Any: ...

    async def while_keys_watched(self, work: Callable[[], Awaitable[None]], *, cancel: Callable[[], None]) -> None: ...


def _local(session: Any) -> bool:
    """A session of this process (not one attached over a socket)."""
    return all(hasattr(session, name) for name in ("workspace", "shell", "content_denied", "permissions", "redactor"))


def _protected(session: Any) -> Callable[[Path], str | None]:
    protected = getattr(session.permissions, "protected", None)
    if protected is None:
        from agentcore.permissions import ProtectedPaths

        protected = ProtectedPaths()
    return lambda path: protected.reason(path, session.workspace)


class ChatInputs:
    def __init__(self, chat: InputHost) -> None:
        self.chat = chat
        self.pending: list[TextBlock] = []  # `!` outputs for the next prompt
        self._index: FileIndex | None = None
        self._nursery: trio.Nursery | None = None

    def _say(self, text: str, style: str = "") -> None:
        self.chat.console.print(Text(text, style=style))

    # ----------------------------------------------------------- completion

    def completer(self, commands: Callable[[str], Sequence[str]]) -> Callable[[str], Sequence[str]]:
        """Completion for the line editor: ``@path`` words, else the slash commands."""

        def complete(before: str) -> Sequence[str]:
            session = self.chat.session
            if _local(session) and "@" in before:
                options = self._mentions(session)(before)
                if options:
                    return options
            return commands(before)

        return complete

    def _mentions(self, session: Any) -> MentionCompleter:
        root = session.workspace.cwd
        if self._index is None or self._index.root != root:
            self._index = FileIndex(root)
        index = self._index

        def refresh() -> None:
            if self._nursery is not None:
                self._nursery.start_soon(index.rebuild)

        return MentionCompleter(index, denied=lambda p: session.content_denied(p) is not None, refresh=refresh)

    def warm_up(self, nursery: trio.Nursery) -> None:
        """Build the file index in the background so the first Tab does not wait;
        later rebuilds of a stale index run in ``nursery`` too."""
        self._nursery = nursery
        session = self.chat.session
        if _local(session):
            self._mentions(session)
            assert self._index is not None
            nursery.start_soon(self._index.rebuild)

    # ------------------------------------------------------------- prompts

    async def prompt_for(self, text: str) -> Prompt:
        """The prompt for ``text``: with waiting command outputs and mentioned files."""
        session = self.chat.session
        if not _local(session):
            return text
        attachments = Attachments()
        if find_mentions(text):
            resolver = MentionResolver(session, protected=_protected(session))
            attachments = await trio.to_thread.run_sync(resolver.resolve, text)
            for line, style in attachment_lines(attachments):
                self._say(line, style)
        extra = [*self.pending, *attachments.blocks]
        self.pending = []
        if not extra:
            return text
        return UserMessage(content=(TextBlock(text), *extra))

    def keep_for_later(self, prompt: Prompt) -> None:
        """A prompt that was not sent (too large, refused): its command outputs wait again."""
        if isinstance(prompt, UserMessage):
            kept = [b for b in prompt.content[1:] if isinstance(b, TextBlock) and b.text.startswith("<user-shell-command>")]
            self.pending[:0] = kept

    # ------------------------------------------------------------ !command

    async def shell(self, command: str) -> None:
        session = self.chat.session
        if not command:
            self._say("!: type a command after it, e.g. !git status", "yellow")
            return
        if not _local(session):
            self._say("!command runs only in a local session, not in an attached one", "yellow")
            return
        refused = denial(session, command)
        if refused is not None:
            self._say(f"!{command} was not run: {refused}", "red")
            return
        scope = trio.CancelScope()
        runs: list[Any] = []
        console = self.chat.console

        def show(chunk: str) -> None:
            console.file.write(chunk)
            console.file.flush()

        async def work() -> None:
            runs.append(await run_user_command(session, command, show=show, cancel_scope=scope))

        await self.chat.while_keys_watched(work, cancel=scope.cancel)
        if not runs:
            return
        run = runs[0]
        if run.output and not run.output.endswith("\n"):
            show("\n")
        self._say(f"[{run.status}] · the command and its output go to the model with your next message", "dim")
        self.pending.append(run.context_block(session.redactor))
        if len(self.pending) > PENDING_COMMANDS_MAX:
            del self.pending[0]
            self._say(f"(only the last {PENDING_COMMANDS_MAX} command outputs are kept for the next message)", "dim")
