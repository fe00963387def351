"""The vendor SDK checks (tests/fakes/vendor_sdk.py) catch what they must: a key the
SDK does not know, a missing required field, a wrong literal, and the Realtime
event shapes the fake used to send before it was corrected."""

from __future__ import annotations

import pytest

from fakes.vendor_sdk import (
    SdkMismatch,
    anthropic_params,
    check_anthropic_event,
    check_openai_chunk,
    check_params,
    check_realtime_server_event,
    openai_chat_params,
)

CHAT = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def test_request_bodies_fail_on_unknown_missing_or_mistyped_keys() -> None:
    check_params(CHAT, openai_chat_params())
    with pytest.raises(SdkMismatch, match="unknown key 'temprature'"):
        check_params({**CHAT, "temprature": 1}, openai_chat_params())
    with pytest.raises(SdkMismatch, match="missing required key 'messages'"):
        check_params({"model": "gpt-4o", "stream": True}, openai_chat_params())
    with pytest.raises(SdkMismatch, match="unknown key 'txt'"):
        check_params({**CHAT, "messages": [{"role": "user", "content": [{"type": "text", "txt": "a"}]}]}, openai_chat_params())
    anthropic = {"model": "claude-sonnet-4-6", "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    check_params(anthropic, anthropic_params())
    with pytest.raises(SdkMismatch, match="temperature"):
        check_params({**anthropic, "temperature": 0.5}, anthropic_params())


def test_events_fail_on_keys_the_sdk_model_would_keep_as_extras() -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}]}  # fmt: skip
    check_openai_chunk(chunk)
    with pytest.raises(SdkMismatch, match="reasoning_content"):
        check_openai_chunk({**chunk, "choices": [{"index": 0, "delta": {"reasoning_content": "x"}, "finish_reason": None}]})
    check_anthropic_event({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
    with pytest.raises(SdkMismatch):  # the real API always sends the signature field
        check_anthropic_event({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}})


@pytest.mark.parametrize(
    "event",
    [
        # the shapes the Realtime fake sent before: the SDK rejects each
        {"type": "conversation.item.input_audio_transcription.completed", "event_id": "e", "item_id": "i", "content_index": 0, "transcript": "hi"},
        {"type": "response.output_item.added", "event_id": "e", "response_id": "r", "output_index": 0,
         "item": {"id": "i", "type": "message", "role": "assistant"}},
        {"type": "response.output_item.added", "event_id": "e", "response_id": "r", "output_index": 0,
         "item": {"id": "i", "type": "function_call", "call_id": "c", "name": "f"}},
        {"type": "session.created", "event_id": "e", "session": {"id": "sess_1", "type": "realtime"}},
    ],
)  # fmt: skip
def test_the_old_realtime_fake_shapes_are_rejected(event) -> None:
    with pytest.raises(SdkMismatch):
        check_realtime_server_event(event)
