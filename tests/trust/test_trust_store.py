"""The trust store: per resolved path, covers subfolders (not for ~ and /), private file, atomic writes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from agentcore.config.paths import resolve_paths
from agentcore.trust import TrustStore, TrustStoreError, covering_entry


def store_for(env: dict[str, str]) -> TrustStore:
    return TrustStore.of(resolve_paths(env))


def test_trusting_a_folder_covers_its_subfolders_not_its_siblings(tmp_path: Path, env) -> None:
    store = store_for(env)
    work = tmp_path / "src"
    (work / "a" / "deep").mkdir(parents=True)
    (tmp_path / "src-other").mkdir()
    store.trust(work, home=None)
    assert store.covering(work / "a" / "deep").path == work.resolve()
    assert store.covering(tmp_path / "src-other") is None  # a name prefix is not an ancestor
    assert store.covering(tmp_path) is None


def test_paths_are_stored_resolved(tmp_path: Path, env) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    store = store_for(env)
    store.trust(tmp_path / "link", home=None)
    assert [e.path for e in store.entries()] == [real.resolve()]
    assert store.covering(real) is not None


def test_home_and_root_cover_only_themselves(tmp_path: Path, env) -> None:
    store = store_for(env)
    home = tmp_path / "home"
    (home / "cloned").mkdir(parents=True)
    entry = store.trust(home, home=home)
    assert not entry.covers_subfolders
    assert store.covering(home) is not None and store.covering(home / "cloned") is None
    root = store.trust(Path("/"), home=home)
    assert not root.covers_subfolders and store.covering(tmp_path) is None


def test_revoke_removes_exactly_that_folder(tmp_path: Path, env) -> None:
    store = store_for(env)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    store.trust(a, home=None), store.trust(b, home=None)
    assert store.revoke(a) is True
    assert store.revoke(a) is False
    assert [e.path for e in store.entries()] == [b.resolve()]


def test_the_file_is_private_and_written_atomically(tmp_path: Path, env) -> None:
    store = store_for(env)
    store.trust(tmp_path, home=None)
    assert stat.S_IMODE(store.file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.file.parent.stat().st_mode) == 0o700
    assert store.file.name == "trusted_folders.json"
    assert [p.name for p in store.file.parent.iterdir()] == ["trusted_folders.json"]  # no temp file left
    doc = json.loads(store.file.read_text())
    assert doc["version"] == 1 and str(tmp_path.resolve()) in doc["folders"]


def test_a_corrupt_store_is_a_clear_error_naming_the_file(env) -> None:
    store = store_for(env)
    store.file.parent.mkdir(parents=True)
    store.file.write_text("[1, 2")
    with pytest.raises(TrustStoreError, match="trusted_folders.json"):
        store.entries()


def test_covering_prefers_the_exact_entry() -> None:
    from agentcore.trust import TrustedFolder

    entries = [TrustedFolder(Path("/a"), "t1"), TrustedFolder(Path("/a/b"), "t2", covers_subfolders=False)]
    assert covering_entry(entries, Path("/a/b")).trusted_at == "t2"
    assert covering_entry(entries, Path("/a/b/c")).trusted_at == "t1"
