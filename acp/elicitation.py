"""MCP servers' questions for the user, forwarded to the ACP client as
``elicitation/create`` (form and URL modes).

:class:`AcpElicitor` is the :class:`agentcore.mcp.Elicitor` of a session opened
over ACP. It asks only in the modes the client advertised
(``clientCapabilities.elicitation.form`` / ``.url``); for any other the server
is declined, so a client without elicitation never sees the request and the
tool call still finishes.

Invariant: every elicitation gets exactly one answer — the client's
(``accept`` with content, ``decline``, ``cancel``), or ``cancel`` when the
client errs, goes away or does not answer within
``ELICITATION_ANSWER_TIMEOUT_S``. The message names the server that asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentcore.acp.jsonrpc import ConnectionClosed, PeerTimedOut, RemoteError
from agentcore.mcp import Elicitation, ElicitationAction, ElicitationAnswer, ElicitationMode
from agentcore.messages import new_id, thaw_json

ELICITATION_METHOD = "elicitation/create"
ELICITATION_ANSWER_TIMEOUT_S = 30 * 60.0  # a person filling a form; as long as a permission question may wait

_DECLINED = ElicitationAnswer(ElicitationAction.DECLINE)
_CANCELLED = ElicitationAnswer(ElicitationAction.CANCEL)


def _advertised(caps: Mapping[str, Any], mode: str) -> bool:
    elicitation = caps.get("elicitation")
    return isinstance(elicitation, dict) and isinstance(elicitation.get(mode), dict)


class AcpElicitor:
    def __init__(self, conn: Any, session_id: str, client_caps: Mapping[str, Any],
                 *, timeout_s: float = ELICITATION_ANSWER_TIMEOUT_S) -> None:  # fmt: skip
        self._conn = conn
        self._session_id = session_id
        self._modes = {m for m in ElicitationMode if _advertised(client_caps, m.value)}
        self._timeout_s = timeout_s

    async def elicit(self, request: Elicitation) -> ElicitationAnswer:
        if request.mode not in self._modes:
            return _DECLINED
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
        try:
            reply = await self._conn.request(ELICITATION_METHOD, params, timeout_s=self._timeout_s)
        except (RemoteError, ConnectionClosed, PeerTimedOut):
            return _CANCELLED
        return _answer(reply)


def _answer(reply: Any) -> ElicitationAnswer:
    action = reply.get("action") if isinstance(reply, dict) else None
    if action == "accept":
        content = reply.get("content")
        return ElicitationAnswer(ElicitationAction.ACCEPT, content if isinstance(content, dict) else None)
    if action == "decline":
        return _DECLINED
    return _CANCELLED  # "cancel", or an action this agent does not know
