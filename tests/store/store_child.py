"""A recording agent process for the crash and lock tests (spawned, then killed).

Usage: python store_child.py SCENARIO SESSIONS_DIR STATE_DIR CWD SERVER_URL [SESSION_ID]

* ``stream``: run a complete turn (with a tool call), print ``TURN1 DONE``,
  start a second turn and print ``DELTA`` once its answer starts streaming
  (the test's server then stalls).
* ``tool``: the same first turn, then a second turn whose tool call prints
  ``TOOL STARTED`` and blocks.
* ``hold``: open SESSION_ID for writing, print ``OPEN`` and wait to be killed.
* ``fullsize``: after the first turn, limit this process's file size (RLIMIT_FSIZE)
  to a few bytes past the journal, as a disk that fills mid-turn; print
  ``SAVING_STOPPED <reason>`` when the session says so; lift the limit ("space
  returns"), run a third turn and print ``TURN3 DONE``.

It prints ``SESSION <id>`` as soon as the session is open.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # store_support and fakes, as under pytest

import httpx  # noqa: E402
import trio  # noqa: E402

from agentcore import FunctionTool  # noqa: E402
from agentcore.events import AssistantTextDelta  # noqa: E402
from agentcore.store import JournalStore  # noqa: E402
from agentcore.tools.base import ToolContext  # noqa: E402
from store_support import ECHO_TOOL, info, make_core, make_provider  # noqa: E402


def say(line: str) -> None:
    print(line, flush=True)


async def _block(args: Mapping[str, Any], ctx: ToolContext) -> str:
    say("TOOL STARTED")
    await trio.sleep_forever()
    raise AssertionError("unreachable")


BLOCK_TOOL = FunctionTool("block", "never returns", {"type": "object"}, fn=_block)


class _Url:
    """What make_provider needs of a FakeServer: its url."""

    def __init__(self, url: str) -> None:
        self.url = url


async def main(scenario: str, sessions_dir: str, state_dir: str, cwd: str, url: str, session_id: str | None) -> None:
    store = JournalStore(Path(sessions_dir))
    async with httpx.AsyncClient(trust_env=False) as client:
        provider = make_provider(_Url(url), client)  # type: ignore[arg-type]
        core = make_core(store, provider, Path(state_dir), tools=[ECHO_TOOL, BLOCK_TOOL])
        async with core.open_session(info(Path(cwd), session_id=session_id)) as session:
            say(f"SESSION {session.id}")
            if scenario == "hold":
                say("OPEN")
                await trio.sleep_forever()
            await session.run_turn("first prompt")
            say("TURN1 DONE")
            if scenario == "fullsize":
                await _fill_the_disk_mid_turn(session, Path(sessions_dir) / session.id / "journal.jsonl")
                return
            announced = False

            def on_delta(event: object) -> None:
                nonlocal announced
                if isinstance(event, AssistantTextDelta) and not announced:
                    announced = True
                    say("DELTA")

            session.events.add_observer(on_delta)
            await session.run_turn("second prompt")
            say("TURN2 DONE")  # the test kills the process before this


async def _fill_the_disk_mid_turn(session: object, journal: Path) -> None:
    import resource
    import signal

    from agentcore.events import SavingStopped

    def on_event(event: object) -> None:
        if isinstance(event, SavingStopped):
            say(f"SAVING_STOPPED {event.reason}")

    session.events.add_observer(on_event)  # type: ignore[attr-defined]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (journal.stat().st_size + 60, hard))  # part of one record fits
    await session.run_turn("second prompt, on a full disk")  # type: ignore[attr-defined]
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space returns
    await session.run_turn("third prompt")  # type: ignore[attr-defined]
    say("TURN3 DONE")


if __name__ == "__main__":
    args = sys.argv[1:]
    trio.run(main, *args[:5], args[5] if len(args) > 5 else None)
