"""One character must not wedge a session: lone surrogates (a peer's "\\ud800"
escape, model tool arguments, an undecodable file name, a command line in
another encoding) become U+FFFD before a message exists, so every later turn,
the journal and the wire keep working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from agentcore.messages import REPLACEMENT_CHARACTER, TextBlock, ToolUseBlock, encodable_text
from agentcore.store import JournalStore
from fakes.llm_server import FakeServer
from store_support import ECHO_TOOL, info, make_core, make_provider, text, tool_call, wire_texts

AGENT = Path(sys.executable).parent / "agent"
LONE = "\ud800"


def test_message_values_are_encodable_whatever_they_were_built_from() -> None:
    assert TextBlock(f"caf{LONE}").text == f"caf{REPLACEMENT_CHARACTER}"
    call = ToolUseBlock("c1", f"echo{LONE}", {f"k{LONE}": ["\udce9", {"n": "\ud83d"}]})
    assert call.name == f"echo{REPLACEMENT_CHARACTER}"
    assert json.dumps(dict(call.input), ensure_ascii=False, default=list).encode("utf-8")
    assert encodable_text("plain") == "plain"


async def test_a_lone_surrogate_in_prompt_and_tool_arguments_never_wedges_the_session(
    store: JournalStore, server: FakeServer, http_client, state_dir: Path, work: Path
) -> None:
    server.enqueue(
        tool_call("call_1", "echo", '{"text": "bad \\ud83d here"}'),  # the model's own bad escape
        text("done"),
        text("second answer"),
    )
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[ECHO_TOOL])
    async with core.open_session(info(work)) as session:
        first = await session.run_turn(f"hello {LONE} there")
        second = await session.run_turn("and again")
        sid = session.id
    assert (first.text, second.text) == ("done", "second answer")
    last_request = server.requests[-1].json()
    assert ("user", f"hello {REPLACEMENT_CHARACTER} there") in wire_texts(last_request)
    snapshot = JournalStore(store.sessions_dir).load(sid)  # the journal loads
    assert snapshot.messages[0].text == f"hello {REPLACEMENT_CHARACTER} there"
    assert snapshot.messages[2].results[0].text == f"echo: bad {REPLACEMENT_CHARACTER} here"


async def test_a_file_name_that_is_not_utf8_reaches_the_model_replaced(
    store: JournalStore, server: FakeServer, http_client, state_dir: Path, work: Path
) -> None:
    from agentcore.tools.builtin import builtin_tools

    (work / os.fsdecode(b"caf\xe9.txt")).write_text("x")  # a Latin-1 name on a UTF-8 system
    glob = next(t for t in builtin_tools(None) if t.name == "glob")
    server.enqueue(tool_call("call_1", "glob", '{"pattern": "*.txt"}'), text("listed"))
    core = make_core(store, make_provider(server, http_client), state_dir, tools=[glob])
    async with core.open_session(info(work)) as session:
        outcome = await session.run_turn("list the text files")
        sid = session.id
    assert outcome.text == "listed"
    result = JournalStore(store.sessions_dir).load(sid).messages[2].results[0].text
    assert f"caf{REPLACEMENT_CHARACTER}.txt" in result


def test_agent_run_with_a_prompt_in_another_encoding_answers(tmp_path: Path) -> None:
    """`agent run -p $'caf\\xe9'`: the argument arrives with a surrogate escape."""
    work = tmp_path / "work"
    work.mkdir()
    env = {"AGENTCORE_HOME": str(tmp_path / "home"), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "AGENTCORE_PROVIDER": "echo", "LANG": "C.UTF-8"}
    done = subprocess.run([str(AGENT), "run", "-p", b"caf\xe9 au lait", "--format", "json"], cwd=work, env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    assert REPLACEMENT_CHARACTER in json.loads(done.stdout)["text"]
