"""ACP extension methods for checkpoints, rewind and edit-and-retry.

* ``_agentcore/session/checkpoints`` ``{sessionId}`` -> ``{turns: [{turn, prompt, files, messageIndex}]}``
* ``_agentcore/session/rewind`` ``{sessionId, turn, code?, conversation?, force?}`` ->
  ``{turn, sessionId, restored, deleted, kept}`` — ``sessionId`` is the fork holding
  the conversation up to that turn (null when only code was asked for); the
  client loads it with ``session/load``. The original session stays as it was.
* ``_agentcore/session/edit`` ``{sessionId, turn, text}`` -> ``{sessionId, prompt}`` —
  a fork ending just before prompt ``turn``; load it and send ``prompt`` (the
  edited text) as its next ``session/prompt`` to continue from there.

Invariant: each method works on a session open in this connection and only for
its controller; bad input is an ``InvalidParams`` naming the field, never a traceback.
"""

from __future__ import annotations

from typing import Any

from agentcore.acp.jsonrpc import InvalidParams
from agentcore.checkpoints import LiveRewind, RewindScope, result_to_json, turn_to_json
from agentcore.errors import AgentcoreError

CHECKPOINTS_METHOD = "_agentcore/session/checkpoints"
REWIND_METHOD = "_agentcore/session/rewind"
EDIT_METHOD = "_agentcore/session/edit"


def _turn(params: dict[str, Any]) -> int:
    turn = params.get("turn")
    if not isinstance(turn, int) or isinstance(turn, bool) or turn < 1:
        raise InvalidParams("turn must be a positive integer", {"path": "turn", "error": "expected an integer >= 1"})
    return turn


def _flag(params: dict[str, Any], key: str, default: bool) -> bool:
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise InvalidParams(f"{key} must be true or false", {"path": key, "error": "expected a boolean"})
    return value


def _problem(exc: AgentcoreError) -> InvalidParams:
    return InvalidParams(str(exc), {"path": "", "error": str(exc), "type": type(exc).__name__})


def _rewinder(agent: Any, params: dict[str, Any]) -> LiveRewind:
    live = agent._live(params)
    live.check_controller(agent.conn)
    return LiveRewind(live.session.core, live.session)


async def list_checkpoints(agent: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    rewinder = _rewinder(agent, params)
    return {"turns": [turn_to_json(row) for row in rewinder.turns()]}


async def rewind(agent: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    rewinder = _rewinder(agent, params)
    turn = _turn(params)
    code, conversation = _flag(params, "code", True), _flag(params, "conversation", True)
    if not (code or conversation):
        raise InvalidParams("ask for code, conversation or both", {"path": "code", "error": "nothing to rewind"})
    scope = RewindScope.BOTH if code and conversation else RewindScope.CODE if code else RewindScope.CONVERSATION
    try:
        result = await rewinder.rewind(turn, scope, force=_flag(params, "force", False))
    except AgentcoreError as exc:
        raise _problem(exc) from None
    return result_to_json(result)


async def edit(agent: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    rewinder = _rewinder(agent, params)
    turn = _turn(params)
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidParams("text must be the new prompt", {"path": "text", "error": "expected a non-empty string"})
    try:
        fork = rewinder.edit(turn, text)
    except AgentcoreError as exc:
        raise _problem(exc) from None
    return {"sessionId": fork.session_id, "prompt": fork.prompt.text, "replaced": turn_to_json(fork.replaced)}
