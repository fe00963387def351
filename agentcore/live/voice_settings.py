"""The ``[voice]`` settings as the live layer's values: the speech style and the
recogniser's model path, read the same way by ``agent voice`` and by
``agent serve``'s ``/voice`` calls.

Invariant: values come only from the effective configuration (already checked
by the config schema); missing settings mean the defaults (a neutral style,
the bundled recogniser), never an error here. A model path is checked where
the cascade is built (:func:`agentcore.live.cascade.check_cascade`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from agentcore.live.style import NEUTRAL, Formality, SpeechStyle, Warmth


@attrs.frozen
class VoiceOptions:
    style: SpeechStyle = NEUTRAL
    stt_model: Path | None = None  # a CTranslate2 Whisper model directory; None: the default recogniser


def style_from_settings(voice: Any) -> SpeechStyle:
    """``[voice]`` as a :class:`SpeechStyle`."""
    return SpeechStyle(
        voice=voice.voice, espeak_voice=voice.espeak_voice, pace=voice.pace, warmth=Warmth(voice.warmth), formality=Formality(voice.formality)
    )


def stt_model_path(voice: Any, cwd: Path) -> Path | None:
    """``[voice] stt_model``: a path, relative to ``cwd`` when not absolute."""
    if not voice.stt_model:
        return None
    path = Path(voice.stt_model).expanduser()
    return path if path.is_absolute() else cwd / path


def voice_options(settings: Any, cwd: Path) -> VoiceOptions:
    """The options of ``settings`` (an ``agentcore.config.Settings``, or None for the defaults)."""
    voice = getattr(settings, "voice", None)
    if voice is None:
        return VoiceOptions()
    return VoiceOptions(style_from_settings(voice), stt_model_path(voice, cwd))
