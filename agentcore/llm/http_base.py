"""What the two HTTP providers share: identity, client ownership, model info.

A provider either borrows an ``httpx.AsyncClient`` (the caller closes it) or
creates its own, which ``aclose()`` closes. The API key is held as an
:class:`ApiKey`, so neither ``repr(provider)`` nor a traceback's locals
print it.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable, Mapping

import httpx

from agentcore.llm.base import ModelInfo
from agentcore.llm.catalog import ModelCatalog, default_catalog
from agentcore.llm.transport import ApiKey, HttpStreamer, RetryPolicy, Timeouts

USER_AGENT = "agentcore/0.1"


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """One TLS context for every provider client of the process: loading the CA
    bundle takes ~20 ms, which every new session of a server would otherwise pay
    (a session builds its provider). Made as httpx makes its default one."""
    return httpx.create_ssl_context()


class HttpProviderBase:
    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str | None,
        api_key_env: str | None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        catalog: ModelCatalog | None = None,
        models: Iterable[ModelInfo] = (),
        request_id_header: str = "x-request-id",
    ) -> None:
        self._name = name
        self.base_url = base_url.rstrip("/")
        self._key = ApiKey(api_key) if api_key else None
        self.api_key_env = api_key_env
        self.extra_headers = dict(headers or {})
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(headers={"user-agent": USER_AGENT}, verify=shared_tls_context())
        self.timeouts = timeouts or Timeouts()
        self._catalog = catalog or default_catalog()
        self._overrides = {m.id: m for m in models}
        self._streamer = HttpStreamer(
            client=self._client,
            provider=name,
            api_key_env=api_key_env,
            secret=self._key,
            timeouts=self.timeouts,
            retry=retry or RetryPolicy(),
            request_id_header=request_id_header,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The client requests go through (another provider of the same endpoint may borrow it)."""
        return self._client

    def model_info(self, model: str) -> ModelInfo:
        override = self._overrides.get(model)
        return override if override is not None else self._catalog.lookup(model)

    async def aclose(self) -> None:
        """Close the HTTP client if this provider created it."""
        if self._owns_client:
            await self._client.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, base_url={self.base_url!r})"
