"""``session/fork`` (ACP unstable): a new session holding a copy of another's
conversation, opened on this connection like ``session/new``.

``{sessionId, cwd, additionalDirectories?, mcpServers?}`` ->
``{sessionId, modes, configOptions}``. A session open on this connection is
forked live (copy-on-write, a running turn left out); any other is forked
from its journal. The source is never changed.

Invariant: the fork goes through the same ``_open`` as ``session/new``
(cwd, roots, MCP servers and logout checked the same way); an agent without
a session store answers with a typed error, never a traceback.
"""

from __future__ import annotations

from typing import Any

from agentcore.acp.jsonrpc import INTERNAL_ERROR, InvalidParams, JsonRpcError

FORK_METHOD = "session/fork"


async def fork(agent: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    source_id = params.get("sessionId")
    if not isinstance(source_id, str) or not source_id:
        raise InvalidParams("sessionId is required (a non-empty string)", {"path": "sessionId", "error": "required string"})
    store = getattr(agent.setup().core, "loader", None)
    if store is None or not hasattr(store, "fork_live"):
        raise JsonRpcError(INTERNAL_ERROR, "This agent keeps no session store: sessions cannot be forked",
                           {"type": "NoSessionStore"})  # fmt: skip
    live = agent.sessions.get(source_id)
    if live is not None:
        new_id = store.fork_live(live.session, reason="fork")
    else:
        new_id = store.fork_session(source_id, reason="fork")  # SessionNotFound -> -32002 (the agent maps it)
    forked = await agent._open(params, session_id=new_id)
    agent._after_open(forked, ctx)
    return {"sessionId": forked.id, **agent._session_result(forked)}
