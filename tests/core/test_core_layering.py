"""The house rule: the runtime never depends on its frontends."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "agentcore"


def test_agentcore_never_imports_acp_or_cli():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(PACKAGE.parent)}: {n}" for n in names if n.split(".")[0] in ("acp", "cli")]
    assert offenders == []


def test_importing_agentcore_is_cheap():
    import subprocess
    import sys

    code = "import sys, agentcore; print(sorted(m for m in ('trio', 'httpx', 'tiktoken', 'rich', 'mcp') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
