"""agentcore: an agent runtime with pluggable traits.

This module is the public facade: frontends (ACP, CLI, voice) and embedding
programs import from here only. Imports are lazy so that ``import agentcore``
costs almost nothing; each name loads its module on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

from agentcore import _moved
from agentcore._lazy import lazy_exports

# The one place the version is written; pyproject.toml reads it from here
# (``[tool.setuptools.dynamic]``), so an install and the source always agree.
__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # root and sessions
    "AgentCore": "agentcore.core",
    "DefaultAgentCore": "agentcore.core",
    "AgentCoreBuilder": "agentcore.core",
    "SessionToolFactory": "agentcore.core",
    "SessionObserver": "agentcore.session.persistence",
    "SessionLoader": "agentcore.session.persistence",
    "SessionSnapshot": "agentcore.session.persistence",
    "SessionSummary": "agentcore.session.persistence",
    "SessionNotFound": "agentcore.session.persistence",
    "MemorySessionStore": "agentcore.session.persistence",
    "SessionPolicy": "agentcore.session.base",
    "ProviderSelection": "agentcore.session.base",
    "Session": "agentcore.session.base",
    "SessionCreateInfo": "agentcore.session.base",
    "WhenBusy": "agentcore.session.base",
    "SessionClosed": "agentcore.session.base",
    # errors (the tree is drawn in agentcore.errors)
    "AgentcoreError": "agentcore.errors",
    "ConfigError": "agentcore.errors",
    "DefaultSession": "agentcore.session.default",
    "Frontend": "agentcore.frontend",
    "FrontendKind": "agentcore.frontend",
    # history
    "History": "agentcore.history",
    "VecHistory": "agentcore.history",
    "ContextStatus": "agentcore.history",
    "ContextBreakdown": "agentcore.history",
    # turns
    "TurnRunner": "agentcore.turn",
    "TurnConfig": "agentcore.turn",
    "TurnOutcome": "agentcore.turn",
    "TurnInProgress": "agentcore.turn",
    "TurnAbortedError": "agentcore.turn",
    # tools
    "Tool": "agentcore.tools.base",
    "ToolContext": "agentcore.tools.base",
    "ToolResult": "agentcore.tools.base",
    "ToolDescription": "agentcore.tools.base",
    "ToolKind": "agentcore.tools.base",
    "Safety": "agentcore.tools.base",
    "FunctionTool": "agentcore.tools.base",
    "ToolRegistry": "agentcore.tools.registry",
    "StaticToolRegistry": "agentcore.tools.registry",
    "CompositeRegistry": "agentcore.tools.registry",
    "ToolFilter": "agentcore.tools.registry",
    "FsBackend": "agentcore.tools.backends",
    "ShellBackend": "agentcore.tools.backends",
    "Workspace": "agentcore.tools.workspace",
    # providers
    "LlmProvider": "agentcore.llm.base",
    "LlmRequest": "agentcore.llm.base",
    "ModelInfo": "agentcore.llm.base",
    "EchoProvider": "agentcore.llm.echo",
    "ProviderError": "agentcore.llm.errors",
    # events and permissions
    "AgentEvent": "agentcore.events",
    "EventEmitter": "agentcore.events",
    "FanoutEmitter": "agentcore.events",
    "PermissionGate": "agentcore.permissions",
    "DefaultPermissionGate": "agentcore.permissions",
    "NonInteractiveGate": "agentcore.permissions",
    "PermissionMode": "agentcore.permissions",
    "PermissionOption": "agentcore.permissions",
    "Rule": "agentcore.permissions",
    "RuleAction": "agentcore.permissions",
    # messages
    "Message": "agentcore.messages",
    "UserMessage": "agentcore.messages",
    "AssistantMessage": "agentcore.messages",
    "ToolResultMessage": "agentcore.messages",
    "TextBlock": "agentcore.messages",
    "ImageBlock": "agentcore.messages",
    "ThinkingBlock": "agentcore.messages",
    "ToolUseBlock": "agentcore.messages",
    "ToolResultBlock": "agentcore.messages",
    "Usage": "agentcore.messages",
    "StopReason": "agentcore.messages",
    # prompt
    "resolve_system_prompt": "agentcore.prompt",
    "load_project_prompt": "agentcore.prompt",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)


# Old module paths (before the wings) import for one more release, with a DeprecationWarning.
_moved.install()


if TYPE_CHECKING:  # pragma: no cover - static names for type checkers and IDEs
    from agentcore.core import *  # noqa: F403
    from agentcore.events import *  # noqa: F403
    from agentcore.frontend import *  # noqa: F403
    from agentcore.history import *  # noqa: F403
    from agentcore.llm.base import *  # noqa: F403
    from agentcore.messages import *  # noqa: F403
    from agentcore.permissions import *  # noqa: F403
    from agentcore.session import *  # noqa: F403
    from agentcore.tools.base import *  # noqa: F403
    from agentcore.tools.registry import *  # noqa: F403
    from agentcore.turn import *  # noqa: F403
