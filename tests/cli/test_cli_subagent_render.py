"""A sub-agent's spawn_agent call as the terminal renders it: the step on the
running line (not the last line of its transcript), and the answer collapsed
under the finished call with the footer kept, expandable whole."""

from __future__ import annotations

import io

from rich.console import Console

from agentcore import events as ev
from agentcore.cli.render import Renderer
from agentcore.tools.base import ToolKind, ToolResult

T = "turn_1"
ANSWER = "\n".join(f"finding {i}" for i in range(1, 13))
FOOTER = "[reviewer sub-agent: end_turn · 3 model requests · 5,000 tokens in, 400 out · $0.0123]"


def spawn_started() -> ev.ToolCallStarted:
    return ev.ToolCallStarted(T, "s1", "spawn_agent", "reviewer agent: Review app.py", ToolKind.OTHER, {"profile": "reviewer"})


def test_the_running_line_shows_the_childs_step_and_the_answer_collapses_under_the_call() -> None:
    console = Console(record=True, width=120, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    renderer = Renderer(console, live=True)
    renderer.handle(ev.TurnStarted(T))
    renderer.handle(spawn_started())
    renderer.handle(ev.ToolCallProgress(T, "s1", "→ Read app.py\n  ✓ read_file (0.1s)\n", step="running grep TODO"))
    renderer.handle(ev.ToolCallProgress(T, "s1", "more text", step=None))  # None keeps the step
    live = Console(record=True, width=120, file=io.StringIO())
    live.print(renderer.live_view())
    line = live.export_text()
    assert "reviewer agent: Review app.py  running grep TODO" in line and "more text" not in line

    renderer.handle(ev.ToolCallFinished(T, "s1", "spawn_agent", ToolResult.text(f"{ANSWER}\n\n{FOOTER}"), 4.2))
    renderer.stop_live()
    lines = [line.strip() for line in console.export_text().splitlines()]
    assert "finding 1" in lines and "finding 12" in lines
    assert "finding 5" not in lines
    assert "… 6 more lines (Ctrl-O to expand)" in lines
    assert FOOTER in lines
    assert renderer.expand()  # Ctrl-O: the whole answer, footer aside
    whole = [line.strip() for line in console.export_text().splitlines()]  # what was printed since
    assert whole[0] == "── reviewer agent: Review app.py · 12 lines ──"
    assert whole[1:13] == [f"finding {i}" for i in range(1, 13)] and FOOTER not in whole
