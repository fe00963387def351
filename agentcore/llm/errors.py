"""Typed provider errors. Catch :class:`ProviderError` for all of them.

Each carries what a caller needs to react: whether a retry may help, the
vendor's request id (for bug reports), the HTTP status and a retry-after hint.
Messages never contain API keys.
"""

from __future__ import annotations

from typing import Any

from agentcore.bounded_json import loads_bounded
from agentcore.errors import AgentcoreError
from agentcore.messages import Usage


class ProviderError(AgentcoreError):
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retry_after_s: float | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.retry_after_s = retry_after_s
        self.provider = provider
        # What the failed call had already used (an Anthropic stream that ends in an
        # ``error`` event reports input and output so far): billed, so worth counting.
        self.usage: Usage | None = None

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.request_id:
            parts.append(f"[request id {self.request_id}]")
        return " ".join(parts)


class AuthError(ProviderError):
    """401/403: the key is missing, wrong or lacks access. The message names the env var."""


class RateLimitError(ProviderError):
    retryable = True


class OverloadedError(ProviderError):
    """Anthropic 529 ``overloaded_error`` and similar."""

    retryable = True


class ContextOverflowError(ProviderError):
    """The prompt does not fit the model's context window."""


class BadRequestError(ProviderError):
    pass


class ServerError(ProviderError):
    retryable = True


class NetworkError(ProviderError):
    """Connection failures and timeouts. Retryable only before the first byte."""

    retryable = True


class StreamError(ProviderError):
    """The stream failed after output had started; never retried (no duplicated text)."""


class MalformedResponseError(ProviderError):
    """The server answered with something that is not the protocol (bad JSON,
    an unexpected content type). Usually a proxy or a misconfigured base URL."""


def event_object(data: str, provider: str) -> dict[str, Any] | None:
    """A stream event's JSON object (nesting bounded); None for JSON that is not an
    object (ignored by every decoder); :class:`MalformedResponseError` for no JSON at all."""
    try:
        obj = loads_bounded(data)
    except ValueError as exc:
        raise MalformedResponseError(f"{provider} sent an event that is not JSON", provider=provider) from exc
    return obj if isinstance(obj, dict) else None


REDACTED = "***"


def redact(text: str, *secrets: str | None) -> str:
    """Remove every occurrence of each secret from ``text``.

    Servers sometimes echo (part of) the key they rejected; every message
    built from a server body goes through here before it reaches an
    exception, a log line or an event.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
