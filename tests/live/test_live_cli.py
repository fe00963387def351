"""``agent voice`` end to end, offline (cascade + echo provider)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from agentcore.live.audio import read_wav
from agentcore.live.voice_app import run_voice
from cli.main import build_parser
from test_live_cascade import FIXTURES, needs_cascade


def _run(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    args = build_parser().parse_args(["voice", *argv])
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False)
    env = {"AGENTCORE_HOME": str(tmp_path / "home"), **(env or {})}
    code = run_voice(args, env=env, cwd=work, console=console)
    return code, buffer.getvalue()


@needs_cascade
def test_agent_voice_offline_from_file_to_file(tmp_path):
    out = tmp_path / "answer.wav"
    code, text = _run(tmp_path, "--backend", "cascade", "--input", str(FIXTURES / "hello_there.wav"), "--output", str(out), "--fast")
    assert code == 0, text
    assert read_wav(out).duration_ms > 300
    assert "voice session (cascade)" in text and "time to first audio" in text
    assert "user:" in text and "assistant:" in text
    assert "offline echo model" in text  # the session says plainly which model answers
    snapshots = list((tmp_path / "home" / "state" / "voice").glob("*.json"))
    assert len(snapshots) == 1 and '"state": "closed"' in snapshots[0].read_text()


def test_agent_voice_reports_a_missing_file(tmp_path):
    code, text = _run(tmp_path, "--input", str(tmp_path / "nope.wav"))
    assert code == 2 and "nope.wav" in text


def test_agent_voice_needs_a_key_for_realtime(tmp_path):
    code, text = _run(tmp_path, "--backend", "openai-realtime", "--input", str(FIXTURES / "hello_there.wav"), "--fast")
    assert code == 2 and "OPENAI_API_KEY" in text


def test_voice_subcommand_is_registered():
    args = build_parser().parse_args(["voice", "--backend", "gemini-live", "--mic", "--speaker"])
    assert args.backend == "gemini-live" and args.mic and args.speaker
