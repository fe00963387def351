"""MCP servers asking the user for input (MCP elicitation), passed to whoever
can ask: a frontend installs an :class:`Elicitor` on the session's
:class:`~agentcore.mcp.manager.McpManager` (ACP forwards to its client's
``elicitation/create``).

Invariant: a server's elicitation always gets an answer. Without an elicitor,
or for a mode the elicitor cannot show, the answer is ``decline`` (the server
reads a clear refusal, the tool call goes on); an elicitor that fails
answers ``cancel``. Nothing a server sends is trusted beyond its shape: the
message and schema go to the person, never to the model.

A URL-mode elicitation ends out of band; the server then says so
(``notifications/elicitation/complete``) and :func:`completed` passes it to
an elicitor that has a ``complete(server, elicitation_id)`` method
(:class:`CompletingElicitor`), so the client can close what it showed.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from agentcore.messages import freeze_json, thaw_json

log = logging.getLogger(__name__)


class ElicitationMode(enum.Enum):
    FORM = "form"  # an in-band form from a JSON schema
    URL = "url"  # send the person to a URL (credentials, OAuth) out of band


class ElicitationAction(enum.Enum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"


@attrs.frozen
class Elicitation:
    """One question a server asks."""

    server: str
    mode: ElicitationMode
    message: str
    requested_schema: Mapping[str, Any] | None = attrs.field(default=None, converter=lambda v: None if v is None else freeze_json(v))
    url: str | None = None
    elicitation_id: str | None = None


@attrs.frozen
class ElicitationAnswer:
    action: ElicitationAction
    content: Mapping[str, Any] | None = attrs.field(default=None, converter=lambda v: None if v is None else freeze_json(v))


DECLINED = ElicitationAnswer(ElicitationAction.DECLINE)
CANCELLED = ElicitationAnswer(ElicitationAction.CANCEL)


class Elicitor(Protocol):
    """Asks a person; answers ``DECLINED`` for what it cannot show."""

    async def elicit(self, request: Elicitation) -> ElicitationAnswer: ...


@runtime_checkable
class CompletingElicitor(Protocol):
    """An elicitor that is told when a URL elicitation it showed has finished."""

    async def complete(self, server: str, elicitation_id: str) -> None: ...


async def completed(elicitor: Elicitor | None, server: str, elicitation_id: str) -> None:
    """Tell ``elicitor`` that ``server`` finished the URL elicitation ``elicitation_id`` (if it listens)."""
    if not isinstance(elicitor, CompletingElicitor):
        return
    try:
        await elicitor.complete(server, elicitation_id)
    except Exception:  # noqa: BLE001 - a frontend failure must not take the server's connection down
        log.warning("passing on the completion of an elicitation of MCP server %s failed", server, exc_info=True)


async def answer(elicitor: Elicitor | None, request: Elicitation) -> ElicitationAnswer:
    """The elicitor's answer, ``DECLINED`` without one, ``CANCELLED`` if it fails."""
    if elicitor is None:
        return DECLINED
    try:
        return await elicitor.elicit(request)
    except Exception:  # noqa: BLE001 - a frontend failure must not leave the server waiting
        log.warning("elicitation for MCP server %s failed", request.server, exc_info=True)
        return CANCELLED


def from_sdk(server: str, params: Any) -> Elicitation:
    """The SDK's ``ElicitRequestFormParams`` / ``ElicitRequestURLParams`` as a value."""
    if getattr(params, "mode", "form") == "url":
        return Elicitation(server, ElicitationMode.URL, params.message, url=params.url,
                           elicitation_id=getattr(params, "elicitation_id", None))  # fmt: skip
    schema = params.requested_schema
    schema = schema.model_dump(by_alias=True, exclude_none=True) if hasattr(schema, "model_dump") else dict(schema)
    return Elicitation(server, ElicitationMode.FORM, params.message, requested_schema=schema)


def to_sdk(result: ElicitationAnswer) -> Any:
    from mcp import types

    content = thaw_json(result.content) if result.content is not None else None
    return types.ElicitResult(action=result.action.value, content=content if result.action is ElicitationAction.ACCEPT else None)
