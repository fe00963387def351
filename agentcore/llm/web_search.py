"""Hosted web search: which provider and model can run the vendor's search tool.

Invariant: a request carries :class:`WebSearch` only when its provider can
run it for its model (:func:`request_web_search`), and a search that is
*required* is never silently left out: when the provider or model cannot
provide it, session start and a model switch fail with a one-line
:class:`WebSearchUnavailable` instead.

A provider offers search only when it has a ``web_search_problem(model,
spec)`` method that finds nothing wrong (:class:`HostsWebSearch`; the
Anthropic and Responses providers consult the model's catalog
``hosted_tools`` and the domain filters their API takes, the ``openai``
preset's router asks the API the model is routed to); any other provider
cannot search.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from agentcore.errors import ConfigError, SessionError
from agentcore.llm.base import ModelInfo, WebSearch

WEB_SEARCH = "web_search"


class WebSearchUnavailable(SessionError):
    """Web search is required (``[tools] web_search = "required"``) but the
    provider or model cannot search; says which and why in one line."""


@runtime_checkable
class HostsWebSearch(Protocol):
    """A provider with a hosted web search tool for some models."""

    def web_search_problem(self, model: str, spec: WebSearch) -> str | None:
        """Why ``model`` cannot search as ``spec`` asks through this provider (None: it can)."""
        ...


def caps_web_search_problem(info: ModelInfo, spec: WebSearch, *, api: str, blocked_domains: bool = True) -> str | None:
    """The common check of the two providers that search: the model's catalog
    entry lists the tool for this API, and the API takes the domain filter."""
    caps = info.capabilities
    if WEB_SEARCH not in caps.hosted_tools or caps.api != api:
        why = "" if info.known else " (not in the model catalog)"
        return f"{info.id} has no hosted web search{why}"
    if spec.blocked_domains and not blocked_domains:
        return "its web search takes only allowed domains, and blocked domains are configured"
    return None


def web_search_problem(provider: object, model: str, spec: WebSearch) -> str | None:
    """Why ``provider`` cannot give ``model`` hosted web search (None: it can)."""
    if isinstance(provider, HostsWebSearch):
        return provider.web_search_problem(model, spec)
    return f"the {getattr(provider, 'name', 'selected')} provider has no hosted web search"


def check_web_search(provider: object, model: str, spec: WebSearch | None) -> None:
    """Raise :class:`WebSearchUnavailable` when ``spec`` requires a search ``provider``/``model`` cannot run."""
    if spec is None or not spec.required:
        return
    problem = web_search_problem(provider, model, spec)
    if problem is not None:
        name = getattr(provider, "name", "the provider")
        raise WebSearchUnavailable(
            f"web search is required ([tools] web_search = \"required\") but {name} / {model} cannot provide it: "
            f"{problem}. Choose a model with hosted web search (agent models list) or set web_search = \"auto\""
        )


def request_web_search(provider: object, model: str, spec: WebSearch | None) -> WebSearch | None:
    """What a request carries: ``spec`` when the provider can search for ``model``;
    None when search is off, or ``auto`` and not available. A required search that
    became unavailable raises :class:`WebSearchUnavailable`, never runs without it."""
    if spec is None:
        return None
    if web_search_problem(provider, model, spec) is None:
        return spec
    check_web_search(provider, model, spec)
    return None


def web_search_spec(settings: Any) -> WebSearch | None:
    """The ``[tools] web_search*`` settings as a request's :class:`WebSearch` (None: off).
    Allowed and blocked domains together are a :class:`ConfigError`: no vendor takes both."""
    tools = getattr(settings, "tools", None)
    mode = getattr(tools, "web_search", "off")
    if mode == "off" or tools is None:
        return None
    allowed, blocked = tuple(tools.web_search_allowed_domains), tuple(tools.web_search_blocked_domains)
    if allowed and blocked:
        raise ConfigError("allowed and blocked domains cannot both be set (no vendor's search takes both)",
                          source="configuration", key="tools.web_search_blocked_domains",
                          allowed="one of the two lists")  # fmt: skip
    return WebSearch(allowed_domains=allowed, blocked_domains=blocked, required=mode == "required")
