"""The providers wing: the ``LlmProvider`` trait and the vendors behind it.

- :mod:`~agentcore.llm.base` — ``LlmProvider``, requests, chunks, ``ModelInfo``;
- :mod:`~agentcore.llm.errors` — ``ProviderError`` and its causes;
- :mod:`~agentcore.llm.registry` — choosing a provider from configuration and keys;
- :mod:`~agentcore.llm.catalog` — what is known about each model (window, prices);
- :mod:`~agentcore.llm.capabilities` — fitting requests to what each model takes;
- ``openai_chat``, ``openai_responses`` (and ``openai_router``, the ``openai`` preset's
  choice between them), ``anthropic``, ``echo`` — the providers; ``transport``, ``sse`` — the wire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("LlmProvider", "LlmRequest", "ModelInfo", "ReasoningEffort"), "agentcore.llm.base"),
    "ProviderError": "agentcore.llm.errors",
    **dict.fromkeys(("ProviderSelectionError", "NoProviderError", "MissingKeyError", "KeyWithheldError",
                     "select_provider"), "agentcore.llm.registry"),
    **dict.fromkeys(("ModelCatalog", "default_catalog"), "agentcore.llm.catalog"),
    "EchoProvider": "agentcore.llm.echo",
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.llm.base import LlmProvider, LlmRequest, ModelInfo, ReasoningEffort  # noqa: F401
    from agentcore.llm.catalog import ModelCatalog, default_catalog  # noqa: F401
    from agentcore.llm.echo import EchoProvider  # noqa: F401
    from agentcore.llm.errors import ProviderError  # noqa: F401
    from agentcore.llm.registry import (  # noqa: F401
        KeyWithheldError,
        MissingKeyError,
        NoProviderError,
        ProviderSelectionError,
        select_provider,
    )
