"""``agent models list``: the model catalog with each model's capabilities.

Invariant: the table is the shipped catalog as requests are built from it (the
same :class:`~agentcore.llm.base.Capabilities` the providers consult), so what
it shows is what is sent. ``--json`` prints one object per model for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from agentcore.llm import ModelCatalog, ModelInfo, default_catalog

EXIT_OK = 0
COLUMNS = ("model", "provider", "api", "window", "max out", "temp", "top_p", "effort", "thinking", "images",
           "hosted", "cache", "$ in/out /M")  # fmt: skip
NO = "-"


def add_subparsers(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="the model catalog: limits, prices and capabilities")
    actions = models.add_subparsers(dest="models_action")
    listing = actions.add_parser("list", help="list known models and what each accepts")
    listing.add_argument("--json", action="store_true", help="one JSON object per model")
    models.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        return run(args, stdout=sys.stdout)
    except BrokenPipeError:  # `agent models list | head`: the reader has all it wanted
        sys.stdout = None  # type: ignore[assignment]  # nothing left to flush at exit
        return EXIT_OK


def run(args: argparse.Namespace, *, stdout: TextIO, catalog: ModelCatalog | None = None) -> int:
    catalog = catalog or default_catalog()
    if getattr(args, "json", False):
        for info in catalog.models:
            print(json.dumps(model_record(info, catalog.provider_of(info.id))), file=stdout)
        return EXIT_OK
    rows = [model_row(info, catalog.provider_of(info.id)) for info in catalog.models]
    print(render_table([COLUMNS, *rows]), file=stdout)
    return EXIT_OK


def _flag(value: bool) -> str:
    return "yes" if value else NO


def model_row(info: ModelInfo, provider: str | None) -> tuple[str, ...]:
    caps = info.capabilities
    return (
        info.id,
        provider or "open",
        caps.api,
        f"{info.context_window:,}",
        f"{info.max_output_tokens:,}",
        _flag(caps.temperature),
        _flag(caps.top_p),
        ",".join(caps.reasoning_efforts) or NO,
        _flag(caps.thinking_budget),
        _flag(caps.image_input),
        ",".join(caps.hosted_tools) or NO,
        _flag(caps.prompt_caching),
        f"{info.pricing.input:g}/{info.pricing.output:g}",
    )


def model_record(info: ModelInfo, provider: str | None) -> dict[str, object]:
    caps = info.capabilities
    return {
        "id": info.id,
        "provider": provider,
        "context_window": info.context_window,
        "max_output_tokens": info.max_output_tokens,
        "api": caps.api,
        "temperature": caps.temperature,
        "top_p": caps.top_p,
        "reasoning_efforts": list(caps.reasoning_efforts),
        "thinking_budget": caps.thinking_budget,
        "image_input": caps.image_input,
        "hosted_tools": list(caps.hosted_tools),
        "prompt_caching": caps.prompt_caching,
        "pricing": {
            "input": info.pricing.input,
            "output": info.pricing.output,
            "cache_read": info.pricing.cache_read,
            "cache_write": info.pricing.cache_write,
        },
    }


def render_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
