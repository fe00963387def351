"""Shared pieces of the interop tests: spawning the clients, the scripted
OpenAI-wire LLM, and schema validation of recorded transcripts.

The agent runs as a real subprocess (``python -m agentcore.acp``) with an explicit
environment; LLM traffic goes to a loopback HTTP server speaking the OpenAI
chat-completions SSE format, so the whole stack from HTTP to ACP is real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import trio

from fakes.modules import load_module

HERE = Path(__file__).parent
TESTS = HERE.parent
NODE_CLIENT = HERE / "acp_client.mjs"
PY_CLIENT = HERE / "acp_py_client.py"
SDK_MARKER = HERE / "node_modules" / "@agentclientprotocol" / "sdk" / "package.json"
CLIENT_TIMEOUT_S = 60.0  # seconds for one scenario, agent start-up included; they take about one
MODEL = "gpt-4o-mini"


acp_schema = load_module("acp_schema", TESTS / "acp" / "acp_schema.py")
llm_server = load_module("interop_llm_server", TESTS / "fakes" / "llm_server.py")


def node_missing_reason() -> str | None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed; the interop tests need Node.js" if missing else None


def ensure_node_modules() -> None:
    """``npm ci`` from the lockfile when the SDK is not installed yet."""
    if SDK_MARKER.exists():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True, timeout=300)


def agent_env(base: Mapping[str, str], home: Path, llm_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.endswith("_API_KEY") and not k.startswith("AGENTCORE_")}
    env["AGENTCORE_HOME"] = str(home)
    env["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens there: detection must not find a real Ollama
    if llm_url is not None:
        env["OPENAI_API_KEY"] = "sk-interop-test"
        env["OPENAI_BASE_URL"] = f"{llm_url}/v1"
    return env


def agent_command(*, provider: str) -> list[str]:
    args = ["--provider", provider]
    if provider == "openai":
        args += ["--model", MODEL]
    return [sys.executable, "-m", "agentcore.acp", *args]


# ------------------------------------------- the same scenarios through the bridge

BRIDGE_COMMAND = [sys.executable, "-m", "agentcore.cli.main", "acp", "--bridge"]
STOP_TIMEOUT_S = 60.0  # seconds `agent serve stop` may take (the server's own grace is 15 s)


def launch(mode: str, *, provider: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """(command, env) for ``agent acp`` in ``mode``: "stdio" (in-process, flags) or
    "bridge" (relayed to an ``agent serve`` it starts; the bridge takes the
    provider from the environment, and the server picks a free port)."""
    if mode == "stdio":
        return agent_command(provider=provider), env
    assert mode == "bridge", mode
    env = {**env, "AGENTCORE_PROVIDER": provider, "AGENTCORE_SERVE_LISTEN": "127.0.0.1:0"}
    if provider == "openai":
        env["AGENTCORE_MODEL"] = MODEL
    return list(BRIDGE_COMMAND), env


def stop_bridge_server(home: Path) -> tuple[str, str]:
    """``agent serve status`` then ``stop`` for the server a bridge started under
    ``home``: (what status said, the server's log)."""
    env = agent_env(os.environ, home, None)
    agent = [sys.executable, "-m", "agentcore.cli.main", "serve"]
    status = subprocess.run([*agent, "status"], env=env, capture_output=True, text=True, timeout=STOP_TIMEOUT_S, check=False)
    subprocess.run([*agent, "stop"], env=env, capture_output=True, timeout=STOP_TIMEOUT_S, check=False)
    logs = home / "state" / "logs" / "serve.log"
    return status.stdout.strip(), logs.read_text(errors="replace") if logs.exists() else ""


async def run_client(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> list[dict[str, Any]]:
    with trio.fail_after(CLIENT_TIMEOUT_S):
        done = await trio.run_process(list(argv), cwd=cwd, env=dict(env), capture_stdout=True, capture_stderr=True, check=False)
    events = []
    for line in done.stdout.decode().splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    errors = [e for e in events if "error" in e]
    assert not errors and events and events[-1].get("done"), (
        f"client failed (rc={done.returncode}): {errors or events}\nstderr: {done.stderr.decode()[-3000:]}"
    )
    return events


def step(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in events if e.get("step") == name)


def check_transcript(path: Path) -> int:
    """Validate every agent line of a recorded transcript; returns how many were checked."""
    records = []
    for raw in path.read_text().splitlines():
        entry = json.loads(raw)
        line = entry["line"]
        if entry["dir"] == "out":
            assert line.isascii(), "agent output must be ASCII-escaped JSON"
        try:
            message = json.loads(line)
        except ValueError:
            assert entry["dir"] == "in", f"the agent wrote a line that is not JSON: {line[:200]}"
            continue  # the malformed scenario's own garbage
        records.append(("in" if entry["dir"] == "in" else "out", message))
    checked = acp_schema.check_transcript(records)
    assert checked > 0
    return checked


# ------------------------------------------------------- OpenAI SSE replies


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    obj = {
        "id": "chatcmpl-interop",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _usage() -> bytes:
    obj = {
        "id": "chatcmpl-interop",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [],
        "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def text_reply(*pieces: str | Any) -> Any:
    """Text streamed piece by piece; a non-bytes item (an async callable) is awaited in between."""
    parts: list[Any] = [_chunk({"role": "assistant", "content": ""})]
    for piece in pieces:
        parts.append(_chunk({"content": piece}) if isinstance(piece, str) else piece)
    parts += [_chunk({}, "stop"), _usage(), b"data: [DONE]\n\n"]
    return llm_server.sse_reply(*parts)


def tool_reply(call_id: str, name: str, args: dict[str, Any]) -> Any:
    call = {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
    parts = [_chunk({"role": "assistant", "content": None, "tool_calls": [call]}), _chunk({}, "tool_calls"), _usage(), b"data: [DONE]\n\n"]
    return llm_server.sse_reply(*parts)
