"""What the agent offers in ``initialize``, and what it learns from the client.

The standard library and the ``agentcore`` facade only (no runtime module):
the stdio entry answers ``initialize`` from here while trio and the core are
still being imported, so an editor sees the agent come up in tens of
milliseconds.
"""

from __future__ import annotations

from typing import Any

import agentcore
from agentcore.errors import InputError

PROTOCOL_VERSION = 1  # ACP protocol version this agent speaks
AGENT_NAME = "agentcore"
AGENT_TITLE = "agentcore"

API_KEY_ENV_VARS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")
ENV_AUTH_METHOD_ID = "env-api-key"


class ParamsProblem(InputError):
    """Bad ``initialize`` params; ``details`` says which field and why."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


def auth_methods() -> list[dict[str, Any]]:
    names = " or ".join(API_KEY_ENV_VARS)
    return [
        {
            "id": ENV_AUTH_METHOD_ID,
            "name": "API key in the environment",
            "description": (
                f"Set {names} in the environment the editor starts the agent with "
                "(or configure a provider in the agent's config.toml, or run a local Ollama), "
                "then restart the agent. Keys are read from the environment only."
            ),
        }
    ]


def agent_capabilities() -> dict[str, Any]:
    return {
        "loadSession": True,
        "promptCapabilities": {"image": True, "audio": False, "embeddedContext": True},
        "mcpCapabilities": {"http": True, "sse": True, "acp": True},  # acp: MCP over ACP (unstable)
        "sessionCapabilities": {
            "list": {},
            "resume": {},
            "close": {},
            "delete": {},
            "additionalDirectories": {},
            "fork": {},  # unstable: session/fork (acp/session_fork.py)
        },
        "auth": {"logout": {}},  # ends this connection's authenticated state (acp/agent.py)
        # Until ACP's multi-client session attach is stable: extension methods (docs/serve.md).
        "_meta": {
            "agentcore": {
                "attach": {
                    "attach": "_agentcore/session/attach",
                    "detach": "_agentcore/session/detach",
                    "detached": "_agentcore/session/detached",
                    "roles": ["controller", "observer"],
                    "historyPolicies": ["full", "pending_only", "none"],
                },
                # A turn started / ended, for clients that set _meta.agentcore.turnUpdates: a
                # session_info_update carrying _meta.agentcore.turn (docs/acp.md).
                "turnUpdates": {"sessionUpdate": "session_info_update", "meta": "turn"},
            }
        },
    }


def initialize_result() -> dict[str, Any]:
    return {
        "protocolVersion": PROTOCOL_VERSION,
        "agentCapabilities": agent_capabilities(),
        "authMethods": auth_methods(),
        "agentInfo": {"name": AGENT_NAME, "title": AGENT_TITLE, "version": agentcore.__version__},
    }


def check_initialize_params(params: Any) -> dict[str, Any]:
    """The client capabilities (as sent); raises :class:`ParamsProblem` for bad params."""
    if not isinstance(params, dict):
        raise ParamsProblem("initialize needs an object", {"path": "", "error": "expected an object"})
    version = params.get("protocolVersion")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ParamsProblem(
            "protocolVersion must be an integer", {"path": "protocolVersion", "error": "required integer"}
        )
    caps = params.get("clientCapabilities", {})
    if caps is None:
        caps = {}
    if not isinstance(caps, dict):
        raise ParamsProblem(
            "clientCapabilities must be an object", {"path": "clientCapabilities", "error": "expected an object"}
        )
    return caps


def _flag(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def client_feature_flags(caps: dict[str, Any]) -> dict[str, bool]:
    """Flatten the client capabilities this agent acts on."""
    return {
        "read_text_file": _flag(caps, "fs", "readTextFile") is True,
        "write_text_file": _flag(caps, "fs", "writeTextFile") is True,
        "terminal": _flag(caps, "terminal") is True,
        # Session capabilities are objects: {} (or any object) means supported.
        "notices": isinstance(_flag(caps, "session", "notices"), dict),
        "compaction": isinstance(_flag(caps, "session", "compaction"), dict),
        # Unstable ACP fields the schema gives no capability for (the prompt's end-of-turn
        # usage): sent only to a client that opts in with _meta.agentcore.unstable = true.
        "unstable": _flag(caps, "_meta", "agentcore", "unstable") is True,
        # Turn started / ended updates (who started it, how it ended): agentcore's own, opt-in.
        "turns": _flag(caps, "_meta", "agentcore", "turnUpdates") is True
        or isinstance(_flag(caps, "_meta", "agentcore", "turnUpdates"), dict),
    }
