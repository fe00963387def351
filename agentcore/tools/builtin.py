"""The built-in tool set and its settings.

``builtin_tools(settings)`` returns fresh tool objects; tools hold only their
limits, never session state, so one list serves every session of an
:class:`AgentCore`.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from agentcore.tools.base import Tool
from agentcore.tools.edit_file import EditFileTool
from agentcore.tools.plan import UpdatePlanTool
from agentcore.tools.read_file import IMAGE_MAX_BYTES, READ_MAX_BYTES, READ_MAX_LINE_CHARS, READ_MAX_LINES, ReadFileTool
from agentcore.tools.search import GlobTool, GrepTool, SearchEngine
from agentcore.tools.shell import (
    BASH_OUTPUT_CHARS,
    BASH_TIMEOUT_DEFAULT_S,
    BASH_TIMEOUT_MAX_S,
    NON_INTERACTIVE_ENV,
    BashTool,
)
from agentcore.tools.web import FETCH_MAX_BYTES, FETCH_OUTPUT_CHARS, FETCH_TIMEOUT_S, FetchTool
from agentcore.tools.write_file import WriteFileTool


def _positive(instance: object, attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class ToolSettings:
    """Limits and switches of the built-in tools (the ``[tools]`` config table)."""

    fetch_allow_private: bool = False  # let fetch reach loopback/private addresses (trusted setups only)
    fetch_max_bytes: int = attrs.field(default=FETCH_MAX_BYTES, validator=_positive)
    fetch_timeout_s: float = attrs.field(default=FETCH_TIMEOUT_S, validator=_positive)
    fetch_output_chars: int = attrs.field(default=FETCH_OUTPUT_CHARS, validator=_positive)
    bash_timeout_s: float = attrs.field(default=BASH_TIMEOUT_DEFAULT_S, validator=_positive)
    bash_max_timeout_s: float = attrs.field(default=BASH_TIMEOUT_MAX_S, validator=_positive)
    bash_output_chars: int = attrs.field(default=BASH_OUTPUT_CHARS, validator=_positive)
    bash_env: Mapping[str, str] = attrs.field(factory=lambda: dict(NON_INTERACTIVE_ENV))
    read_max_lines: int = attrs.field(default=READ_MAX_LINES, validator=_positive)
    read_max_bytes: int = attrs.field(default=READ_MAX_BYTES, validator=_positive)
    read_max_line_chars: int = attrs.field(default=READ_MAX_LINE_CHARS, validator=_positive)
    image_max_bytes: int = attrs.field(default=IMAGE_MAX_BYTES, validator=_positive)
    search_engine: SearchEngine = attrs.field(default=SearchEngine.AUTO, converter=SearchEngine)
    ripgrep_path: str | None = None  # explicit rg binary; default: looked up on PATH

    def __attrs_post_init__(self) -> None:
        if self.bash_timeout_s > self.bash_max_timeout_s:
            raise ValueError(
                f"bash_timeout_s ({self.bash_timeout_s}) exceeds bash_max_timeout_s ({self.bash_max_timeout_s})"
            )


def builtin_tools(settings: ToolSettings | None = None) -> list[Tool]:
    s = settings or ToolSettings()
    return [
        ReadFileTool(
            max_lines=s.read_max_lines,
            max_bytes=s.read_max_bytes,
            max_line_chars=s.read_max_line_chars,
            image_max_bytes=s.image_max_bytes,
        ),
        WriteFileTool(),
        EditFileTool(),
        GlobTool(engine=s.search_engine, rg_path=s.ripgrep_path),
        GrepTool(engine=s.search_engine, rg_path=s.ripgrep_path),
        BashTool(
            default_timeout_s=s.bash_timeout_s,
            max_timeout_s=s.bash_max_timeout_s,
            output_chars=s.bash_output_chars,
            env=s.bash_env,
        ),
        FetchTool(
            allow_private=s.fetch_allow_private,
            max_bytes=s.fetch_max_bytes,
            timeout_s=s.fetch_timeout_s,
            output_chars=s.fetch_output_chars,
        ),
        UpdatePlanTool(),
    ]
