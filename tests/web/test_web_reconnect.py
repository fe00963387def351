"""A WebSocket dropped mid-stream: the page reconnects by itself, re-attaches,
and shows the reply whole and once: what streamed before the drop (replayed by
the server, which keeps the response streaming now) and the rest after it."""

from __future__ import annotations

from pathlib import Path

import trio
import web_support as w

s = w.serve


async def test_a_dropped_socket_mid_stream_shows_the_rest_once(web_dirs: dict[str, Path], browser: w.Browser) -> None:
    gate = trio.Event()
    token = trio.lowlevel.current_trio_token()

    async def hold() -> None:
        await gate.wait()  # the model's stream pauses here until the page has reconnected

    async with s.llm_server.open_fake_server() as llm:
        llm.enqueue(s.text_reply("First half, ", "still first; ", hold, "second half."))
        async with w.running_server(web_dirs, llm.url) as server:

            def scenario() -> dict[str, object]:
                page = browser.new_page()
                w.log_in(page, server.base, server.token)
                w.new_session(page, web_dirs["work"])
                w.send_prompt(page, "talk")
                w.wait_text(page, ".msg.agent", "still first;")
                page.evaluate("() => window.agentcore.acp.socket.close(4000, 'dropped by the test')")
                page.wait_for_function("() => window.agentcore.acp.connects === 2 && window.agentcore.state.attaches === 1")
                assert page.evaluate("() => window.agentcore.state.running")  # the turn goes on in the server
                w.wait_text(page, ".msg.agent", "still first;")  # replayed after re-attaching
                trio.from_thread.run_sync(gate.set, trio_token=token)
                w.wait_text(page, ".msg.agent", "second half.")
                w.wait_idle(page)
                return page.evaluate("""() => ({
                    agent: [...document.querySelectorAll('.msg.agent')].map(m => m.textContent.trim()),
                    user: [...document.querySelectorAll('.msg.user')].map(m => m.textContent.trim()),
                })""")

            seen = await browser.run(scenario)
    assert seen["agent"] == ["First half, still first; second half."]
    assert seen["user"] == ["talk"]
