"""``agent sessions list|show|rm`` over a real stored session."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from agentcore.events import ContextCompressed
from agentcore.messages import MessageKind, TextBlock, UserMessage
from agentcore.config.paths import resolve_paths
from agentcore.store import JournalStore
from agentcore.cli.sessions_cmd import SessionsContext, main
from store_support import ECHO_TOOL, info, make_core, make_provider, text, tool_call

WIDE = 200  # columns: wide enough that ids and titles are never elided


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {"AGENTCORE_HOME": str(home)}


def run(env: dict[str, str], cwd: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, SessionsContext(cwd, env, out, err, width=WIDE, color=False))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
async def session_id(env, server, http_client, work) -> str:
    paths = resolve_paths(env)
    store = JournalStore(paths.sessions_dir)
    server.enqueue(tool_call("call_1", "echo", '{"text": "[bold]hi"}'), text("early answer"), text("late answer"))
    core = make_core(store, make_provider(server, http_client), paths.state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        await session.run_turn("Fix the [red]parser[/red] please")
        head = session.history.snapshot()
        summary = UserMessage((TextBlock("Summary of the parser fix so far"),), kind=MessageKind.SUMMARY)
        session.history.splice_prefix(len(head), [summary])
        await session.events.emit(
            ContextCompressed(None, 90, 10, len(head), 0.1, summary=summary.text, replaced_ids=tuple(m.id for m in head), replacement=(summary,))
        )
        await session.run_turn("now the lexer")
    return session.id


async def test_list_shows_title_count_and_cost(env, work, session_id, tmp_path):
    code, out, err = run(env, work, "list")
    assert code == 0 and err == ""
    [row] = [line for line in out.splitlines() if session_id in line]
    assert "Fix the [red]parser[/red] please" in row  # markup in a title is printed, not interpreted
    assert row.split()[-2:][0] == "3"  # summary + prompt + answer
    assert "$" in row
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, out, _ = run(env, elsewhere, "list")
    assert session_id not in out and "No saved sessions" in out
    code, out, _ = run(env, elsewhere, "list", "--all")
    assert session_id in out and str(work) in out


async def test_show_and_show_full(env, work, session_id):
    code, out, _ = run(env, work, "show", session_id[:12])
    assert code == 0
    assert "Summary of the parser fix so far" in out and "now the lexer" in out and "late answer" in out
    assert "early answer" not in out
    assert "(4 messages not in the history: summarised, rolled back or pending; --full shows them)" in out
    code, full, _ = run(env, work, "show", session_id, "--full")
    assert code == 0
    assert "early answer" in full and "echo: [bold]hi" in full and "[summarised]" in full
    assert "→ echo {\"text\": \"[bold]hi\"}" in full


async def test_rm_deletes_and_missing_ids_are_clear_errors(env, work, session_id):
    code, out, _ = run(env, work, "rm", session_id)
    assert code == 0 and f"Removed session {session_id}." in out
    assert not (resolve_paths(env).sessions_dir / session_id).exists()
    code, out, err = run(env, work, "show", session_id)
    assert code == 1 and f"no session {session_id!r}" in err
    code, _, err = run(env, work, "rm", "sess_nothing")
    assert code == 1 and "no session 'sess_nothing'" in err


async def test_list_reports_an_unreadable_session(env, work, session_id):
    journal = resolve_paths(env).sessions_dir / session_id / "journal.jsonl"
    journal.write_bytes(journal.read_bytes().replace(b'"type":"turn_started"', b'"type":"turn_startled"', 1))
    code, out, err = run(env, work, "list")
    assert code == 0 and session_id not in out
    assert f"cannot read {journal}:" in err.replace("\n", "") and "turn_startled" in err.replace("\n", "")


def test_agent_command_registers_sessions():
    from agentcore.cli.main import build_parser

    args = build_parser().parse_args(["sessions", "show", "sess_x", "--full"])
    assert (args.id, args.full, callable(args.func)) == ("sess_x", True, True)



async def test_show_pages_a_long_session(env, work, state_dir):
    """A 10,000-message session took seconds to print whole; `show` prints the last
    messages and says how to see more."""
    from agentcore.llm.echo import EchoProvider

    store = JournalStore(resolve_paths(env).sessions_dir)
    async with make_core(store, EchoProvider(), state_dir).open_session(info(work)) as session:
        for i in range(60):  # 120 messages: a prompt and an answer each
            await session.run_turn(f"question {i}")
    code, out, _ = run(env, work, "show", session.id)
    assert code == 0
    assert "(the last 50 of 120 messages; --all or --last N for more)" in out
    assert "question 59" in out and "question 34" not in out
    code, three, _ = run(env, work, "show", session.id, "--last", "3")
    assert "(the last 3 of 120 messages" in three and "question 58" in three and "question 57" not in three
    code, everything, _ = run(env, work, "show", session.id, "--all")
    assert "the last" not in everything and "question 0" in everything and "question 59" in everything
