"""The turn wing: one turn of the agent loop.

- :mod:`~agentcore.turn.runner` — ``TurnRunner.run``: the loop (manage
  context, call the model, run the tools, until the model ends its turn);
- :mod:`~agentcore.turn.stream` — ``StreamAssembler``: one assistant message
  from the provider's chunks;
- :mod:`~agentcore.turn.request` — the outgoing request (orphan repair);
- :mod:`~agentcore.turn.tool_calls` — one message's tool calls: describe,
  gate, execute, cap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentcore._lazy import lazy_exports

_RUNNER = "agentcore.turn.runner"
_EXPORTS = {
    **dict.fromkeys(("TurnRunner", "TurnConfig", "TurnOutcome", "TurnInProgress", "TurnAbortedError", "TurnHooks",
                     "ToolExecutor"), _RUNNER),
    "StreamAssembler": "agentcore.turn.stream",
    "SessionToolExecutor": "agentcore.turn.tool_calls",
    "repair_orphans": "agentcore.turn.request",
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.turn.request import repair_orphans as repair_orphans
    from agentcore.turn.runner import *  # noqa: F403
    from agentcore.turn.stream import StreamAssembler as StreamAssembler
    from agentcore.turn.tool_calls import SessionToolExecutor as SessionToolExecutor
