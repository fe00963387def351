"""The HTTP half of every provider: POST a JSON body, read an SSE stream,
retry what may be retried, and map failures to typed errors.

A protocol plugs in a *decoder* (SSE events in, chunks out). This module owns
the rules both protocols share:

* Retries happen only before the first chunk has been yielded, so a consumer
  never sees duplicated text. Each retry is announced with a
  :class:`RetryNotice` before the backoff sleep.
* Once output has started, any failure surfaces as :class:`StreamError`.
* The first-byte timeout bounds the wait from sending the request to the
  first byte of the answer's body (a hung provider is retried after it, not
  after minutes). The idle timeout is httpx's read timeout: it bounds every
  later network read, which is exactly "no bytes for N seconds". No trio
  cancel scope is held across a ``yield`` (that would break structured
  cancellation).
* Closing the generator (``aclosing``) or cancelling the consumer exits the
  ``client.stream`` block, which closes the HTTP response and its connection.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, aclosing
from typing import Any, Protocol

import attrs
import httpx
import trio

from agentcore.llm.base import Chunk, RetryNotice
from agentcore.llm.errors import (
    MalformedResponseError,
    NetworkError,
    ProviderError,
    StreamError,
    redact,
)
from agentcore.llm.http_errors import MAX_ERROR_BODY_BYTES, error_from_object, error_from_response
from agentcore.llm.sse import SseEvent, SseParser, SseProtocolError

CONNECT_TIMEOUT_S = 10.0  # a healthy API accepts a TCP+TLS connection well within this
FIRST_BYTE_TIMEOUT_S = 30.0  # from sending the request to the first byte of the answer: a hung provider shows here
IDLE_TIMEOUT_S = 60.0  # between two reads once the answer flows; reasoning pauses stream keep-alives well within it
MAX_ATTEMPTS = 4  # the first try plus three retries
BACKOFF_BASE_S = 0.5  # first backoff; doubles per attempt
BACKOFF_MAX_S = 8.0  # cap so the total wait stays under ~15 s
# A server asking us to wait longer than this gets its error surfaced instead
# of a frozen session (unit: seconds).
MAX_RETRY_AFTER_S = 60.0
JITTER_FRACTION = 0.25  # backoff is shortened by up to this fraction at random
# After the terminal event a server ends the body at once; one that keeps the
# connection silent is cut off after this (unit: seconds).
DRAIN_AFTER_DONE_S = 1.0


class ApiKey:
    """A secret that refuses to be printed. ``reveal()`` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey(***)"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # keeps keys out of pickles (and so off disk)
        raise TypeError("ApiKey cannot be pickled")


@attrs.frozen
class Timeouts:
    """Network deadlines in seconds."""

    connect_s: float = CONNECT_TIMEOUT_S
    first_byte_s: float = FIRST_BYTE_TIMEOUT_S
    idle_s: float = IDLE_TIMEOUT_S

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_s, read=self.idle_s, write=self.idle_s, pool=self.connect_s
        )


@attrs.frozen
class RetryPolicy:
    max_attempts: int = MAX_ATTEMPTS
    base_delay_s: float = BACKOFF_BASE_S
    max_delay_s: float = BACKOFF_MAX_S
    max_retry_after_s: float = MAX_RETRY_AFTER_S
    jitter_fraction: float = JITTER_FRACTION

    def delay_for(
        self, attempt: int, retry_after_s: float | None, rng: random.Random
    ) -> float | None:
        """Seconds to wait after ``attempt`` failed, or None to give up."""
        if attempt >= self.max_attempts:
            return None
        if retry_after_s is not None:
            return retry_after_s if retry_after_s <= self.max_retry_after_s else None
        backoff = min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)
        return backoff * (1.0 - self.jitter_fraction * rng.random())


class StreamDecoder(Protocol):
    """One protocol's view of an event stream. A fresh one per attempt."""

    @property
    def done(self) -> bool:
        """True once the protocol's terminal event was seen."""
        ...

    def feed(self, event: SseEvent) -> list[Chunk]: ...

    def finish(self) -> list[Chunk]:
        """The byte stream ended: final chunks, or raise if it was cut short."""
        ...


