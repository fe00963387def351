"""Voice in the page, end to end: Chromium's fake microphone plays an espeak-ng
recording into the page, whose AudioWorklet streams it as 16 kHz PCM16 over
``/voice``; the server's cascade hears it (the transcript shows), the session's
model (the loopback LLM) answers, the answer's speech plays in the page, and a
second utterance spoken over that answer stops its playback (barge-in)."""

from __future__ import annotations

import importlib.util
import shutil
import wave
from pathlib import Path

import pytest
import web_support as w

from agentcore.live.audio import read_wav, silence

s = w.serve
SPEECH = w.TESTS / "live" / "fixtures" / "hello_there.wav"  # espeak-ng saying "hello there", 16 kHz mono
RATE = 16_000
LEAD_MS = 2_500  # silence while the page asks for the microphone and the call comes up
GAP_MS = 3_500  # after the question: the answer starts speaking within this and goes on for longer
LONG_ANSWER = ("This is a long answer that keeps talking for quite a while. " * 4).strip()

needs_cascade = pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None or shutil.which("espeak-ng") is None,
    reason="voice through the server needs pocketsphinx (pip) and espeak-ng (apt-get install espeak-ng)",
)


def _microphone(path: Path) -> Path:
    """Silence, the question, a pause into the answer, the same words again over it, silence."""
    speech = read_wav(SPEECH).data
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(silence(LEAD_MS, RATE) + speech + silence(GAP_MS, RATE) + speech + silence(6_000, RATE))
    return path


@needs_cascade
async def test_talking_to_the_session_from_the_page(web_dirs: dict[str, Path], browser: w.Browser) -> None:
    wav = _microphone(web_dirs["root"] / "mic.wav")
    async with s.llm_server.open_fake_server() as llm:
        llm.enqueue(s.text_reply(LONG_ANSWER), s.text_reply("Okay."), s.text_reply("Okay."))
        async with w.running_server(web_dirs, llm.url) as server:

            def scenario() -> dict[str, object]:
                chromium = browser.launch([
                    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={wav}%noloop", "--autoplay-policy=no-user-gesture-required",
                ])  # fmt: skip
                page = browser.new_page(w.DESKTOP, chromium)
                w.log_in(page, server.base, server.token)
                w.new_session(page, web_dirs["work"])
                page.click("#mic")
                page.wait_for_function("() => window.agentcore.voice.heardFinal.length > 0")
                page.wait_for_function("() => document.getElementById('voice-said').textContent.trim().length > 0")
                page.wait_for_function("() => window.agentcore.voice.framesPlayed > 0")
                w.screenshot(page, "desktop-voice")
                page.wait_for_function("() => window.agentcore.voice.clears > 0", timeout=30_000)
                seen = page.evaluate("""() => ({
                    heard: window.agentcore.voice.heardFinal,
                    frames: window.agentcore.voice.framesPlayed,
                    cut: window.agentcore.voice.lastClear,
                    playingAfter: window.agentcore.voice.playing,
                    user: [...document.querySelectorAll('.msg.user')].map(m => m.textContent),
                })""")
                page.click("#mic")  # hang up
                page.wait_for_selector("#voice-state:text('off')")
                seen["errors"] = page.errors
                return seen

            seen = await browser.run(scenario)
    assert "hello" in str(seen["heard"][0]).lower()
    assert seen["frames"] > 0
    assert seen["cut"]["playing"] > 0 and seen["playingAfter"] == 0  # barge-in stopped speech that was playing
    assert any("hello" in text.lower() for text in seen["user"])  # the spoken prompt is the session's
    assert seen["errors"] == []
    assert llm.requests[0].json()["messages"][-1]["content"].lower().startswith("hello")
