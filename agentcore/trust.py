"""Folder trust: which project folders may configure the agent.

Invariant: the files a folder brings with it (``.agent/config.toml``,
``.agent/config.local.toml``, ``.agent/profiles/``, ``.mcp.json``) configure
the agent only when the *user* said so: the project's resolved root, or a
folder above it, is in the user's trust store (``trusted_folders.json`` in the
state directory, written only by ``agent trust`` and the chat prompt), or
``trust.project_config`` is true in the user config, the environment or a
flag. Nothing inside a project can put itself in the store or set ``trust.*``.

A cloned repository is somebody else's code: its configuration can start
processes (hooks, MCP servers), widen permissions (mode, allow rules) and
choose where requests go (providers). So it is read only to *describe* what it
would do (:func:`summarize_project_config`, secret-free), never applied, until
the folder is trusted.

Trusting a folder covers its subfolders, except for the home directory and
the filesystem root, which cover only themselves: trusting ``~`` must not
trust every repository ever cloned below it.

The check is a stat of a few files and, when the project has any, one small
JSON read: well under a millisecond (``bench/bench_trust.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from agentcore.config.schema import ConfigError, loads_toml
from agentcore.config.paths import AgentPaths, ProjectPaths

TRUST_FILE_NAME = "trusted_folders.json"
TRUST_FILE_VERSION = 1
MCP_JSON_FILE_NAME = ".mcp.json"  # same name as agentcore.mcp.spec, which imports more than we need
PROFILE_SUFFIXES = (".toml", ".md")


class TrustStoreError(ConfigError):
    """The trust store cannot be read or written; names the file."""


@attrs.frozen
class TrustedFolder:
    path: Path  # absolute and resolved
    trusted_at: str  # ISO 8601, UTC
    covers_subfolders: bool = True  # False for the home directory and "/"


@attrs.frozen
class ProjectConfigSummary:
    """What a folder's own files would configure, one secret-free line per item."""

    root: Path
    files: tuple[Path, ...]
    items: tuple[str, ...]

    def describe(self) -> str:
        """Lines for a person: the files, then each item indented."""
        lines = [f"{self.root} has project configuration:"]
        lines += [f"  file: {path}" for path in self.files]
        lines += [f"  - {item}" for item in self.items]
        return "\n".join(lines)


@attrs.frozen
class ProjectTrust:
    """The trust verdict for one session's project, as the loader judged it."""

    root: Path
    trusted: bool
    reason: str  # why trusted (or "not trusted"), for `config show` and notices
    ignored: ProjectConfigSummary | None = None  # set when project files exist and were not applied

    def notice(self) -> str | None:
        """The one message a frontend prints when project configuration was ignored."""
        if self.ignored is None:
            return None
        return (
            f"{self.ignored.describe()}\n"
            f"This folder is not trusted, so none of it was applied. Trust it with `agent trust {self.root}` "
            "(or pass --trust for this run)."
        )


# -------------------------------------------------------------------- the store


