"""Module paths from before the wings still import for one release: the same
module object as the new path, with a DeprecationWarning naming it."""

from __future__ import annotations

import json
import subprocess
import sys

from agentcore._moved import MOVED

# Runs in a fresh interpreter: an old path warns only on its first import.
PROBE = """
import importlib, json, sys, warnings
results = {}
for old, new in json.loads(sys.argv[1]).items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    deprecations = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    results[old] = {
        "same": module is importlib.import_module(new),
        "warned": any(old in m and new in m for m in deprecations),
        "spec": module.__spec__.name,
    }
print(json.dumps(results))
"""


def test_every_old_path_is_the_new_module_with_a_deprecation_warning():
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(dict(MOVED))], capture_output=True, text=True, check=True
    ).stdout
    results = json.loads(out)
    assert {old: r for old, r in results.items() if not (r["same"] and r["warned"] and r["spec"] == MOVED[old])} == {}
    assert set(results) >= {"agentcore.compaction", "agentcore.agents", "agentcore.persistence", "agentcore.store_format"}


def test_names_from_an_old_path_import():
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from agentcore.compaction import Compactor\n"
        "from agentcore.session.compaction import Compactor as New\n"
        "print(Compactor is New)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
