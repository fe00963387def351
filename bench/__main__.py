"""Run every benchmark and print one table: ``python -m bench [NAME ...]``.

Each ``bench/bench_*.py`` module exposes ``run() -> list[Row]`` where a row is
``(area, metric, measured, budget)`` as display strings. Benchmarks are not
part of the pass/fail suite; they print numbers for people to compare.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [a if a.startswith("bench_") else f"bench_{a}" for a in argv]
    if wanted:
        names = [n for n in names if n in wanted]
    table = Table(title="agentcore benchmarks")
    for col in ("area", "metric", "measured", "budget"):
        table.add_column(col)
    console = Console()
    for name in names:
        start = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        try:
            rows = module.run()
        except Exception as exc:  # a broken benchmark must not hide the others
            rows = [(name.removeprefix("bench_"), "error", repr(exc), "")]
        for row in rows:
            table.add_row(*row)
        console.log(f"{name} took {time.perf_counter() - start:.1f}s")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
