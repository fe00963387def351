"""A provider that asks for one bash call, then ends the turn (turn logic only;
the wire is tested in tests/llm)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agentcore.llm.base import Chunk, LlmRequest, ModelInfo, Pricing
from fakes.chunks import text_reply, tool_reply

WINDOW_TOKENS = 100_000


class OneBashCall:
    name = "scripted"

    def __init__(self, command: str) -> None:
        self.replies: list[list[Chunk]] = [tool_reply(("call_1", "bash", {"command": command})), text_reply("done")]
        self.requests: list[LlmRequest] = []

    async def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        for chunk in self.replies.pop(0):
            yield chunk

    async def list_models(self) -> list[ModelInfo]:
        return [self.model_info("scripted")]

    def model_info(self, model: str) -> ModelInfo:
        return ModelInfo(model, WINDOW_TOKENS, 4096, Pricing(input=0.0, output=0.0))
