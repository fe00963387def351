"""Changing configuration files: ``agent config set``, remembered permissions, ``agent init``.

Files are read with ``tomllib``, changed as data and written back with
``tomli-w``, so every other setting is kept. TOML comments cannot survive that
round trip; when a file has any, a ``.bak`` copy of the original is kept next to
it so nothing is lost. Every write is checked against the schema first and
replaces the file atomically: a bad value never leaves a broken file behind.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from agentcore.config import BUILTIN_PROVIDERS, CONFIG_SCHEMA, check_rule, read_toml_file
from agentcore.config.schema import ConfigError, Kind, check_value, format_key, parse_key, parse_toml_literal
from agentcore.config.paths import AgentPaths, find_project

BACKUP_SUFFIX = ".bak"


@attrs.frozen
class WriteResult:
    path: Path
    changed: bool
    backup: Path | None = None  # the original, kept because its comments could not be


# ---------------------------------------------------------------- primitives


def _has_comments(text: str) -> bool:
    """True if any line has a ``#`` outside a quoted string (single-line strings only)."""
    for line in text.splitlines():
        quote: str | None = None
        escaped = False
        for char in line:
            if quote == '"' and escaped:
                escaped = False
            elif quote == '"' and char == "\\":
                escaped = True
            elif quote is not None:
                if char == quote:
                    quote = None
            elif char in "\"'":
                quote = char
            elif char == "#":
                return True
    return False


def write_toml_atomic(path: Path, doc: Mapping[str, Any]) -> Path | None:
    """Write ``doc`` to ``path`` via a temporary file; back up a commented original first."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    try:
        original = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        original = None
    if original is not None and _has_comments(original):
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        backup.write_text(original, encoding="utf-8")
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(tomli_w.dumps(doc), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return backup


def _set_in(doc: dict[str, Any], path: tuple[str, ...], value: Any, *, source: str) -> None:
    node = doc
    for depth, segment in enumerate(path[:-1]):
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise ConfigError("is not a table in this file", source=source, key=format_key(path[: depth + 1]))
        node = child
    node[path[-1]] = value


def _load_for_edit(file: Path) -> dict[str, Any]:
    doc = read_toml_file(file)  # raises on invalid TOML: we never overwrite what we cannot read
    return doc if doc is not None else {}


# ------------------------------------------------------------------- config set


def set_config_value(file: Path, key: str, value: Any) -> WriteResult:
    """Set dotted ``key`` in ``file`` (created if missing), keeping everything else.

    A string ``value`` is read as a TOML literal when it is one (``64``, ``true``,
    ``["a", "b"]``, ``"quoted"``), else taken as a plain string.
    """
    source = str(file)
    path = parse_key(key, source=source)
    schema_key = CONFIG_SCHEMA.lookup(path)
    if schema_key is None:
        prefix = path[:-1]
        while prefix and not CONFIG_SCHEMA.is_table(prefix):
            prefix = prefix[:-1]
        what = "is a table; set one of its keys" if CONFIG_SCHEMA.is_table(path) else "unknown key"
        raise ConfigError(what, source=source, key=key, allowed=CONFIG_SCHEMA.allowed_at(path if
                          CONFIG_SCHEMA.is_table(path) else prefix))  # fmt: skip
    if isinstance(value, str):
        parsed = parse_toml_literal(value)
        if schema_key.kind is Kind.STR and not isinstance(parsed, str):
            parsed = value
        value = parsed
    check_value(schema_key, value, source=source, path=path)
    doc = _load_for_edit(file)
    before = copy.deepcopy(doc)
    _set_in(doc, path, value, source=source)
    CONFIG_SCHEMA.validate(doc, source=source)
    if doc == before and file.exists():
        return WriteResult(file, changed=False)
    return WriteResult(file, changed=True, backup=write_toml_atomic(file, doc))


# ------------------------------------------------------------ remembered rules

PermissionScope = Literal["project", "user"]


def persist_permission_rule(rule: str, *, scope: PermissionScope, paths: AgentPaths, cwd: Path) -> WriteResult:
    """Append ``rule`` to ``permissions.allow`` so later sessions do not ask again.

    ``project`` writes the project's ``.agent/config.local.toml`` (personal,
    not for version control); ``user`` writes the user ``config.toml``. A rule
    already present is not added twice.
    """
    problem = check_rule(rule)
    if problem:
        raise ConfigError(problem, source="permission rule", key="permissions.allow")
    match scope:
        case "project":
            file = find_project(cwd).local_config_file
        case "user":
            file = paths.user_config_file
        case _:
            raise ValueError(f"unknown scope {scope!r}")
    doc = _load_for_edit(file)
    permissions = doc.get("permissions", {})
    current = permissions.get("allow", []) if isinstance(permissions, dict) else []
    if isinstance(current, list) and rule in current:
        return WriteResult(file, changed=False)
    if not isinstance(current, list):
        raise ConfigError("expected a list of strings", source=str(file), key="permissions.allow")
    _set_in(doc, ("permissions", "allow"), [*current, rule], source=str(file))
    CONFIG_SCHEMA.validate(doc, source=str(file))
    return WriteResult(file, changed=True, backup=write_toml_atomic(file, doc))


# ---------------------------------------------------------------------- init


@attrs.frozen
class InitReport:
    found_key_vars: tuple[str, ...]  # names only, never values
    provider: str | None
    result: WriteResult | None
    message: str


def detect_api_keys(env: Mapping[str, str], providers: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Provider names whose API key variable is set (non-empty) in ``env``, built-ins first."""
    providers = BUILTIN_PROVIDERS if providers is None else providers
    return [name for name, fields in providers.items() if fields.get("api_key_env") and env.get(fields["api_key_env"])]


def init_user_config(
    *, env: Mapping[str, str], paths: AgentPaths, provider: str | None = None, model: str | None = None,
    force: bool = False,
) -> InitReport:  # fmt: skip
    """Write the user config with a provider chosen from the keys found in ``env``."""
    file = paths.user_config_file
    existing = _load_for_edit(file)
    user_providers = existing.get("providers", {})
    configured = {**BUILTIN_PROVIDERS, **{k: v for k, v in user_providers.items() if isinstance(v, dict)}}
    found = detect_api_keys(env, configured)
    key_vars = tuple(configured[name]["api_key_env"] for name in found)
    if provider is None and existing.get("provider") and not force:
        current = existing["provider"]
        message = f'{file} already sets provider = "{current}"; use --force to replace it'
        return InitReport(key_vars, current, None, message)
    if provider is None:
        if not found:
            wanted = ", ".join(f["api_key_env"] for f in BUILTIN_PROVIDERS.values() if f.get("api_key_env"))
            return InitReport((), None, None, f"no API key found in the environment (looked for {wanted}); "
                              "set one, or run `agent init --provider NAME`")  # fmt: skip
        provider = found[0]
    elif provider not in configured:
        raise ConfigError(f'unknown provider "{provider}"', source=str(file), key="provider",
                          allowed=", ".join(sorted(configured)))  # fmt: skip
    result = set_config_value(file, "provider", provider)
    if model is not None:
        second = set_config_value(file, "model", model)
        result = WriteResult(file, result.changed or second.changed, result.backup or second.backup)
    return InitReport(key_vars, provider, result, f'wrote provider = "{provider}" to {file}')
