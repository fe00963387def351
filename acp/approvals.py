"""The approval gate for high-risk requests from a client that does not own
the session (several clients share sessions in ``agent serve``).

Deleting a live session, switching it to a mode that bypasses permissions and
attaching to it as controller are parked until the session's owner (the
client that opened it; once that one has left, the longest-attached
controller) approves with ``_agentcore/session/approve``. A session nobody
controls (its clients all left) is taken over without asking: there is nobody
to take it from, and a client reconnecting after a dropped network must get
its session back. Invariant: once an owner is asked, it fails closed — a
refusal, no answer within the time limit, an owner that disconnects or a
broken answer all deny, with :data:`APPROVAL_DENIED` and a reason.
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from agentcore.acp.jsonrpc import ConnectionClosed, JsonRpcError, PeerTimedOut

log = logging.getLogger("acp.approvals")

APPROVE_METHOD = "_agentcore/session/approve"  # agent -> owner: {sessionId, action, detail} -> {approved}
APPROVAL_DENIED = -32006
APPROVAL_TIMEOUT_S = 60.0  # default; AgentSetup.approval_timeout_s


class ApprovalDenied(JsonRpcError):
    def __init__(self, session_id: str, action: str, reason: str) -> None:
        super().__init__(
            APPROVAL_DENIED,
            f"The session's owner did not approve {action}: {reason}",
            {"sessionId": session_id, "action": action, "reason": reason},
        )


async def require_approval(live: Any, requester: Any, action: str, detail: str, *, timeout_s: float) -> None:
    """Return when ``requester`` (a connection) may do ``action`` to ``live``;
    raise :class:`ApprovalDenied` otherwise. The owner itself never asks."""
    owner = live.owner()
    if owner is None or owner.conn is requester:
        return
    params = {"sessionId": live.id, "action": action, "detail": detail}
    try:
        answer = await owner.conn.request(APPROVE_METHOD, params, timeout_s=timeout_s)
    except PeerTimedOut:
        raise ApprovalDenied(live.id, action, f"no answer within {timeout_s:g} s") from None
    except ConnectionClosed:
        raise ApprovalDenied(live.id, action, "the owner disconnected") from None
    except JsonRpcError as exc:
        log.info("approval request for %s on %s failed: %r", action, live.id, exc)
        raise ApprovalDenied(live.id, action, "the owner's client could not answer") from None
    if not (isinstance(answer, dict) and answer.get("approved") is True):
        raise ApprovalDenied(live.id, action, "refused")
