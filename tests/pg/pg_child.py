"""A process recording into the PostgreSQL store, for the crash test (spawned, then SIGKILLed).

Usage: python pg_child.py URL STATE_DIR CWD SERVER_URL LEASE_S

Runs a complete turn (with a tool call), prints ``TURN1 DONE``, then a second
turn whose tool call waits until the store has committed everything queued,
prints ``TOOL STARTED`` and blocks. Prints ``SESSION <id>`` once open.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # pg_support and fakes, as under pytest

import httpx
import trio
from pg_support import ECHO_TOOL, info, make_core, make_provider

from agentcore import FunctionTool
from agentcore.store.pg import PgSessionStore
from agentcore.tools.base import ToolContext

STORE: PgSessionStore | None = None


def say(line: str) -> None:
    print(line, flush=True)


async def _block(args: Mapping[str, Any], ctx: ToolContext) -> str:
    assert STORE is not None
    await trio.to_thread.run_sync(STORE.writer.barrier)  # tool_started is committed: the crash comes after it
    say("TOOL STARTED")
    await trio.sleep_forever()
    raise AssertionError("unreachable")


BLOCK_TOOL = FunctionTool("block", "never returns", {"type": "object"}, fn=_block)


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


async def main(url: str, state_dir: str, cwd: str, server_url: str, lease_s: str) -> None:
    global STORE
    STORE = PgSessionStore(url, lease_s=float(lease_s))
    async with httpx.AsyncClient(trust_env=False) as client:
        core = make_core(STORE, make_provider(_Url(server_url), client), Path(state_dir), tools=[ECHO_TOOL, BLOCK_TOOL])  # type: ignore[arg-type]
        async with core.open_session(info(Path(cwd))) as session:
            say(f"SESSION {session.id}")
            await session.run_turn("first prompt")
            say("TURN1 DONE")
            await session.run_turn("second prompt")


if __name__ == "__main__":
    trio.run(main, *sys.argv[1:6])
