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
            offenders += [
                f"{path.relative_to(PACKAGE.parent)}: {n}"
                for n in names
                if n.split(".")[0] in ("acp", "cli") or n.startswith(FRONTEND_PREFIXES)
            ]
    assert offenders == []


def test_importing_agentcore_is_cheap():
    import subprocess
    import sys

    code = "import sys, agentcore; print(sorted(m for m in ('trio', 'httpx', 'tiktoken', 'rich', 'mcp') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


ROOT = PACKAGE.parent
# Repository folder -> the package it installs as (pyproject.toml's package-dir).
LAYERED_PACKAGES = {"agentcore": "agentcore", "acp": "agentcore.acp", "cli": "agentcore.cli"}
FRONTEND_PREFIXES = ("agentcore.acp", "agentcore.cli")


def _modules() -> dict[str, Path]:
    """Every module of the three packages by installed dotted name (a package is its ``__init__``)."""
    modules = {}
    for folder, package in LAYERED_PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def _imported_names(module: str, path: Path, tree: ast.AST) -> list[str]:
    """Everything ``module`` imports, anywhere in it (TYPE_CHECKING blocks and functions too)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            names += [base, *(f"{base}.{a.name}" for a in node.names)]
    return names


def _import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (the longest known prefix of each
    imported name; importing one's own parent package is not an edge)."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name in _imported_names(module, path, ast.parse(path.read_text(), str(path))):
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                target = ".".join(parts[:end])
                if target in modules:
                    if target != module and not module.startswith(target + "."):
                        graph[module].add(target)
                    break
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles():
    """No module of agentcore/, acp/ or cli/ imports itself back through others,
    counting imports under TYPE_CHECKING and inside functions."""
    cycles = _cycles(_import_graph())
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


# What frontends (acp/, cli/) may import: the facade, each wing's facade and the
# modules documented as public in docs/architecture.md. Everything else is internal.
PUBLIC_MODULES = frozenset({
    "agentcore", "agentcore.errors", "agentcore.events", "agentcore.messages", "agentcore.permissions",
    "agentcore.app", "agentcore.frontend", "agentcore.core", "agentcore.history", "agentcore.trust",
    "agentcore.tokens", "agentcore.prompt", "agentcore.background", "agentcore.secrets", "agentcore.bounded_json",
    "agentcore.private_files", "agentcore.gc_pause", "agentcore.metrics", "agentcore.logctx",
    # wings (lazy facades)
    "agentcore.session", "agentcore.turn", "agentcore.store", "agentcore.config", "agentcore.mcp", "agentcore.llm",
    "agentcore.tools", "agentcore.live", "agentcore.checkpoints", "agentcore.jobs",
})  # fmt: skip


def test_frontends_import_only_public_modules():
    graph = _import_graph()
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith(FRONTEND_PREFIXES)
        for target in targets
        if not target.startswith(FRONTEND_PREFIXES) and target not in PUBLIC_MODULES
    )
    assert offenders == [], "frontends reach into internal modules:\n" + "\n".join(offenders)



def test_the_install_lists_every_package_under_agentcores_namespace():
    """acp/, cli/ and profiles/ install as agentcore.acp, agentcore.cli and
    agentcore.shipped_profiles (never as top-level acp/cli/profiles, which other
    distributions use); the explicit package list misses no package of the tree."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setup["package-dir"] == {"agentcore.acp": "acp", "agentcore.cli": "cli", "agentcore.shipped_profiles": "profiles"}
    tree = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    for package, folder in setup["package-dir"].items():  # the frontends' own subpackages (agentcore.acp.remote)
        tree |= {".".join([package, *p.parent.relative_to(ROOT / folder).parts]) for p in (ROOT / folder).rglob("__init__.py")}
    assert set(setup["packages"]) == tree | set(setup["package-dir"])
    assert all(not name.startswith(("acp", "cli", "profiles")) for name in setup["packages"])
