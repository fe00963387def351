"""Text-file facts shared by the file tools: binary and image sniffing, line
endings, and paging through a file one chunk at a time."""

from __future__ import annotations

import difflib
import enum
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

import attrs

SNIFF_BYTES = 8192  # like git: a NUL in the first 8 KiB means binary

# Magic numbers of the image formats models accept, with their media types.
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
IMAGE_SUFFIXES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def sniff_image(head: bytes) -> str | None:
    """The image media type from the file's first bytes, or None."""
    for magic, media_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def looks_binary(head: bytes) -> bool:
    return b"\x00" in head[:SNIFF_BYTES]


class LineEnding(enum.Enum):
    LF = "\n"
    CRLF = "\r\n"


def detect_line_ending(text: str) -> LineEnding:
    """CRLF when most line breaks are CRLF; LF otherwise (and for no breaks)."""
    crlf = text.count("\r\n")
    return LineEnding.CRLF if crlf and crlf * 2 >= text.count("\n") else LineEnding.LF


def to_lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def with_line_ending(text: str, ending: LineEnding) -> str:
    lf = to_lf(text)
    return lf if ending is LineEnding.LF else lf.replace("\n", "\r\n")


@attrs.frozen
class Page:
    lines: tuple[str, ...]  # decoded, without line terminators
    first_line: int  # 1-based number of lines[0]
    more: bool  # lines follow the page
    total_lines: int | None  # known when the page reached the end of the file
    cut_by_bytes: bool  # the page stopped at the byte budget, not the line limit
    long_lines: int  # lines shortened to the per-line limit
    lossy: bool  # some bytes were not UTF-8 and were replaced


async def read_page(
    chunks: AsyncIterator[bytes],
    *,
    offset: int,
    limit: int,
    max_bytes: int,
    max_line_chars: int,
) -> Page:
    """Collect lines ``offset .. offset+limit-1`` (1-based) from a byte stream.

    Stops reading as soon as the page is full, so the first page of a huge
    file costs one chunk. A very long line is kept to ``max_line_chars``
    without holding the whole line in memory.
    """
    lines: list[str] = []
    used = 0
    line_no = 0
    long_lines = 0
    lossy = False

    def page(*, more: bool, total: int | None, cut_by_bytes: bool = False) -> Page:
        return Page(tuple(lines), offset, more, total, cut_by_bytes, long_lines, lossy)

    # UTF-8 needs at most 4 bytes a character.
    async with aclosing(_iter_lines(chunks, max_line_chars * 4)) as raw_lines:
        async for raw, overflow in raw_lines:
            line_no += 1
            if line_no < offset:
                continue
            if len(lines) >= limit:
                return page(more=True, total=None)
            if lines and used + len(raw) > max_bytes:
                return page(more=True, total=None, cut_by_bytes=True)
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                # A line cut at the byte limit may end inside a character; that
                # is not the file's fault, so it does not count as lossy.
                text = raw.decode("utf-8", errors="ignore" if overflow else "replace")
                lossy = lossy or not overflow
            if overflow or len(text) > max_line_chars:
                text = text[:max_line_chars]
                long_lines += 1
            lines.append(text)
            used += len(raw) + 1
    return page(more=False, total=line_no)


async def _iter_lines(chunks: AsyncIterator[bytes], max_line_bytes: int) -> AsyncGenerator[tuple[bytes, bool], None]:
    """Yield ``(line, overflowed)`` without terminators. A line longer than
    ``max_line_bytes`` is yielded (cut) as soon as it overflows and the rest of
    it is skipped, so memory stays bounded by the limit."""
    partial = bytearray()
    skipping = False  # inside the remainder of an overflowed line
    async for chunk in chunks:
        start = 0
        while start < len(chunk):
            nl = chunk.find(b"\n", start)
            end = len(chunk) if nl < 0 else nl
            if not skipping:
                partial += chunk[start:end]
                if len(partial) > max_line_bytes:
                    yield bytes(partial[:max_line_bytes]), True
                    partial.clear()
                    skipping = True
                elif nl >= 0:
                    yield bytes(partial), False
                    partial.clear()
            if nl < 0:
                break
            skipping = False
            start = nl + 1
    if partial:
        yield bytes(partial), False


DIFF_CONTEXT_LINES = 3  # the usual unified-diff context


def unified_diff(old: str, new: str, shown: str) -> str:
    """A unified diff of two LF texts, labelled ``a/<path>`` and ``b/<path>``."""

    def lines(text: str) -> list[str]:
        out = text.splitlines(keepends=True)
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n\\ No newline at end of file\n"
        return out

    old_label = f"a/{shown}" if old else "/dev/null"
    return "".join(difflib.unified_diff(lines(old), lines(new), old_label, f"b/{shown}", n=DIFF_CONTEXT_LINES))
