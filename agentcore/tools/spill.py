"""Cutting oversized text to head + tail, with the whole text spilled to a file.

Models do best with the start (what happened) and the end (how it ended) of a
long output; the middle is kept on disk and its path given to the model, so it
can page through it with ``read_file`` when it needs to.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from agentcore.messages import new_id
from agentcore.private_files import write_private_text

HEAD_SHARE = 0.4  # of the budget kept from the start; the rest comes from the end


@attrs.frozen
class Cut:
    text: str
    truncated: bool
    spill_path: Path | None = None
    original_chars: int = 0


def cut_head_tail(
    text: str,
    limit_chars: int,
    *,
    spill_dir: Path | None,
    label: str = "output",
    saved_at: Path | None = None,
) -> Cut:
    """Return ``text`` unchanged if it fits, else head + marker + tail.

    When ``spill_dir`` is given the full text is written there (0600, in a 0700
    directory) and the marker
    names the file; a failure to write is reported in the marker, not raised.
    ``saved_at`` names a file that already holds the full text (e.g. a shell
    backend spilled it while streaming); nothing is written then.
    """
    if len(text) <= limit_chars:
        return Cut(text, truncated=False, original_chars=len(text), spill_path=saved_at)
    path: Path | None = None
    where = "the full text was not saved"
    if saved_at is not None:
        path = saved_at
        where = f"full {label} saved to {path} (read it with read_file and offset/limit)"
    elif spill_dir is not None:
        try:
            path = spill_dir / f"{label}-{new_id('spill')}.txt"
            write_private_text(path, text)  # tool output may quote secrets: owner-only
            where = f"full {label} saved to {path} (read it with read_file and offset/limit)"
        except OSError as exc:
            path = None
            where = f"could not save the full {label}: {exc.strerror}"
    head_len = int(limit_chars * HEAD_SHARE)
    tail_len = limit_chars - head_len
    omitted = len(text) - head_len - tail_len
    marker = f"\n\n[... {omitted:,} characters omitted of {len(text):,}; {where} ...]\n\n"
    return Cut(text[:head_len] + marker + text[-tail_len:], truncated=True, spill_path=path, original_chars=len(text))
