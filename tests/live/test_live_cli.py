"""``agent voice`` end to end, offline (cascade + echo provider)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from agentcore.live.audio import read_wav
from agentcore.live.voice_app import run_voice
from agentcore.cli.main import build_parser
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


def test_agent_voice_openai_realtime_end_to_end_against_a_loopback_server(tmp_path):
    """`agent voice --backend openai-realtime` with the endpoint overridden: the real
    command path, a WAV file in and out, a websocket server speaking the Realtime events."""
    import queue
    import threading

    import trio

    from fake_realtime import FakeRealtimeServer, Reply

    server = FakeRealtimeServer(transcripts=["hello there"], replies=[Reply("General Kenobi")])
    started: queue.Queue[tuple[str, trio.lowlevel.TrioToken, trio.Event]] = queue.Queue()

    async def serve() -> None:
        stop = trio.Event()
        async with trio.open_nursery() as nursery:
            started.put((await server.start(nursery), trio.lowlevel.current_trio_token(), stop))
            await stop.wait()  # set from the test thread when the command has returned
            nursery.cancel_scope.cancel()

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    url, token, stop = started.get(timeout=10)
    try:
        out = tmp_path / "answer.wav"
        env = {"OPENAI_API_KEY": "sk-test-voice-0123456789", "AGENTCORE_OPENAI_REALTIME_URL": url, "AGENTCORE_PROVIDER": "echo"}
        code, text = _run(
            tmp_path, "--backend", "openai-realtime", "--no-fallback", "--input", str(FIXTURES / "hello_there.wav"),
            "--output", str(out), "--fast", env=env,
        )
    finally:
        trio.from_thread.run_sync(stop.set, trio_token=token)
        thread.join(timeout=10)
    assert code == 0, text
    assert "hello there" in text
    assert "General Kenobi" in text
    conn = server.connections[0]
    assert conn.headers["authorization"] == "Bearer sk-test-voice-0123456789"
    assert conn.of_type("session.update") and conn.of_type("input_audio_buffer.append")
    assert read_wav(out).duration_ms > 0
    assert "sk-test-voice" not in text
