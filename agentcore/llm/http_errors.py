"""Turn an HTTP error answer (or an in-stream error object) into a typed error.

Both vendors wrap errors in JSON: OpenAI and its imitators as
``{"error": {"message", "type", "code"}}``, Anthropic as
``{"type": "error", "error": {"type", "message"}, "request_id"}``. Context
overflow is recognised from either body, whatever the status, because
compatible servers disagree on the status they use for it.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from agentcore.llm.errors import (
    AuthError,
    BadRequestError,
    ContextOverflowError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    redact,
)

# Error bodies are read whole before classification; anything longer is a
# misrouted HTML page or worse (unit: bytes).
MAX_ERROR_BODY_BYTES = 64 * 1024
# Server messages are quoted in exceptions; keep them readable (unit: chars).
MAX_QUOTED_MESSAGE_CHARS = 500

# Phrases vendors use for "the prompt does not fit": OpenAI and vLLM
# ("maximum context length"), OpenAI's code, Anthropic ("prompt is too
# long"), llama.cpp ("exceeds the available context size"), OpenRouter,
# Groq and others ("context window", "reduce the length").
_OVERFLOW_RE = re.compile(
    r"context[_ ]length[_ ]exceeded|maximum context length|prompt is too long"
    r"|context (?:window|size)|exceeds? the (?:available )?context|too many (?:input )?tokens"
    r"|input is too long|reduce the length of the messages",
    re.IGNORECASE,
)

_RETRYABLE_STATUS = frozenset({408, 409, 429})
ANTHROPIC_OVERLOADED_STATUS = 529


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or
    an HTTP date), or None when absent or unreadable."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        value = when.timestamp() - (time.time() if now is None else now)
    return max(value, 0.0)


def _error_object(body: Any) -> tuple[str, str, str]:
    """(message, type, code) from either vendor's error shape."""
    if not isinstance(body, Mapping):
        return "", "", ""
    err = body.get("error", body)
    if isinstance(err, str):
        return err, "", ""
    if not isinstance(err, Mapping):
        return "", "", ""
    message = err.get("message") or err.get("detail") or ""
    return str(message), str(err.get("type") or ""), str(err.get("code") or "")


def is_context_overflow(message: str, type_: str = "", code: str = "") -> bool:
    return bool(_OVERFLOW_RE.search(" ".join((message, type_, code))))


def error_from_object(
    body: Any,
    *,
    status: int | None,
    provider: str,
    api_key_env: str | None,
    secret: str | None,
    request_id: str | None = None,
    retry_after_s: float | None = None,
) -> ProviderError:
    """Classify an error object (from a body or an SSE ``error`` event)."""
    message, type_, code = _error_object(body)
    if request_id is None and isinstance(body, Mapping) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    quoted = redact(message, secret)[:MAX_QUOTED_MESSAGE_CHARS]
    kw: dict[str, Any] = {
        "status": status,
        "request_id": request_id,
        "retry_after_s": retry_after_s,
        "provider": provider,
    }
    said = f": {quoted}" if quoted else ""

    if status in (401, 403) or type_ in ("authentication_error", "permission_error"):
        hint = f"check {api_key_env}" if api_key_env else "the server needs credentials"
        return AuthError(f"{provider} rejected the credentials ({hint}){said}", **kw)
    if status == ANTHROPIC_OVERLOADED_STATUS or type_ == "overloaded_error":
        return OverloadedError(f"{provider} is overloaded{said}", **kw)
    if status == 429 or type_ == "rate_limit_error" or code == "rate_limit_exceeded":
        return RateLimitError(f"{provider} rate limit reached{said}", **kw)
    if is_context_overflow(message, type_, code):
        return ContextOverflowError(f"the prompt does not fit the model's context window{said}", **kw)
    if status is not None and (status >= 500 or status in _RETRYABLE_STATUS):
        return ServerError(f"{provider} server error{said}", **kw)
    if type_ in ("api_error", "server_error"):
        return ServerError(f"{provider} server error{said}", **kw)
    if status == 404 or type_ == "not_found_error":
        return BadRequestError(f"{provider}: not found (wrong model name or base URL?){said}", **kw)
    return BadRequestError(f"{provider} rejected the request{said}", **kw)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    provider: str,
    api_key_env: str | None,
    secret: str | None,
    request_id: str | None,
) -> ProviderError:
    """Classify a non-2xx HTTP answer."""
    text = body[:MAX_ERROR_BODY_BYTES].decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = {"error": {"message": text.strip()}}
    return error_from_object(
        parsed,
        status=status,
        provider=provider,
        api_key_env=api_key_env,
        secret=secret,
        request_id=request_id,
        retry_after_s=parse_retry_after(headers),
    )
