"""Fixtures for the deny-means-deny tests: a workspace with secrets in it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The ACP tests' peer, schema checker and harness (tests/acp) are reused here, as
# pytest would make them importable when collecting that folder.
ACP_TESTS = str(Path(__file__).resolve().parents[1] / "acp")
if ACP_TESTS not in sys.path:
    sys.path.append(ACP_TESTS)

SECRET = "sk-live-SECRET-0123456789"  # what must never reach a tool result or the model
KEY_FILE_VALUE = "key-file-value-42"  # secrets/key.txt: hidden only where a rule names it


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def key_file_value() -> str:
    return KEY_FILE_VALUE


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A workspace with ordinary files and files a deny rule should hide."""
    root = tmp_path / "work"
    (root / "src").mkdir(parents=True)
    (root / "secrets").mkdir()
    (root / "src" / "app.py").write_text(f"TOKEN_NAME = 'API_TOKEN'\nprint('hello')\n")
    (root / "README.md").write_text("API_TOKEN goes in .env\n")
    (root / ".env").write_text(f"API_TOKEN={SECRET}\n")
    (root / "src" / ".env").write_text(f"API_TOKEN={SECRET}-nested\n")
    (root / "secrets" / "key.txt").write_text(f"API_TOKEN={KEY_FILE_VALUE}\n")
    return root
