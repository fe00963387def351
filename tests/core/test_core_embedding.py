"""The runnable example in docs/embedding.md must run and stay short."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "embedding.md"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    return blocks[0]


def test_example_is_at_most_30_lines():
    assert len(_example().strip().splitlines()) <= 45  # 30 lines of code, blank lines aside
    code_lines = [line for line in _example().splitlines() if line.strip()]
    assert len(code_lines) <= 30


async def test_example_runs_and_echoes(capsys, tmp_path):
    namespace: dict = {"__name__": "example"}
    exec(compile(_example(), str(DOC), "exec"), namespace)
    text = await namespace["main"]()
    assert text == "Hello from my program"
    out = capsys.readouterr().out
    assert "Hello from my program | end_turn" in out
