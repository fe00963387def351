"""The speech style profile: how the assistant sounds, whatever speaks.

Invariant: one :class:`SpeechStyle` value describes voice, pace, warmth and
formality, and each backend maps it to its own settings and nothing else:
OpenAI Realtime gets ``audio.output.voice`` / ``speed`` and the style
sentence in its instructions; Gemini Live gets its prebuilt voice and the
sentence (it has no speed setting, so pace is asked for in words); the
offline cascade gets espeak-ng's voice, ``-s`` words per minute and ``-p``
pitch, and the sentence in the text model's prompt. The controller adds the
sentence to the instructions every backend is seeded with.
"""

from __future__ import annotations

import enum

import attrs

from agentcore.errors import VoiceError

PACE_MIN, PACE_MAX = 0.5, 1.5  # multiples of the normal speaking rate every backend can honour
OPENAI_SPEED_MIN, OPENAI_SPEED_MAX = 0.25, 1.5  # the Realtime API's audio.output.speed range
ESPEAK_WPM = 170  # words per minute at pace 1.0: espeak's 175, a touch slower for clarity
ESPEAK_PITCH = 50  # espeak-ng's default pitch (0..99)
PITCH_STEP = 10  # cool speaks a little higher and flatter, warm a little lower
ESPEAK_VOICE = "en-us"


class Warmth(enum.Enum):
    COOL = "cool"
    NEUTRAL = "neutral"
    WARM = "warm"


class Formality(enum.Enum):
    CASUAL = "casual"
    NEUTRAL = "neutral"
    FORMAL = "formal"


class StyleError(VoiceError, ValueError):
    """A style value out of range."""


def _pace(_instance: object, _attribute: object, value: float) -> None:
    if not PACE_MIN <= value <= PACE_MAX:
        raise StyleError(f"speech pace {value:g} is out of range ({PACE_MIN:g} to {PACE_MAX:g}, 1 is normal)")


_WARMTH_WORDS = {Warmth.COOL: "calm and matter-of-fact", Warmth.WARM: "warm and friendly"}
_FORMALITY_WORDS = {Formality.CASUAL: "casual, everyday language", Formality.FORMAL: "formal, polite language"}


@attrs.frozen
class SpeechStyle:
    """How the assistant speaks. ``voice`` names a voice of the realtime backend
    in use (e.g. ``marin``, ``Puck``); ``espeak_voice`` one of espeak-ng's."""

    voice: str | None = None
    espeak_voice: str = ESPEAK_VOICE
    pace: float = attrs.field(default=1.0, validator=_pace)
    warmth: Warmth = Warmth.NEUTRAL
    formality: Formality = Formality.NEUTRAL

    def instructions(self) -> str | None:
        """One sentence for the model's instructions; None for the neutral style."""
        parts = []
        if self.warmth in _WARMTH_WORDS:
            parts.append(f"sound {_WARMTH_WORDS[self.warmth]}")
        if self.formality in _FORMALITY_WORDS:
            parts.append(f"use {_FORMALITY_WORDS[self.formality]}")
        if self.pace < 0.9:
            parts.append("speak slowly and leave short pauses")
        elif self.pace > 1.1:
            parts.append("speak briskly and keep answers short")
        if not parts:
            return None
        return "# Speaking style\n" + "; ".join(parts).capitalize() + "."

    def openai_speed(self) -> float:
        return min(OPENAI_SPEED_MAX, max(OPENAI_SPEED_MIN, self.pace))

    def espeak_args(self) -> list[str]:
        """espeak-ng options for this style: voice, speed (words per minute), pitch."""
        pitch = ESPEAK_PITCH + {Warmth.COOL: PITCH_STEP, Warmth.WARM: -PITCH_STEP}.get(self.warmth, 0)
        return ["-v", self.espeak_voice, "-s", str(round(ESPEAK_WPM * self.pace)), "-p", str(pitch)]


NEUTRAL = SpeechStyle()
