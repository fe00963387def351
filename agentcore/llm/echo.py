"""The offline ``echo`` provider: streams the user's last message back.

It is what ``agent chat`` falls back to when no provider is configured, so the
whole runtime (events, history, frontends) can be tried without a key or a
network. Every frontend says plainly that it is in use (:data:`ECHO_BANNER`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from agentcore import tokens
from agentcore.llm.base import (
    Chunk,
    LlmRequest,
    ModelInfo,
    ProviderStop,
    StopChunk,
    TextDelta,
    UsageChunk,
)
from agentcore.messages import Usage, UserMessage, thaw_json

ECHO_MODEL = "echo"
ECHO_WINDOW_TOKENS = 128_000  # generous, so the offline model never triggers compaction by accident
ECHO_MAX_OUTPUT_TOKENS = 8_192
ECHO_BANNER = "offline echo model: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or configure a provider"
_WORD = re.compile(r"\S+\s*|\s+")


CHARS_PER_TOKEN = 4  # a rough English average; echo's usage only has to be plausible


def _estimate_input(request: LlmRequest) -> int:
    """Cheap on purpose: exact counting would make every echo turn O(history)."""
    chars = len(request.system) + sum(len(getattr(m, "text", "")) for m in request.messages)
    chars += sum(len(t.name) + len(t.description) + len(json.dumps(thaw_json(t.parameters))) for t in request.tools)
    return chars // CHARS_PER_TOKEN


class EchoProvider:
    name = "echo"

    async def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        prompt = next((m for m in reversed(request.messages) if isinstance(m, UserMessage)), None)
        text = prompt.text if prompt is not None and prompt.text else "(nothing to echo)"
        for word in _WORD.findall(text):
            yield TextDelta(word)
        yield UsageChunk(Usage(input_tokens=_estimate_input(request), output_tokens=tokens.count_text(text)))
        yield StopChunk(ProviderStop.END_TURN)

    async def list_models(self) -> list[ModelInfo]:
        return [self.model_info(ECHO_MODEL)]

    def model_info(self, model: str) -> ModelInfo:
        return ModelInfo(id=model, context_window=ECHO_WINDOW_TOKENS, max_output_tokens=ECHO_MAX_OUTPUT_TOKENS)
