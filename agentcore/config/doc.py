"""The key tables of docs/configuration.md, generated from the schemas.

The doc holds each table between marker comments; tests check the doc matches.
Regenerate after changing a schema with ``python -m agentcore.config.doc docs/configuration.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentcore.config.schema import Key

CONFIG_MARKERS = ("<!-- BEGIN CONFIG KEYS (generated) -->", "<!-- END CONFIG KEYS -->")
PROFILE_MARKERS = ("<!-- BEGIN PROFILE KEYS (generated) -->", "<!-- END PROFILE KEYS -->")


def _default_text(value: Any) -> str:
    match value:
        case None:
            return "not set"
        case bool():
            return "`true`" if value else "`false`"
        case str():
            return f'`"{value}"`'
        case tuple() | list():
            return "`[]`" if not value else "`[" + ", ".join(repr(v) for v in value) + "]`"
        case dict():
            return "`{}`" if not value else f"`{value}`"
        case float():
            return f"`{value:g}`"
        case _:
            return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_key_table(keys: Iterable[Key]) -> str:
    lines = ["| Key | Type | Default | Set by | Meaning |", "| --- | --- | --- | --- | --- |"]
    for key in keys:
        setters = ", ".join(f"`{s}`" for s in (key.env, key.flag) if s) or ""
        if key.merge.value == "append":
            setters = (setters + "; " if setters else "") + "lists add up across files"
        lines.append(
            f"| `{key.name}` | {_cell(key.describe_type())} | {_default_text(key.default)} | "
            f"{_cell(setters)} | {_cell(key.doc)} |"
        )
    return "\n".join(lines)


def generated_sections() -> dict[tuple[str, str], str]:
    from agentcore.config import CONFIG_KEYS
    from agentcore.config.profiles import PROFILE_KEYS

    return {CONFIG_MARKERS: render_key_table(CONFIG_KEYS), PROFILE_MARKERS: render_key_table(PROFILE_KEYS)}


def render_doc(text: str) -> str:
    """``text`` with every generated section replaced by the current tables."""
    for (begin, end), table in generated_sections().items():
        start = text.index(begin) + len(begin)
        stop = text.index(end)
        text = text[:start] + "\n" + table + "\n" + text[stop:]
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path("docs/configuration.md")
    path.write_text(render_doc(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
