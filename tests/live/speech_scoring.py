"""Speaking test sentences with espeak-ng and scoring what a recogniser heard
(word error rate): shared by the recognition tests and ``bench/live_whisper.py``."""

from __future__ import annotations

import re
import subprocess

from agentcore.live.audio import parse_wav_bytes, resample

RATE = 16_000  # what the recognisers take


def speak(text: str, wpm: int = 150) -> bytes:
    """``text`` as espeak-ng (en-us) says it: 16 kHz PCM16."""
    out = subprocess.run(["espeak-ng", "--stdout", "--stdin", "-v", "en-us", "-s", str(wpm)],
                         input=text.encode(), capture_output=True, check=True)  # fmt: skip
    pcm = parse_wav_bytes(out.stdout)
    return resample(pcm.data, pcm.rate, RATE)


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions, insertions, deletions)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Over the whole run, so a split or merged utterance is not counted twice."""
    ref = [w for r in references for w in words(r)]
    hyp = [w for h in hypotheses for w in words(h)]
    return edit_distance(ref, hyp) / len(ref)
