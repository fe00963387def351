"""Costs that add up: a compaction summary's model call is journaled with its
usage and cost, so the session's totals are the same after a resume (they used
to lose every summary's cost)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from agentcore.events import UsageCharged
from agentcore.store import JournalStore
from fakes.llm_server import FakeServer, sse_reply
from fakes.vendor_wire import oa_text_stream
from store_support import info, make_core, make_provider, reopen, text


@pytest.mark.traits
async def test_a_compaction_summary_costs_the_same_after_a_resume(
    store: JournalStore, server: FakeServer, http_client, state_dir: Path, work: Path
) -> None:
    long_answer = "a long and detailed answer about the parser " * 40
    server.enqueue(*(text(long_answer) for _ in range(6)))
    server.enqueue(sse_reply(*oa_text_stream("the summary of it all", prompt=50_000, completion=900)))
    core = make_core(store, make_provider(server, http_client), state_dir)
    charged: list[UsageCharged] = []
    async with core.open_session(info(work)) as session:
        session.events.add_observer(lambda ev: charged.append(ev) if isinstance(ev, UsageCharged) else None)
        for i in range(6):
            await session.run_turn(f"question {i} " + "with details " * 40)
        before = session.cost_usd
        report = await session.compact(reason="manual")
        assert report is not None and report.messages_summarized > 0
        assert [(c.source, c.usage.output_tokens) for c in charged] == [("compaction", 900)]
        assert session.cost_usd > before
        totals = (session.usage, session.cost_usd)
        sid = session.id
    reloaded = reopen(store).load(sid)
    assert (reloaded.usage, reloaded.cost_usd) == totals
    async with make_core(reopen(store), make_provider(server, http_client), state_dir).open_session(
        info(work, session_id=sid)
    ) as resumed:
        assert (resumed.usage, resumed.cost_usd) == totals
    await trio.lowlevel.checkpoint()
