"""A full turn in the page against a real ``agent serve`` and the loopback LLM:
an edit's permission request with its diff, answered in the page; the tool call's
status; the streamed Markdown reply with highlighted code; screenshots of the
main views at phone and desktop widths (tmp/artifacts/web)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import web_support as w

s = w.serve


def _edit_reply() -> Any:
    return s.tool_reply("call_1", "edit_file", {"path": "greet.py", "edits": [{"old_string": "print('hi')", "new_string": "print('hello, world')"}]})


async def test_a_turn_with_an_edit_asked_and_allowed_in_the_page(web_dirs: dict[str, Path], browser: w.Browser) -> None:
    (web_dirs["work"] / "greet.py").write_text("import sys\nprint('hi')\n")
    reply = s.text_reply("Done. It now says:\n\n```python\nprint('hello, world')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    async with s.llm_server.open_fake_server() as llm:
        llm.enqueue(_edit_reply(), reply)
        async with w.running_server(web_dirs, llm.url) as server:

            def scenario() -> dict[str, Any]:
                page = browser.new_page(w.DESKTOP)
                w.log_in(page, server.base, server.token)
                w.new_session(page, web_dirs["work"])
                w.send_prompt(page, "make it greet the world")
                card = page.wait_for_selector(".request")
                seen = {
                    "title": card.inner_text(),
                    "added": page.inner_text(".request .diff .add"),
                    "removed": page.inner_text(".request .diff .del"),
                    "options": page.eval_on_selector_all(".request button", "bs => bs.map(b => b.dataset.optionId)"),
                }
                w.screenshot(page, "desktop-permission")
                page.click(".request button[data-option-id=allow_once]")
                w.wait_text(page, ".msg.agent", "It now says")
                w.wait_idle(page)
                seen["status"] = page.get_attribute(".tool", "data-status")
                seen["highlighted"] = page.evaluate("() => document.querySelectorAll('.msg.agent pre code.hljs span').length")
                seen["table"] = page.evaluate("() => document.querySelectorAll('.msg.agent table td').length")
                seen["cost"] = page.inner_text("#cost")
                w.screenshot(page, "desktop-turn")
                phone = browser.new_page(w.PHONE)
                w.log_in(phone, server.base, server.token)
                phone.click("#toggle-sessions")
                phone.wait_for_selector(".session-row")
                w.screenshot(phone, "phone-sessions")
                phone.click(".session-row button.link-button")  # Watch: an observer needs no approval
                w.wait_text(phone, ".msg.agent", "It now says")
                seen["phone_role"] = phone.inner_text("#session-role")
                seen["phone_input_disabled"] = phone.is_disabled("#composer-input")
                w.screenshot(phone, "phone-turn")
                seen["errors"] = page.errors + phone.errors
                return seen

            seen = await browser.run(scenario)
    assert "greet.py" in seen["title"]
    assert "print('hello, world')" in seen["added"] and "print('hi')" in seen["removed"]
    assert seen["options"] == ["allow_once", "allow_always", "reject_once", "reject_always"]
    assert seen["status"] == "completed"
    assert (web_dirs["work"] / "greet.py").read_text() == "import sys\nprint('hello, world')\n"
    assert seen["highlighted"] > 0 and seen["table"] == 2
    assert seen["cost"].startswith("$")
    assert seen["phone_role"] == "observing" and seen["phone_input_disabled"]
    assert seen["errors"] == []