@attrs.define
class HttpStreamer:
    """Runs one streamed request with the shared retry and error rules."""

    client: httpx.AsyncClient
    provider: str
    api_key_env: str | None
    secret: ApiKey | None = attrs.field(default=None, repr=False)
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    request_id_header: str = "x-request-id"
    rng: random.Random = attrs.field(factory=random.Random, repr=False)

    def _redact(self, text: str) -> str:
        return redact(text, self.secret.reveal() if self.secret else None)

    async def stream(
        self,
        url: str,
        headers: Mapping[str, str],
        body: Mapping[str, Any],
        new_decoder: Callable[[], StreamDecoder],
    ) -> AsyncIterator[Chunk]:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        attempt = 1
        while True:
            produced = False
            try:
                async with aclosing(self._attempt(url, headers, payload, new_decoder())) as chunks:
                    async for chunk in chunks:
                        produced = True
                        yield chunk
                return
            except ProviderError as err:
                if produced:
                    if isinstance(err, StreamError):
                        raise
                    wrapped = StreamError(
                        f"the stream failed after output had started: {err.message}",
                        status=err.status,
                        request_id=err.request_id,
                        provider=self.provider,
                    )
                    wrapped.usage = err.usage
                    raise wrapped from err
                delay = self.retry.delay_for(attempt, err.retry_after_s, self.rng) if err.retryable else None
                if delay is None:
                    raise
                yield RetryNotice(
                    attempt=attempt,
                    max_attempts=self.retry.max_attempts,
                    delay_s=delay,
                    reason=str(err),
                    usage=err.usage,  # the failed attempt was billed too
                )
                await trio.sleep(delay)
                attempt += 1

    async def _attempt(
        self, url: str, headers: Mapping[str, str], payload: bytes, decoder: StreamDecoder
    ) -> AsyncIterator[Chunk]:
        request_id: str | None = None
        try:
            async with AsyncExitStack() as stack:
                with trio.move_on_after(self.timeouts.first_byte_s) as waiting:
                    response = await stack.enter_async_context(
                        self.client.stream(
                            "POST", url, headers=dict(headers), content=payload, timeout=self.timeouts.to_httpx()
                        )
                    )
                    body = response.aiter_bytes()
                    streams = response.status_code < 300 and "json" not in response.headers.get("content-type", "")
                    first = await anext(body, b"") if streams else b""
                if waiting.cancelled_caught:
                    raise NetworkError(
                        f"{self.provider} sent nothing for {self.timeouts.first_byte_s:g} s after the request "
                        "(first-byte timeout)",
                        provider=self.provider,
                    )
                request_id = response.headers.get(self.request_id_header)
                if response.status_code >= 300:
                    raise error_from_response(
                        response.status_code,
                        response.headers,
                        await _read_capped(response),
                        provider=self.provider,
                        api_key_env=self.api_key_env,
                        secret=self.secret.reveal() if self.secret else None,
                        request_id=request_id,
                    )
                content_type = response.headers.get("content-type", "")
                if "json" in content_type:
                    raise self._unexpected_json(await _read_capped(response), request_id)
                parser = SseParser()
                async with aclosing(_prepend(first, body)) as data_stream:
                    async for data in data_stream:
                        for event in parser.feed(data):
                            try:
                                chunks = decoder.feed(event)
                            except ProviderError:
                                await _drain(body)  # an error event ends the body; let httpx finish it
                                raise
                            for chunk in chunks:
                                yield chunk
                        if decoder.done:
                            await _drain(body)
                            return
                    for event in parser.close():
                        for chunk in decoder.feed(event):
                            yield chunk
                for chunk in decoder.finish():
                    yield chunk
        except ProviderError as err:
            if err.request_id is None:
                err.request_id = request_id
            raise
        except SseProtocolError as exc:
            raise MalformedResponseError(
                f"{self.provider} sent a broken event stream: {exc}",
                request_id=request_id,
                provider=self.provider,
            ) from exc
        except httpx.TimeoutException as exc:
            what = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
            raise NetworkError(
                f"timed out {what} from {self.provider} ({type(exc).__name__})",
                request_id=request_id,
                provider=self.provider,
            ) from exc
        except httpx.TransportError as exc:
            raise NetworkError(
                f"network failure talking to {self.provider}: {type(exc).__name__}: "
                f"{self._redact(str(exc))}",
                request_id=request_id,
                provider=self.provider,
            ) from exc

    def _unexpected_json(self, body: bytes, request_id: str | None) -> ProviderError:
        """A 2xx JSON answer to a streaming request: some proxies send errors so."""
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, Mapping) and "error" in parsed:
            return error_from_object(
                parsed,
                status=None,
                provider=self.provider,
                api_key_env=self.api_key_env,
                secret=self.secret.reveal() if self.secret else None,
                request_id=request_id,
            )
        return MalformedResponseError(
            f"{self.provider} answered with JSON instead of an event stream "
            "(does the server support streaming?)",
            request_id=request_id,
            provider=self.provider,
        )


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body again, with the bytes read while waiting for the first one."""
    if first:
        yield first
    async for data in rest:
        yield data


async def _drain(body: AsyncIterator[bytes]) -> None:
    """Read what follows a terminal or error event (normally just the end of
    the body) so httpx's stream generators finish instead of being abandoned.
    No chunk is yielded from here, so a cancel scope is safe."""
    with trio.move_on_after(DRAIN_AFTER_DONE_S):
        async for _ in body:
            pass


async def _read_capped(response: httpx.Response) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for data in response.aiter_bytes():
        parts.append(data)
        size += len(data)
        if size >= MAX_ERROR_BODY_BYTES:
            break
    return b"".join(parts)


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    *,
    provider: str,
    api_key_env: str | None,
    secret: ApiKey | None,
    timeouts: Timeouts,
    request_id_header: str = "x-request-id",
) -> Any:
    """A plain GET for listings (no retries: callers may simply ask again)."""
    try:
        response = await client.get(url, headers=dict(headers), timeout=timeouts.to_httpx())
    except httpx.TransportError as exc:
        raise NetworkError(
            f"network failure talking to {provider}: {type(exc).__name__}", provider=provider
        ) from exc
    request_id = response.headers.get(request_id_header)
    if response.status_code >= 300:
        raise error_from_response(
            response.status_code,
            response.headers,
            response.content,
            provider=provider,
            api_key_env=api_key_env,
            secret=secret.reveal() if secret else None,
            request_id=request_id,
        )
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedResponseError(
            f"{provider} answered with something that is not JSON",
            status=response.status_code,
            request_id=request_id,
            provider=provider,
        ) from exc
