"""The shared SSE parser, fed the way networks deliver bytes."""

from __future__ import annotations

import pytest

from agentcore.llm.sse import SseEvent, SseParser, SseProtocolError

STREAM = (
    b": keep-alive comment\n"
    b"event: content_block_delta\n"
    b'data: {"text": "h\xc3\xa9llo \xf0\x9f\x91\x8b"}\n'
    b"\n"
    b"data: line one\n"
    b"data: line two\n"
    b"id: 7\n"
    b"retry: 1500\n"
    b"\n"
    b"data: [DONE]\n"
    b"\n"
)
EXPECTED = [
    SseEvent(data='{"text": "héllo 👋"}', event="content_block_delta"),
    SseEvent(data="line one\nline two", id="7", retry_ms=1500),
    SseEvent(data="[DONE]", id="7", retry_ms=1500),
]


def parse_in_pieces(data: bytes, size: int) -> list[SseEvent]:
    parser = SseParser()
    events: list[SseEvent] = []
    for i in range(0, len(data), size):
        events += parser.feed(data[i : i + size])
    return events + parser.close()


def test_whole_stream_parses_to_events() -> None:
    assert parse_in_pieces(STREAM, len(STREAM)) == EXPECTED
    assert EXPECTED[2].is_done and not EXPECTED[0].is_done


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13])
def test_any_split_of_the_bytes_gives_the_same_events(size: int) -> None:
    # Splits land inside "\r\n", inside field names and inside multi-byte UTF-8.
    assert parse_in_pieces(STREAM, size) == EXPECTED


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_crlf_and_cr_line_endings(newline: bytes) -> None:
    data = STREAM.replace(b"\n", newline)
    for size in (1, 4, len(data)):
        assert parse_in_pieces(data, size) == EXPECTED


def test_utf8_character_split_across_reads_is_reassembled() -> None:
    parser = SseParser()
    payload = "data: 日本\n\n".encode()
    cut = payload.index("本".encode()) + 1  # inside the 3-byte character
    assert parser.feed(payload[:cut]) == []
    assert parser.feed(payload[cut:]) == [SseEvent(data="日本")]


def test_space_after_colon_is_optional_and_only_one_is_dropped() -> None:
    events = parse_in_pieces(b"data:a\n\ndata:  b\n\ndata\n\n", 100)
    # A bare "data" line is a data field with an empty value.
    assert [e.data for e in events] == ["a", " b", ""]


def test_comments_and_unknown_fields_are_ignored() -> None:
    events = parse_in_pieces(b":ping\n\nfoo: bar\ndata: x\n\n: trailing\n", 100)
    assert events == [SseEvent(data="x")]


def test_event_name_resets_after_dispatch() -> None:
    events = parse_in_pieces(b"event: ping\ndata: {}\n\ndata: {}\n\n", 100)
    assert [e.event for e in events] == ["ping", "message"]


def test_bom_at_stream_start_is_skipped_even_when_split() -> None:
    data = b"\xef\xbb\xbfdata: x\n\n"
    assert parse_in_pieces(data, 1) == [SseEvent(data="x")]


def test_incomplete_event_at_close_is_dropped() -> None:
    parser = SseParser()
    assert parser.feed(b"data: complete\n\ndata: cut") == [SseEvent(data="complete")]
    assert parser.close() == []


def test_endless_line_is_a_protocol_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentcore.llm.sse as sse

    monkeypatch.setattr(sse, "MAX_LINE_BYTES", 10)
    parser = SseParser()
    with pytest.raises(SseProtocolError):
        parser.feed(b"data: " + b"x" * 20)
