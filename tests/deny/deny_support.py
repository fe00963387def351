"""Helpers for tests/deny: a scripted provider routed by profile, core builders,
and the real search tools run with a session's own tool context."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agentcore import AgentCoreBuilder, SessionPolicy
from agentcore.llm.base import (
    Chunk,
    LlmRequest,
    ModelInfo,
    Pricing,
)
from agentcore.messages import ToolResultMessage
from agentcore.permissions import PermissionMode, Rule, RuleAction
from agentcore.tools.search import SearchEngine
from fakes.chunks import text_reply, tool_reply  # noqa: F401 - re-exported for the deny tests

RG = shutil.which("rg") or str(Path(sys.executable).with_name("rg"))  # the venv ships ripgrep
HAS_RG = Path(RG).exists()


def rules(*, deny: Sequence[str] = (), allow: Sequence[str] = (), ask: Sequence[str] = ()) -> tuple[Rule, ...]:
    return (
        *(Rule.parse(r, RuleAction.DENY) for r in deny),
        *(Rule.parse(r, RuleAction.ALLOW) for r in allow),
        *(Rule.parse(r, RuleAction.ASK) for r in ask),
    )


Script = Callable[[LlmRequest], list[Chunk]]


class RoutedProvider:
    """Answers each request by the first script whose marker is in its system
    prompt (a profile's prompt); records every request."""

    name = "scripted"

    def __init__(self, routes: Mapping[str, Script]) -> None:
        self.routes = dict(routes)
        self.requests: list[LlmRequest] = []

    async def complete(self, request: LlmRequest) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        for marker, script in self.routes.items():
            if marker in request.system:
                for chunk in script(request):
                    yield chunk
                return
        raise AssertionError(f"no script for system prompt {request.system[:120]!r}")

    async def list_models(self) -> list[ModelInfo]:
        return [self.model_info("scripted")]

    def model_info(self, model: str) -> ModelInfo:
        return ModelInfo(model, 100_000, 4096, Pricing(input=1.0, output=2.0))

    def seen_by_model(self) -> str:
        """Everything the model was sent, as one string."""
        return "\n".join(repr(m) for r in self.requests for m in r.messages)


def first_turn(request: LlmRequest) -> bool:
    return not any(isinstance(m, ToolResultMessage) for m in request.messages)


def tool_results(request: LlmRequest) -> list[str]:
    return [r.text for m in request.messages if isinstance(m, ToolResultMessage) for r in m.results]


def marker(profile: str) -> str:
    return f"PROFILE-MARKER:{profile}"


def profile_policy(profile: str, **fields: Any) -> SessionPolicy:
    return SessionPolicy(profile=profile, prompt=f"You are {profile}. {marker(profile)}", inherit_project_prompt=False, **fields)


def build_core(provider: Any, state: Path, policies: Mapping[str, SessionPolicy], **builder: Any) -> Any:
    def resolve(profile: str | None, cwd: Path) -> SessionPolicy:
        return policies[profile or "main"]

    core = AgentCoreBuilder().with_env({}).with_provider(provider, "scripted").with_state_dir(state)
    for name, value in builder.items():
        core = getattr(core, f"with_{name}")(*value)
    return core.with_policy_resolver(resolve).build()


def engines() -> list[Any]:
    import pytest

    return [
        pytest.param(SearchEngine.PYTHON, id="python"),
        pytest.param(
            SearchEngine.RIPGREP, id="ripgrep", marks=pytest.mark.skipif(not HAS_RG, reason="ripgrep is not installed")
        ),
    ]


ASK = PermissionMode.ASK