def trust_file(paths: AgentPaths) -> Path:
    return paths.state_dir / TRUST_FILE_NAME


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class TrustStore:
    """The user's trusted folders, one JSON file. Each call reads the file afresh
    (it is tiny), so two processes see each other's changes."""

    def __init__(self, file: Path) -> None:
        self.file = file

    @classmethod
    def of(cls, paths: AgentPaths) -> TrustStore:
        return cls(trust_file(paths))

    def entries(self) -> tuple[TrustedFolder, ...]:
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ()
        except OSError as exc:
            raise TrustStoreError(f"cannot read: {exc.strerror or exc}", source=str(self.file)) from None
        try:
            doc = json.loads(text)
            folders = doc["folders"]
            return tuple(
                TrustedFolder(Path(path), str(entry.get("trusted_at", "")), bool(entry.get("subfolders", True)))
                for path, entry in folders.items()
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TrustStoreError(
                "not a trust store (expected {\"version\": 1, \"folders\": {...}}); fix or delete it",
                source=str(self.file),
            ) from None

    def covering(self, folder: Path) -> TrustedFolder | None:
        """The entry that trusts ``folder`` (itself, or an ancestor covering subfolders), if any."""
        return covering_entry(self.entries(), folder.resolve())

    def trust(self, folder: Path, *, home: Path | None) -> TrustedFolder:
        """Store ``folder`` (resolved). ``home`` and ``/`` are stored for themselves only."""
        resolved = folder.resolve()
        narrow = resolved == resolved.parent or (home is not None and resolved == home.resolve())
        entry = TrustedFolder(resolved, _now(), covers_subfolders=not narrow)
        kept = [e for e in self.entries() if e.path != resolved]
        self._write([*kept, entry])
        return entry

    def revoke(self, folder: Path) -> bool:
        """Remove the entry for exactly ``folder``; False when there was none."""
        resolved = folder.resolve()
        entries = self.entries()
        kept = [e for e in entries if e.path != resolved]
        if len(kept) == len(entries):
            return False
        self._write(kept)
        return True

    def _write(self, entries: Iterable[TrustedFolder]) -> None:
        from agentcore.private_files import replace_private_text

        doc = {
            "version": TRUST_FILE_VERSION,
            "folders": {
                str(e.path): {"trusted_at": e.trusted_at, "subfolders": e.covers_subfolders}
                for e in sorted(entries, key=lambda e: str(e.path))
            },
        }
        try:
            replace_private_text(self.file, json.dumps(doc, indent=2) + "\n")
        except OSError as exc:
            raise TrustStoreError(f"cannot write: {exc.strerror or exc}", source=str(self.file)) from None


def covering_entry(entries: Iterable[TrustedFolder], folder: Path) -> TrustedFolder | None:
    """The entry trusting the resolved ``folder``: an exact match, else the nearest
    ancestor whose entry covers subfolders. Pure; no I/O."""
    best: TrustedFolder | None = None
    for entry in entries:
        if entry.path == folder:
            return entry
        if entry.covers_subfolders and entry.path in folder.parents:
            if best is None or len(entry.path.parts) > len(best.path.parts):
                best = entry
    return best


def home_dir(env: Mapping[str, str]) -> Path | None:
    home = env.get("HOME", "").strip()
    return Path(home) if home else None


# ----------------------------------------------------------- what a folder brings


def project_config_files(project: ProjectPaths) -> tuple[Path, ...]:
    """The project's own configuration files that exist (cheap: a few stats)."""
    found = [p for p in (project.config_file, project.local_config_file) if p.is_file()]
    profiles = project.profiles_dir
    if profiles.is_dir():
        found += sorted(p for p in profiles.iterdir() if p.suffix in PROFILE_SUFFIXES and p.is_file())
    mcp_json = project.root / MCP_JSON_FILE_NAME
    if mcp_json.is_file():
        found.append(mcp_json)
    return tuple(found)


def judge_project(
    project: ProjectPaths, *, setting: bool, setting_origin: str, store: TrustStore
) -> ProjectTrust:
    """Whether ``project``'s files apply. ``setting`` is ``trust.project_config``
    from the user's own layers (never from the project)."""
    files = project_config_files(project)
    if setting:
        return ProjectTrust(project.root, True, f"trust.project_config from {setting_origin}")
    entry = store.covering(project.root)
    if entry is not None:
        return ProjectTrust(project.root, True, f"trusted folder {entry.path} (since {entry.trusted_at})")
    if not files:
        return ProjectTrust(project.root, False, "not trusted (no project configuration)")
    return ProjectTrust(project.root, False, "not trusted", summarize_project_config(project.root, files))


def summarize_project_config(root: Path, files: tuple[Path, ...]) -> ProjectConfigSummary:
    """Read the files only to list what they would configure; never fails on a
    broken file (it is listed as unreadable). Values of headers and env are not shown."""
    items: list[str] = []
    for path in files:
        rel = _relative(path, root)
        try:
            if path.name == MCP_JSON_FILE_NAME:
                items += _mcp_json_items(path, rel)
            elif path.parent.name == "profiles":
                items += _profile_items(path, rel)
            else:
                items += _config_items(_read_toml(path), rel)
        except (OSError, ValueError) as exc:
            items.append(f"{rel}: unreadable ({exc.__class__.__name__})")
    return ProjectConfigSummary(root, files, tuple(items))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _read_toml(path: Path) -> dict[str, Any]:
    return loads_toml(path.read_text(encoding="utf-8"))


_DESCRIBED = {"hooks", "mcp", "permissions", "providers", "provider", "model", "trust"}


def _config_items(doc: Mapping[str, Any], rel: str) -> list[str]:
    items: list[str] = []
    for hook in _list(doc.get("hooks")):
        if isinstance(hook, Mapping):
            items.append(f"{rel}: hook on {hook.get('event', '?')} runs: {hook.get('command', '?')}")
    for name, server in _table(_table(doc.get("mcp")).get("servers")).items():
        items.append(f"{rel}: MCP server {name}: {_server_text(_table(server))}")
    permissions = _table(doc.get("permissions"))
    if "mode" in permissions:
        items.append(f"{rel}: permission mode {permissions['mode']}")
    for action in ("allow", "ask", "deny"):
        for rule in _list(permissions.get(action)):
            items.append(f"{rel}: {action} rule {rule}")
    for name, provider in _table(doc.get("providers")).items():
        fields = _table(provider)
        parts = [f"{k} {fields[k]}" for k in ("protocol", "base_url", "api_key_env") if k in fields]
        if _table(fields.get("headers")):
            parts.append("headers " + ", ".join(sorted(_table(fields.get("headers")))))
        items.append(f"{rel}: provider {name}: " + (", ".join(parts) or "models only"))
    for key in ("provider", "model"):
        if key in doc:
            items.append(f"{rel}: {key} = {doc[key]}")
    if "trust" in doc:
        items.append(f"{rel}: trust settings (never honoured from a project)")
    others = sorted(k for k in doc if k not in _DESCRIBED)
    if others:
        items.append(f"{rel}: other settings: {', '.join(others)}")
    return items


def _profile_items(path: Path, rel: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    doc: Mapping[str, Any] = {}
    if path.suffix == ".toml":
        doc = _read_toml(path)
    elif text.startswith("+++"):
        doc = loads_toml(text.split("+++", 2)[1]) if text.count("+++") >= 2 else {}
    details = []
    mode = _table(doc.get("permissions")).get("mode")
    if mode:
        details.append(f"mode {mode}")
    details += [f"allow {r}" for r in _list(_table(doc.get("permissions")).get("allow"))]
    details += [f"MCP {n}: {_server_text(_table(s))}" for n, s in _table(_table(doc.get("mcp")).get("servers")).items()]
    return [f"{rel}: profile {path.stem}" + (f" ({'; '.join(details)})" if details else "")]


def _mcp_json_items(path: Path, rel: str) -> list[str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    servers = _table(_table(doc).get("mcpServers"))
    return [f"{rel}: MCP server {name}: {_server_text(_table(entry))}" for name, entry in servers.items()]


def _server_text(server: Mapping[str, Any]) -> str:
    if "command" in server:
        return "runs " + " ".join(str(x) for x in [server["command"], *_list(server.get("args"))])
    return f"connects to {server.get('url', '?')}"


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []

