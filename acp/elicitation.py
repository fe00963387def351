"""MCP servers' questions for the user, forwarded to the ACP client as
``elicitation/create`` (form and URL modes).

:class:`AcpElicitor` is the :class:`agentcore.mcp.Elicitor` of a session opened
over ACP. It asks only in the modes the client advertised
(``clientCapabilities.elicitation.form`` / ``.url``); for any other the server
is declined, so a client without elicitation never sees the request and the
tool call still finishes.

Who is asked: the client that opened the session, or, through ``route``
(``agent serve``: :func:`owner_route`), the session's owner *now* — the
opener while it is attached, else the longest-attached controller — so a
question still reaches a person after the opener has left.

URL mode: when the server later says the out-of-band step is done
(``notifications/elicitation/complete``), the client that was sent that
elicitation gets ``elicitation/complete`` with its ``elicitationId``.

Invariant: every elicitation gets exactly one answer — the client's
(``accept`` with content, ``decline``, ``cancel``), or ``cancel`` when the
client errs, goes away or does not answer within
``ELICITATION_ANSWER_TIMEOUT_S``. The message names the server that asks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agentcore.acp.jsonrpc import ConnectionClosed, PeerTimedOut, RemoteError
from agentcore.mcp import Elicitation, ElicitationAction, ElicitationAnswer, ElicitationMode
from agentcore.messages import new_id, thaw_json

ELICITATION_METHOD = "elicitation/create"
COMPLETE_METHOD = "elicitation/complete"  # a URL-mode elicitation finished out of band
OPEN_URL_ELICITATIONS_MAX = 64  # URL elicitations remembered for their completion; the oldest is forgotten
ELICITATION_ANSWER_TIMEOUT_S = 30 * 60.0  # a person filling a form; as long as a permission question may wait

_DECLINED = ElicitationAnswer(ElicitationAction.DECLINE)
_CANCELLED = ElicitationAnswer(ElicitationAction.CANCEL)


def _advertised(caps: Mapping[str, Any], mode: str) -> bool:
    elicitation = caps.get("elicitation")
    return isinstance(elicitation, dict) and isinstance(elicitation.get(mode), dict)


def advertised_modes(caps: Mapping[str, Any]) -> frozenset[str]:
    """The elicitation modes (``form``, ``url``) a client's capabilities advertise."""
    return frozenset(m.value for m in ElicitationMode if _advertised(caps, m.value))


# Who to ask now: a connection and the modes it shows, or None (nobody attached).
Route = Callable[[], "tuple[Any, frozenset[str]] | None"]


def owner_route(live: Any) -> Route:
    """The live session's owner at the time of asking (``LiveSession.owner``)."""

    def route() -> tuple[Any, frozenset[str]] | None:
        view = live.owner()
        return None if view is None else (view.conn, view.features.elicitation)

    return route


class AcpElicitor:
    def __init__(self, conn: Any, session_id: str, client_caps: Mapping[str, Any],
                 *, timeout_s: float = ELICITATION_ANSWER_TIMEOUT_S, route: Route | None = None) -> None:  # fmt: skip
        modes = advertised_modes(client_caps)
        self._route: Route = route or (lambda: (conn, modes))
        self._session_id = session_id
        self._timeout_s = timeout_s
        self._sent_url: dict[str, Any] = {}  # elicitation id -> the connection it went to

    async def elicit(self, request: Elicitation) -> ElicitationAnswer:
        target = self._route()
        if target is None or request.mode.value not in target[1]:
            return _DECLINED
        conn = target[0]
        params: dict[str, Any] = {
            "mode": request.mode.value,
            "message": f"MCP server {request.server}: {request.message}",
            "sessionId": self._session_id,
        }
        match request.mode:
            case ElicitationMode.FORM:
                params["requestedSchema"] = thaw_json(request.requested_schema) or {"type": "object", "properties": {}}
            case ElicitationMode.URL:
                params["url"] = request.url
                params["elicitationId"] = request.elicitation_id or new_id("elicit")
                self._sent_url[params["elicitationId"]] = conn
                if len(self._sent_url) > OPEN_URL_ELICITATIONS_MAX:
                    del self._sent_url[next(iter(self._sent_url))]
        try:
            reply = await conn.request(ELICITATION_METHOD, params, timeout_s=self._timeout_s)
        except (RemoteError, ConnectionClosed, PeerTimedOut):
            return _CANCELLED
        return _answer(reply)

    async def complete(self, server: str, elicitation_id: str) -> None:
        """The server finished a URL elicitation: tell the client it was sent to (once)."""
        conn = self._sent_url.pop(elicitation_id, None)
        if conn is None:
            return  # not one this client was shown
        try:
            await conn.notify(COMPLETE_METHOD, {"elicitationId": elicitation_id})
        except (ConnectionClosed, OSError):
            pass  # the client left; nothing waits on it


def _answer(reply: Any) -> ElicitationAnswer:
    action = reply.get("action") if isinstance(reply, dict) else None
    if action == "accept":
        content = reply.get("content")
        return ElicitationAnswer(ElicitationAction.ACCEPT, content if isinstance(content, dict) else None)
    if action == "decline":
        return _DECLINED
    return _CANCELLED  # "cancel", or an action this agent does not know
