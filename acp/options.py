"""Session modes and config options: the permission mode, the model, the
reasoning effort, shown by editors as pickers and changed by the client."""

from __future__ import annotations

from typing import Any

import attrs

from agentcore.acp.jsonrpc import InvalidParams
from agentcore.errors import InputError, SessionError
from agentcore.llm import ReasoningEffort
from agentcore.llm import ProviderSelectionError, default_catalog
from agentcore.permissions import PermissionMode

MODE_NAMES = {
    PermissionMode.READ_ONLY: "Read only",
    PermissionMode.ASK: "Ask",
    PermissionMode.ACCEPT_EDITS: "Accept edits",
    PermissionMode.YOLO: "Yolo",
    PermissionMode.PLAN: "Plan",
}
MODEL_OPTION = "model"
MODE_OPTION = "mode"
EFFORT_OPTION = "reasoning_effort"
EFFORT_DEFAULT = "default"  # no explicit effort: the provider's own default


def mode_state(session: Any) -> dict[str, Any]:
    return {
        "currentModeId": session.mode.value,
        "availableModes": [
            {"id": mode.value, "name": MODE_NAMES[mode], "description": mode.description} for mode in PermissionMode
        ],
    }


def parse_mode(mode_id: Any, *, path: str) -> PermissionMode:
    try:
        return PermissionMode(mode_id)
    except ValueError:
        known = [m.value for m in PermissionMode]
        raise InvalidParams(f"unknown mode {mode_id!r}", {"path": path, "error": f"one of {known}"}) from None


def _models_for(session: Any) -> list[str]:
    provider = session.provider_name
    names = [m.id for m in default_catalog().models if default_catalog().provider_of(m.id) == provider]
    if session.model not in names:
        names.insert(0, session.model)
    return names


def _effort(session: Any) -> str:
    effort = session.turn_config.reasoning_effort
    return effort.value if effort is not None else EFFORT_DEFAULT


def config_options(session: Any) -> list[dict[str, Any]]:
    def select(option_id: str, name: str, category: str, current: str, values: list[tuple[str, str]]) -> dict[str, Any]:
        return {
            "id": option_id,
            "name": name,
            "category": category,
            "type": "select",
            "currentValue": current,
            "options": [{"value": v, "name": n} for v, n in values],
        }

    return [
        select(MODEL_OPTION, "Model", "model", session.model, [(m, m) for m in _models_for(session)]),
        select(MODE_OPTION, "Permission mode", "mode", session.mode.value, [(m.value, MODE_NAMES[m]) for m in PermissionMode]),
        select(
            EFFORT_OPTION,
            "Reasoning effort",
            "thought_level",
            _effort(session),
            [(EFFORT_DEFAULT, "Default")] + [(e.value, e.value.capitalize()) for e in ReasoningEffort],
        ),
    ]


async def set_config_option(session: Any, config_id: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidParams("value must be a string id", {"path": "value", "error": "expected a string"})
    match config_id:
        case "model":
            if value not in _models_for(session):
                raise InvalidParams(f"unknown model {value!r}", {"path": "value", "error": "not offered"})
            try:
                await session.set_model(model=value)
            except (SessionError, ProviderSelectionError, InputError) as exc:  # the model asked for cannot be used
                detail = {"path": "value", "error": str(exc), "type": type(exc).__name__}
                raise InvalidParams(str(exc), detail) from None
        case "mode":
            await session.set_mode(parse_mode(value, path="value"))
        case "reasoning_effort":
            if value == EFFORT_DEFAULT:
                effort = None
            else:
                try:
                    effort = ReasoningEffort(value)
                except ValueError:
                    raise InvalidParams(f"unknown effort {value!r}", {"path": "value", "error": "not offered"}) from None
            session.turn_config = attrs.evolve(session.turn_config, reasoning_effort=effort)
        case _:
            known = [MODEL_OPTION, MODE_OPTION, EFFORT_OPTION]
            raise InvalidParams(f"unknown config option {config_id!r}", {"path": "configId", "error": f"one of {known}"})
