"""Another client's turn, seen from a page watching the session: the page
learns from the server's turn updates (not by polling) that a turn started,
by whom, and when it ended — it shows the turn running while the other page's
reply is held, goes idle when it ends, and never asks ``_agentcore/sessions/live``
meanwhile."""

from __future__ import annotations

from pathlib import Path

import trio
import web_support as w

s = w.serve
LIVE = "_agentcore/sessions/live"


async def test_a_watching_page_follows_another_pages_turn_without_polling(
    web_dirs: dict[str, Path], browser: w.Browser
) -> None:
    gate = trio.Event()
    token = trio.lowlevel.current_trio_token()

    async def hold() -> None:
        await gate.wait()  # the model's reply pauses here while the watcher is looked at

    async with s.llm_server.open_fake_server() as llm:
        llm.enqueue(s.text_reply("Half way, ", hold, "done now."))
        async with w.running_server(web_dirs, llm.url) as server:

            def scenario() -> dict[str, object]:
                owner = browser.new_page()
                w.log_in(owner, server.base, server.token)
                session_id = w.new_session(owner, web_dirs["work"])
                watcher = browser.new_page()
                w.log_in(watcher, server.base, server.token)
                watcher.click(f".session-row[data-session-id='{session_id}'] .link-button")  # Watch
                watcher.wait_for_selector("#session-role:text('observing')")
                w.wait_idle(watcher)
                # Every request the watcher makes from now on is recorded.
                watcher.evaluate("""() => {
                    const acp = window.agentcore.acp;
                    window.requested = [];
                    const request = acp.request.bind(acp);
                    acp.request = (method, params) => { window.requested.push(method); return request(method, params); };
                }""")
                w.send_prompt(owner, "go")
                w.wait_text(watcher, ".msg.agent", "Half way,")
                watcher.wait_for_selector("body[data-turn=running]", state="attached")
                during = watcher.evaluate("() => ({by: window.agentcore.state.turnBy, own: window.agentcore.state.ownPrompt})")
                trio.from_thread.run_sync(gate.set, trio_token=token)
                w.wait_text(watcher, ".msg.agent", "done now.")
                w.wait_idle(watcher)
                w.wait_idle(owner)
                return {
                    "during": during,
                    "requested": watcher.evaluate("() => window.requested"),
                    "announced": watcher.inner_text("#announcer"),
                    "errors": owner.errors + watcher.errors,
                }

            seen = await browser.run(scenario)
    assert seen["during"]["by"] and seen["during"]["own"] is False  # another client's turn, named by its id
    assert LIVE not in seen["requested"]  # no polling while it ran
    assert "Another client started a turn" in seen["announced"] and "turn ended (end turn)" in seen["announced"]
    assert seen["errors"] == []
