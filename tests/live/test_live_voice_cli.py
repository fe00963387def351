"""``agent voice`` as a real process: ``--provider``/``--model`` choose the text
model the cascade answers with (as for chat and run), and known conditions
end with one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import trio
from agentcore.cli.main import build_parser
from fakes.llm_server import open_fake_server, sse_reply
from fakes.vendor_wire import OA_DONE, OA_ROLE, oa_chunk, oa_usage
from test_live_cascade import FIXTURES, needs_cascade

AGENT = Path(sys.executable).parent / "agent"
FAKE_KEY = "sk-test-voice-cli-0123456789"
RUN_LIMIT_S = 120  # real seconds: a process that hangs fails the test


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"AGENTCORE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8", "COLUMNS": "200", **extra}  # fmt: skip


async def _voice(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    with trio.fail_after(RUN_LIMIT_S):
        return await trio.run_process([str(AGENT), "voice", *args], cwd=work, env=env, capture_stdout=True, capture_stderr=True, check=False)


def _one_line(result: subprocess.CompletedProcess) -> str:
    text = (result.stdout + result.stderr).decode()
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


async def test_a_missing_provider_key_is_one_line(tmp_path):
    result = await _voice(tmp_path, "--provider", "anthropic", "--input", str(FIXTURES / "hello_there.wav"), "--fast", env=_env(tmp_path))
    assert result.returncode == 1
    line = _one_line(result)
    assert line.startswith("agent voice:") and "ANTHROPIC_API_KEY" in line


async def test_an_unknown_provider_is_one_line(tmp_path):
    result = await _voice(tmp_path, "--provider", "nope", "--input", str(FIXTURES / "hello_there.wav"), env=_env(tmp_path))
    assert result.returncode == 2 and 'unknown provider "nope"' in _one_line(result)


async def test_a_bad_stt_model_in_the_config_is_one_line(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(f'[voice]\nstt_model = "{tmp_path / "no-model"}"\n')
    result = await _voice(tmp_path, "--input", str(FIXTURES / "hello_there.wav"), env=_env(tmp_path))
    assert result.returncode == 2
    line = _one_line(result)
    assert "stt_model" in line and "no-model" in line


async def test_a_realtime_backend_without_its_key_is_one_line(tmp_path):
    result = await _voice(tmp_path, "--backend", "gemini-live", "--input", str(FIXTURES / "hello_there.wav"), env=_env(tmp_path))
    assert result.returncode == 2 and "GEMINI_API_KEY or GOOGLE_API_KEY" in _one_line(result)


@needs_cascade
async def test_provider_and_model_choose_the_text_model_the_cascade_answers_with(tmp_path):
    out = tmp_path / "answer.wav"
    async with open_fake_server() as server:
        server.enqueue(sse_reply(OA_ROLE, oa_chunk({"content": "General Kenobi."}), oa_chunk({}, finish="stop"), oa_usage(30, 4), OA_DONE))
        env = _env(tmp_path, OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=f"{server.url}/v1")
        result = await _voice(tmp_path, "--provider", "openai", "--model", "gpt-4o-mini", "--input", str(FIXTURES / "hello_there.wav"),
                              "--output", str(out), "--fast", env=env)  # fmt: skip
    text = (result.stdout + result.stderr).decode()
    assert result.returncode == 0, text
    body = server.requests[0].json()
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][-1]["content"].lower().startswith("hello")  # what was heard is the prompt
    assert "General Kenobi." in text and "ended (transport_closed)" in text
    assert FAKE_KEY not in text and out.stat().st_size > 1000


def test_voice_parses_provider_model_and_voice_model():
    args = build_parser().parse_args(["voice", "--provider", "openai", "--model", "gpt-4o-mini", "--backend", "openai-realtime", "--voice-model", "gpt-realtime"])
    assert (args.provider, args.model, args.voice_model) == ("openai", "gpt-4o-mini", "gpt-realtime")
