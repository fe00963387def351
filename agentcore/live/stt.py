"""Offline speech to text with pocketsphinx (it ships an English model).

Decoding is streamed: audio is fed while the user speaks, so at the end of an
utterance only the final search remains. Calls are blocking and run on a
worker thread (:func:`trio.to_thread.run_sync`); one recogniser serves one
utterance at a time. A JSGF grammar narrows recognition to known phrases
(much faster and exact where the vocabulary is known, e.g. a menu or tests).
"""

from __future__ import annotations

from typing import Any, Protocol

from agentcore.live.backend import BackendUnavailable

STT_RATE = 16_000  # Hz; the rate pocketsphinx's bundled acoustic model was trained on


class SpeechToText(Protocol):
    rate: int

    def load(self) -> None:
        """Load models (slow, blocking; called once on a worker thread)."""
        ...

    def begin(self) -> None: ...

    def feed(self, pcm: bytes) -> None: ...

    def finish(self) -> str: ...


class PocketsphinxStt:
    rate = STT_RATE

    def __init__(self, *, grammar: str | None = None) -> None:
        self._grammar = grammar
        self._decoder: Any = None
        self._open = False

    def load(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise BackendUnavailable("the offline cascade needs pocketsphinx (pip install pocketsphinx)") from exc
        decoder = Decoder(samprate=STT_RATE, loglevel="FATAL")
        if self._grammar is not None:
            decoder.add_jsgf_string("voice", self._grammar)
            decoder.activate_search("voice")
        self._decoder = decoder

    def begin(self) -> None:
        if self._open:
            self._decoder.end_utt()
        self._decoder.start_utt()
        self._open = True

    def feed(self, pcm: bytes) -> None:
        if self._open and pcm:
            self._decoder.process_raw(pcm, False, False)

    def finish(self) -> str:
        if not self._open:
            return ""
        self._decoder.end_utt()
        self._open = False
        hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""


def grammar_for(phrases: list[str]) -> str:
    """A JSGF grammar accepting exactly ``phrases`` (lower-case words)."""
    alternatives = " | ".join(" ".join(p.lower().split()) for p in phrases)
    return f"#JSGF V1.0;\ngrammar voice;\npublic <utterance> = {alternatives};\n"
