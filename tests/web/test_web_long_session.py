"""A 10,000-message session: the page keeps only a window of it in the DOM
(a virtualized list), shows the end first, and brings any part back when it
is scrolled to, rendered the same way."""

from __future__ import annotations

from pathlib import Path

import web_support as w

MESSAGES = 10_000
WINDOW_MAX_ITEMS = 200  # far below the session's length; what a viewport and its overscan hold


async def test_a_long_session_keeps_only_a_window_in_the_dom(web_dirs: dict[str, Path], browser: w.Browser) -> None:
    async with w.running_server(web_dirs, None) as server:

        def scenario() -> dict[str, object]:
            page = browser.new_page()
            w.log_in(page, server.base, server.token)
            w.new_session(page, web_dirs["work"])
            page.evaluate("""(count) => {
                const t = window.agentcore.transcript;
                for (let i = 0; i < count; i++) {
                    t.apply({sessionUpdate: i % 2 ? 'agent_message_chunk' : 'user_message_chunk',
                             messageId: `m${i}`, content: {type: 'text', text: `message **${i}**`}});
                }
                t.flush();
            }""", MESSAGES)  # fmt: skip
            end = page.evaluate("() => [document.querySelectorAll('#transcript .item').length, document.querySelector('#transcript .item:last-of-type').textContent]")
            page.evaluate("() => { const box = document.getElementById('transcript'); box.scrollTop = 0; }")
            page.wait_for_function("() => [...document.querySelectorAll('#transcript .msg.user')].some(n => n.textContent === 'message **0**')")
            start = page.evaluate("() => [document.querySelectorAll('#transcript .item').length, document.querySelector('#transcript .msg.agent strong').textContent]")
            return {"end": end, "start": start, "total": page.evaluate("() => window.agentcore.transcript.count")}

        seen = await browser.run(scenario)
    assert seen["total"] >= MESSAGES  # and any notice the session started with
    assert seen["end"][0] < WINDOW_MAX_ITEMS and "message 9999" in seen["end"][1]  # Markdown rendered: ** gone
    assert seen["start"][0] < WINDOW_MAX_ITEMS and seen["start"][1] == "1"
