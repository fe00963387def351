"""``/continue`` in ``agent chat``: go on with a turn the last process was cut off in.

Invariant: the pending turn only ever leaves through the session
(``run_pending`` or ``discard_pending``), so the journal records which one it
was; this module only decides what to say.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from rich.text import Text

from agentcore.session import NoPendingTurn, WhenBusy
from agentcore.turn import TurnAbortedError, TurnInProgress

USAGE = "/continue [discard]"
HELP = "continue the turn the last run was cut off in (discard: drop it)"


class PendingHost(Protocol):
    """What ``/continue`` uses of the chat (:class:`cli.chat.Chat`)."""

    console: Any

    @property
    def session(self) -> Any: ...

    async def while_keys_watched(self, work: Callable[[], Awaitable[None]], *, cancel: Callable[[], None]) -> None: ...


def pending_summary(session: Any) -> str | None:
    """One line about the session's pending turn, or None without one."""
    pending = getattr(session, "pending_turn", None)
    if pending is None:
        return None
    running = [f"{c.name}: {c.command}" for c in pending.interrupted_tools if not c.finished]
    tools = f"; cut off while running {'; '.join(running)}" if running else ""
    return f"an interrupted turn is pending ({len(pending.messages)} messages{tools})"


async def continue_command(chat: PendingHost, arg: str) -> bool:
    """The ``/continue`` slash command; always stays in the chat (returns True)."""
    session = chat.session
    summary = pending_summary(session)
    if summary is None:
        chat.console.print(Text("nothing to continue: no turn of this session was cut off", style="yellow"))
        return True
    if arg.strip().lower() == "discard":
        await session.discard_pending()
        chat.console.print(Text("the interrupted turn was discarded (agent sessions show --full still shows it)", style="dim"))
        return True
    if arg.strip():
        chat.console.print(Text(f"usage: {USAGE}", style="yellow"))
        return True
    chat.console.print(Text(f"continuing: {summary}", style="dim"))

    async def turn() -> None:
        try:
            await session.run_pending(when_busy=WhenBusy.WAIT)
        except TurnAbortedError:
            pass  # the renderer has shown the TurnAborted event; the turn is pending again
        except (TurnInProgress, NoPendingTurn) as exc:
            chat.console.print(Text(str(exc), style="red"))

    await chat.while_keys_watched(turn, cancel=session.cancel)
    return True
