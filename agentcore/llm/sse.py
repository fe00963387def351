"""Incremental Server-Sent Events parser shared by every HTTP provider.

Follows the WHATWG event-stream rules that matter for LLM APIs: lines end in
CRLF, LF or CR; ``data:`` lines of one event are joined with ``\\n``; lines
starting with ``:`` are comments (keep-alives); one optional space after the
colon is dropped; an empty line dispatches the event. The parser works on
bytes and decodes only whole lines, so a UTF-8 character split across two
network reads is reassembled before decoding, and so is an event split
anywhere. It knows nothing about JSON or ``[DONE]``: that belongs to each
protocol's decoder.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from agentcore.errors import InputError

DEFAULT_EVENT = "message"
_BOM = b"\xef\xbb\xbf"
# A stream sending this many bytes without a line break is broken or hostile;
# failing beats buffering without bound (unit: bytes; real events are < 1 MiB).
MAX_LINE_BYTES = 16 * 1024 * 1024


class SseProtocolError(InputError):
    """The byte stream cannot be an event stream (e.g. an endless line)."""


@attrs.frozen
class SseEvent:
    data: str
    event: str = DEFAULT_EVENT
    id: str | None = None
    retry_ms: int | None = None

    @property
    def is_done(self) -> bool:
        """OpenAI-style end marker ``data: [DONE]``."""
        return self.data == "[DONE]"


class SseParser:
    """Feed bytes as they arrive; get back the events they complete."""

    __slots__ = ("_pending", "_data", "_event", "_id", "_retry", "_started")

    def __init__(self) -> None:
        self._pending = b""  # an incomplete last line (or a lone trailing CR)
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._started = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if not chunk:
            return []
        buf = self._pending + chunk if self._pending else chunk
        if not self._started:
            if len(buf) < len(_BOM) and _BOM.startswith(buf):
                self._pending = buf
                return []
            self._started = True
            if buf.startswith(_BOM):
                buf = buf[len(_BOM) :]
        lines = buf.splitlines(keepends=True)
        if not lines:
            self._pending = b""
            return []
        last = lines[-1]
        # A line is complete when it ends in LF, or in CR that is not the last
        # byte we have (a trailing CR may be the first half of CRLF).
        if last.endswith(b"\n"):
            self._pending = b""
        else:
            self._pending = last
            lines.pop()
            if len(last) > MAX_LINE_BYTES:
                raise SseProtocolError(f"event-stream line longer than {MAX_LINE_BYTES} bytes")
        return self._process(lines)

    def close(self) -> list[SseEvent]:
        """End of stream: a final line without terminator still counts, but an
        event without its blank line is incomplete and dropped (per the spec)."""
        lines = [self._pending] if self._pending else []
        self._pending = b""
        events = self._process(lines)
        self._data.clear()
        self._event = ""
        return events

    def _process(self, lines: Iterable[bytes]) -> list[SseEvent]:
        events: list[SseEvent] = []
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line:
                if self._data:
                    events.append(
                        SseEvent(
                            data="\n".join(self._data),
                            event=self._event or DEFAULT_EVENT,
                            id=self._id,
                            retry_ms=self._retry,
                        )
                    )
                    self._data = []
                self._event = ""
                continue
            if line[0] == 0x3A:  # ":" comment, used as keep-alive
                continue
            name, colon, value = line.partition(b":")
            if colon and value[:1] == b" ":
                value = value[1:]
            text = value.decode("utf-8", errors="replace")
            if name == b"data":
                self._data.append(text)
            elif name == b"event":
                self._event = text
            elif name == b"id":
                if "\x00" not in text:
                    self._id = text
            elif name == b"retry":
                if text.isdigit():
                    self._retry = int(text)
            # other field names are ignored, as the spec requires
        return events
