"""The offline cascade on real audio: espeak-ng fixtures -> webrtcvad ->
pocketsphinx -> the session's echo provider -> espeak-ng -> a WAV file."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import trio

from agentcore.live.audio import read_wav
from agentcore.live.cascade import CascadeBackend, next_sentence
from agentcore.live.controller import VoiceConfig, VoiceController
from agentcore.live.stt import PocketsphinxStt, grammar_for
from agentcore.live.transport import WavFileTransport
from live_helpers import build_core, transcript, voice_info

FIXTURES = Path(__file__).parent / "fixtures"
PHRASES = ["hello there", "please tell me a long story about the sea", "stop", "what time is it"]
QUICK = VoiceConfig(finish_idle_s=0.3, soft_turn_s=10.0)
RUN_LIMIT_S = 60  # real seconds; the longest fixture is 6 s of audio

needs_cascade = pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None or shutil.which("espeak-ng") is None,
    reason="the offline cascade needs pocketsphinx (pip) and espeak-ng (apt-get install espeak-ng)",
)


def test_sentences_are_cut_at_their_ends():
    assert next_sentence("Hello there. How") == len("Hello there. ")
    assert next_sentence("no end yet") is None
    long = "word, " * 40
    assert next_sentence(long) is not None


async def _run(tmp_path: Path, fixture: str, *, paced: bool, speed: float = 1.0, grammar: bool = True):
    core = build_core(tmp_path)
    out = tmp_path / "answer.wav"
    async with core.open_session(voice_info(tmp_path)) as session:
        transport = WavFileTransport(FIXTURES / fixture, out, paced=paced, speed=speed, trailing_silence_ms=800)
        stt = (lambda: PocketsphinxStt(grammar=grammar_for(PHRASES))) if grammar else PocketsphinxStt
        controller = VoiceController(session, transport, lambda: CascadeBackend(session, stt=stt()), config=QUICK)
        with trio.fail_after(RUN_LIMIT_S):
            metrics = (await controller.run()).metrics
        return controller, metrics, transcript(session.history), out


@needs_cascade
async def test_cascade_transcribes_answers_and_speaks(tmp_path):
    _controller, metrics, rows, out = await _run(tmp_path, "hello_there.wav", paced=False)
    assert rows == [("user", "hello there"), ("assistant", "hello there")]  # the echo provider answers
    spoken = read_wav(out)
    assert spoken.duration_ms > 400  # espeak-ng said something
    assert len(metrics.turns) == 1 and metrics.turns[0].status == "completed"
    assert metrics.turns[0].time_to_first_audio_ms < 1500


@needs_cascade
async def test_cascade_open_vocabulary_is_close_enough(tmp_path):
    """Without a grammar the bundled language model does its best on synthetic speech."""
    _controller, _metrics, rows, _out = await _run(tmp_path, "hello_there.wav", paced=False, grammar=False)
    assert [r[0] for r in rows] in ([], ["user", "assistant"])
    if rows:
        assert rows[0][1] == rows[1][1]  # whatever was heard is what the echo model says back


@needs_cascade
async def test_cascade_barge_in_keeps_what_was_heard(tmp_path):
    controller, metrics, rows, _out = await _run(tmp_path, "story_then_stop.wav", paced=True, speed=2.0)
    story = "please tell me a long story about the sea"
    assert rows[0] == ("user", story)
    role, heard = rows[1]
    assert role == "assistant" and story.startswith(heard) and 0 < len(heard) < len(story)
    assert rows[2:] == [("user", "stop"), ("assistant", "stop")]
    assert metrics.interruptions == 1 and metrics.turns[0].interrupted
    assert 0 < metrics.turns[0].heard_ratio < 1
