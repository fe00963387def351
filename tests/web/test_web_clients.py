"""One session, three controllers: the page that opened it, a second page and
the official Python ACP SDK. Attaching as controller asks the owner (the first
page answers in the page); a permission request goes to every controller and
the first answer wins: the others see it resolved and their question leaves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import trio
import web_support as w

s = w.serve
SDK_CLIENT = Path(__file__).parent / "web_sdk_client.py"
SDK_TIMEOUT_S = 60.0


class SdkClient:
    """The SDK client process; its JSON lines as they arrive."""

    def __init__(self, proc: trio.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self._buffer = bytearray()

    async def next_step(self, name: str) -> dict[str, Any]:
        while True:
            for event in self.events:
                if event.get("step") == name:
                    self.events.remove(event)
                    return event
                assert "error" not in event, event
            assert self.proc.stdout is not None
            line = await s.read_line(self.proc.stdout, self._buffer)
            assert line, f"the SDK client ended before {name}: {self.events}"
            if line.startswith("{"):
                self.events.append(json.loads(line))


def allow_approval(page: Any) -> None:
    """The owner page approves another client's request to control its session."""
    page.wait_for_selector(".request[aria-label='Another client asks']")
    page.click(".request[aria-label='Another client asks'] button:text('Allow')")


async def test_first_answer_wins_across_pages_and_the_sdk(web_dirs: dict[str, Path], browser: w.Browser) -> None:
    replies = (
        s.tool_reply("call_1", "bash", {"command": "echo one"}),
        s.tool_reply("call_2", "bash", {"command": "echo two"}),
        s.text_reply("all done"),
    )
    async with s.llm_server.open_fake_server() as llm:
        llm.enqueue(*replies)
        async with w.running_server(web_dirs, llm.url) as server:
            owner = await browser.run(browser.new_page)
            second = await browser.run(browser.new_page)
            await browser.run(w.log_in, owner, server.base, server.token)
            session_id = await browser.run(w.new_session, owner, web_dirs["work"])

            def second_attaches() -> None:
                w.log_in(second, server.base, server.token)
                second.click(f".session-row[data-session-id='{session_id}'] .session-open")
                allow_approval(owner)
                second.wait_for_selector("#session-role:text('controlling')")
                second.wait_for_function("() => window.agentcore.state.session.modes !== undefined")

            await browser.run(second_attaches)
            config = {"url": server.url, "token": server.token, "sessionId": session_id, "answer": 1, "until": "all done",
                      "timeout": SDK_TIMEOUT_S - 5}  # fmt: skip
            with trio.fail_after(SDK_TIMEOUT_S):
                proc = await trio.lowlevel.open_process([sys.executable, str(SDK_CLIENT), json.dumps(config)],
                                                        stdout=subprocess.PIPE, cwd=web_dirs["work"])  # fmt: skip
                sdk = SdkClient(proc)
                try:
                    await browser.run(allow_approval, owner)
                    assert (await sdk.next_step("attached"))["role"] == "controller"
                    await browser.run(w.send_prompt, owner, "run both")
                    first = await sdk.next_step("permission")  # answered by the SDK at once
                    assert first == {"step": "permission", "toolCallId": "call_1", "answering": True}
                    assert (await sdk.next_step("permission"))["answering"] is False  # call_2: left to the pages

                    def second_page_answers() -> dict[str, Any]:
                        second.wait_for_selector(".request .request-command:text('echo two')")
                        owner.wait_for_selector(".request .request-command:text('echo two')")
                        second.click(".request button[data-option-id=allow_once]")
                        owner.wait_for_selector(".request", state="detached")  # resolved elsewhere: the question leaves
                        for page in (owner, second):
                            w.wait_text(page, ".msg.agent", "all done")
                        return {
                            "notice": owner.inner_text(".transcript"),
                            "statuses": owner.eval_on_selector_all(".tool", "ts => ts.map(t => t.dataset.status)"),
                            "second": second.eval_on_selector_all(".tool", "ts => ts.map(t => t.dataset.status)"),
                            "errors": owner.errors + second.errors,
                        }

                    seen = await browser.run(second_page_answers)
                    reply = await sdk.next_step("reply")
                finally:
                    with trio.move_on_after(10):
                        await proc.wait()
                    if proc.returncode is None:
                        proc.kill()
                        await proc.wait()
    assert "Permission request resolved elsewhere" in seen["notice"]
    assert seen["statuses"] == ["completed", "completed"] and seen["second"] == ["completed", "completed"]
    assert reply["text"] == "all done"
    assert seen["errors"] == []
