"""Offline text to speech with espeak-ng (a system package).

Each sentence is one ``espeak-ng --stdout`` process (about 20 ms for a short
sentence), so the first sentence of an answer is spoken while the rest is
still being generated. Text goes in on stdin, never as an argument, so no
text can be mistaken for an option.
"""

from __future__ import annotations

import re
import shutil
from typing import Protocol

import trio

from agentcore.errors import VoiceError
from agentcore.live.audio import AudioFormatError, Pcm, parse_wav_bytes
from agentcore.live.backend import BackendUnavailable
from agentcore.live.style import NEUTRAL, SpeechStyle

ESPEAK = "espeak-ng"
ESPEAK_RATE = 22_050  # Hz; what espeak-ng produces
_MARKDOWN = re.compile(r"[*_#`>|~]+")


class SynthesisError(VoiceError, RuntimeError):
    pass


class TextToSpeech(Protocol):
    def check(self) -> None:
        """Raise :class:`BackendUnavailable` if synthesis cannot work here."""
        ...

    async def synthesize(self, text: str) -> Pcm: ...


def speakable(text: str) -> str:
    """Drop Markdown punctuation a voice would otherwise read out."""
    return " ".join(_MARKDOWN.sub(" ", text).split())


class EspeakTts:
    """espeak-ng with a :class:`SpeechStyle` (voice, ``-s`` pace, ``-p`` pitch)."""

    def __init__(self, *, style: SpeechStyle = NEUTRAL, program: str = ESPEAK) -> None:
        self.style, self._program = style, program

    def argv(self) -> list[str]:
        """The command line for one sentence (the text goes on stdin)."""
        return [self._program, "--stdout", "--stdin", *self.style.espeak_args()]

    def check(self) -> None:
        if shutil.which(self._program) is None:
            raise BackendUnavailable(f"the offline cascade needs {self._program} (apt-get install espeak-ng)")

    async def synthesize(self, text: str) -> Pcm:
        text = speakable(text)
        if not text:
            return Pcm(b"", ESPEAK_RATE)
        result = await trio.run_process(
            self.argv(),
            stdin=text.encode(),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        if result.returncode != 0:
            raise SynthesisError(f"{self._program} failed ({result.returncode}): {result.stderr.decode(errors='replace')[:200]}")
        try:
            return parse_wav_bytes(result.stdout)
        except AudioFormatError as exc:
            raise SynthesisError(f"{self._program} produced no usable audio: {exc}") from exc

