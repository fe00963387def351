"""The exact values of the agent's keys are redacted from tool output before it
reaches the model, the journal, spill files, background logs and events."""

from __future__ import annotations

from pathlib import Path

from agentcore.events import ToolCallFinished, ToolCallProgress
from agentcore.secrets import Redactor
from secrets_support import (
    ANTHROPIC_KEY,
    FOO_PASSWORD,
    OPENAI_KEY,
    assert_no_secret,
    info,
    make_core,
    text,
    tool_call,
    tool_results,
)

REPEATS = 2000  # lines of output: well past the bash tool's 30,000-character cap, so it spills


async def test_a_printed_key_is_redacted_everywhere_it_could_land(server, http_client, env, state_dir, work):
    (work / "leak.txt").write_text(f"openai={OPENAI_KEY}\npassword={FOO_PASSWORD}\n")
    server.enqueue(
        tool_call("c1", "bash", {"command": "cat leak.txt"}),
        tool_call("c2", "read_file", {"path": "leak.txt"}),
        tool_call("c3", "bash", {"command": f"for i in $(seq {REPEATS}); do cat leak.txt; done"}),
        tool_call("c4", "bash", {"command": "cat leak.txt", "run_in_background": True}),
        text("done"),
    )
    core = make_core(server, http_client, env, state_dir)
    events = []
    async with core.open_session(info(work)) as session:
        session.events.add_observer(events.append)
        await session.run_turn("look at leak.txt")
        for task in session.background.snapshot():
            await session.background.wait(task.id)

    results = tool_results(server.requests[-1].json())
    assert len(results) == 4
    assert "openai=[REDACTED:OPENAI_API_KEY]" in results[0] and "password=[REDACTED:FOO_PASSWORD]" in results[0]
    assert "[REDACTED:OPENAI_API_KEY]" in results[1]  # read_file, not a process at all
    assert "characters omitted" in results[2]
    for index, request in enumerate(server.requests):
        assert_no_secret(request.body.decode(), f"provider request {index}")

    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    progress = [e for e in events if isinstance(e, ToolCallProgress)]
    assert len(finished) == 4 and progress
    assert_no_secret(repr(events), "events")

    files = [p for p in state_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert "journal.jsonl" in names
    assert any(n.startswith("shell-") or n.startswith("output-") for n in names), names  # the spill
    assert any(n.startswith("bash-") and n.endswith(".log") for n in names), names  # the background log
    for path in files:
        assert_no_secret(path.read_text(errors="replace"), str(path))
    journal = next(p for p in files if p.name == "journal.jsonl").read_text()
    assert "[REDACTED:OPENAI_API_KEY]" in journal


def test_a_key_split_across_stream_chunks_is_still_redacted():
    redactor = Redactor({"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY})
    text = f"a {OPENAI_KEY} b {ANTHROPIC_KEY} c sk-not-a-key"
    for size in (1, 3, 7, len(OPENAI_KEY) - 1, 64):
        stream = redactor.stream()
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        out = "".join(stream.feed(c) for c in chunks) + stream.flush()
        assert out == "a [REDACTED:OPENAI_API_KEY] b [REDACTED:ANTHROPIC_API_KEY] c sk-not-a-key", size


def test_short_values_are_not_redacted_and_an_empty_redactor_is_free():
    redactor = Redactor({"PIN": "1234", "OPENAI_API_KEY": OPENAI_KEY})
    assert redactor.redact("pin 1234") == "pin 1234"
    assert not Redactor({}) and Redactor({}).redact(OPENAI_KEY) == OPENAI_KEY


def test_the_redactor_holds_the_agents_own_keys_even_when_passed_through(env):
    redactor = Redactor.for_environment(env, passthrough=("OPENAI_API_KEY",))
    assert "OPENAI_API_KEY" in redactor.names and "PATH" not in redactor.names
    assert redactor.redact(Path("/x").as_posix() + OPENAI_KEY) == "/x[REDACTED:OPENAI_API_KEY]"


async def test_a_key_in_a_tools_progress_report_is_redacted(server, http_client, env, state_dir, work):
    """Not only bash (redacted as it streams): any tool's progress reaches frontends redacted."""
    from agentcore.events import ToolCallProgress
    from agentcore.tools.base import FunctionTool

    async def leaky(args, ctx):
        await ctx.report(f"connecting with {OPENAI_KEY}")
        return "done"

    tool = FunctionTool("leaky", "reports progress", {"type": "object"}, fn=leaky)
    server.enqueue(tool_call("c1", "leaky", {}), text("ok"))
    core = make_core(server, http_client, env, state_dir, tools=[tool])
    progress: list[str] = []
    async with core.open_session(info(work)) as session:
        session.events.add_observer(lambda e: progress.append(e.text) if isinstance(e, ToolCallProgress) else None)
        await session.run_turn("use the leaky tool")
    assert progress and all(OPENAI_KEY not in p for p in progress)
    assert any("[REDACTED:OPENAI_API_KEY]" in p for p in progress)


async def test_a_key_the_model_writes_into_a_call_is_redacted_from_its_start_event(server, http_client, env, state_dir, work):
    """A model that got hold of a key and writes it into a command: the call's
    title and raw input reach frontends (and the journal's tool records) redacted;
    the command itself still runs as written."""
    from agentcore.events import PermissionRequested, ToolCallStarted

    server.enqueue(tool_call("c1", "bash", {"command": f"echo {OPENAI_KEY} | wc -c"}), text("ok"))
    core = make_core(server, http_client, env, state_dir)
    events: list[object] = []
    async with core.open_session(info(work)) as session:
        session.events.add_observer(events.append)
        await session.run_turn("count it")
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert len(started) == 1
    assert "[REDACTED:OPENAI_API_KEY]" in started[0].title
    assert_no_secret(repr([e for e in events if isinstance(e, ToolCallStarted | PermissionRequested)]), "start events")
    assert tool_results(server.requests[-1].json())[0].startswith(f"{len(OPENAI_KEY) + 1}\n")  # ran unredacted
