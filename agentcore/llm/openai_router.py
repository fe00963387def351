"""The ``openai`` preset's provider: each request goes to the API its model is built for.

Invariant: a model whose catalog capabilities say ``api = "responses"`` (the
gpt-5 family, the o-series) is served through ``/v1/responses``; every other
model through ``/v1/chat/completions``. Both share one HTTP client, key and
retry policy, so switching models mid-session changes nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from agentcore.llm.base import API_RESPONSES, Chunk, LlmRequest, ModelInfo, WebSearch
from agentcore.llm.openai_chat import OpenAiChatProvider
from agentcore.llm.openai_responses import OpenAiResponsesProvider


class OpenAiApiRouter:
    """An :class:`LlmProvider` over the chat and Responses providers of one endpoint."""

    def __init__(self, chat: OpenAiChatProvider, responses: OpenAiResponsesProvider) -> None:
        self.chat = chat  # owns the HTTP client unless it was borrowed
        self.responses = responses  # borrows the chat provider's client

    @property
    def name(self) -> str:
        return self.chat.name

    def api_for(self, model: str) -> str:
        return self.chat.model_info(model).capabilities.api

    def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        target = self.responses if self.api_for(request.model) == API_RESPONSES else self.chat
        return target.complete(request)

    def web_search_problem(self, model: str, spec: WebSearch) -> str | None:
        """Only the Responses API searches; a chat-completions model cannot."""
        if self.api_for(model) == API_RESPONSES:
            return self.responses.web_search_problem(model, spec)
        return self.chat.web_search_problem(model, spec)

    async def list_models(self) -> list[ModelInfo]:
        return await self.chat.list_models()

    def model_info(self, model: str) -> ModelInfo:
        return self.chat.model_info(model)

    async def aclose(self) -> None:
        await self.chat.aclose()

    def __repr__(self) -> str:
        return f"OpenAiApiRouter(name={self.name!r}, base_url={self.chat.base_url!r})"
