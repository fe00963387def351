"""Profiles: named bundles of model, prompt, tools and permission policy.

A profile is ``NAME.toml``, or ``NAME.md`` whose ``+++``-fenced TOML front
matter holds the fields and whose body is the prompt. Profiles are looked up in
the project's ``.agent/profiles/``, then the user config dir's ``profiles/``,
then the ones shipped with the package; the first match wins. The project's
profiles are looked at only when the folder is trusted (:mod:`agentcore.trust`):
callers holding a :class:`LoadedConfig` pass ``project_trusted=loaded.trust.trusted``;
without it the user's trust store decides.

``--profile X`` applies the profile over the configuration files (model,
permission mode and rules, request limit, thresholds, MCP servers) with
:func:`apply_profile`; tools, prompt and sampling live on the :class:`Profile`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from agentcore.config import (
    CONFIG_KEYS,
    HARD_DEFAULT,
    MICRO_DEFAULT,
    PERMISSION_MODES,
    REASONING_EFFORTS,
    SOFT_DEFAULT,
    WEB_SEARCH_MODES,
    LoadedConfig,
    McpServerConfig,
    build_mcp_server,
    check_domain,
    check_rule,
    check_thresholds,
    overlay,
    read_toml_file,
)
from agentcore.config.schema import ConfigError, Key, KeyPath, Kind, Schema, format_key, loads_toml
from agentcore.config.paths import AgentPaths, find_project

# Read-only tools a profile gets when it does not list tools.allow: looking, not touching.
# fetch is left out on purpose: network access is not read-only for the user's data.
SAFE_READ_ONLY_TOOLS = ("read_file", "glob", "grep", "update_plan")
PROFILE_SUFFIXES = (".toml", ".md")
FRONT_MATTER_FENCE = "+++"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Origin = Literal["project", "user", "shipped"]


class ProfileError(ConfigError):
    """A profile that is missing or invalid; names the file and the key."""


def _rules(name: str, doc: str) -> Key:
    return Key(name, Kind.STR_LIST, (), doc, item_check=check_rule)


_MCP_KEYS = tuple(k for k in CONFIG_KEYS if k.name.startswith("mcp.servers."))

PROFILE_KEYS: tuple[Key, ...] = (
    Key("description", Kind.STR, "", "one line shown by `agent profiles list`"),
    Key("provider", Kind.STR, None, "provider to use", nullable=True),
    Key("model", Kind.STR, None, "model id", nullable=True),
    Key("prompt", Kind.STR, None, "system prompt text for this profile", nullable=True),
    Key("prompt_file", Kind.STR, None, "file holding the prompt, relative to the profile file", nullable=True),
    Key("inherit_project_prompt", Kind.BOOL, True, "also include the project's AGENTS.md"),
    Key("request_limit", Kind.INT, None, "model requests per turn", minimum=1, nullable=True),
    Key("tools.allow", Kind.STR_LIST, None, "tool-name globs the profile may use (default: "
        + ", ".join(SAFE_READ_ONLY_TOOLS) + ")", nullable=True),
    Key("tools.deny", Kind.STR_LIST, (), "tool-name globs removed after allow"),
    Key("tools.web_search", Kind.STR, None, "hosted web search: off, auto or required", choices=WEB_SEARCH_MODES,
        nullable=True),
    Key("tools.web_search_allowed_domains", Kind.STR_LIST, None, "web search finds pages of these domains only",
        nullable=True, item_check=check_domain),
    Key("tools.web_search_blocked_domains", Kind.STR_LIST, None, "web search never finds pages of these domains",
        nullable=True, item_check=check_domain),
    Key("permissions.mode", Kind.STR, None, "permission mode", choices=PERMISSION_MODES, nullable=True),
    _rules("permissions.allow", "rules added to the configured allow rules"),
    _rules("permissions.ask", "rules added to the configured ask rules"),
    _rules("permissions.deny", "rules added to the configured deny rules"),
    Key("sampling.temperature", Kind.FLOAT, None, "sampling temperature", minimum=0, maximum=2, nullable=True),
    Key("sampling.max_tokens", Kind.INT, None, "output token limit per request", minimum=1, nullable=True),
    Key("sampling.reasoning_effort", Kind.STR, None, "reasoning effort", choices=REASONING_EFFORTS, nullable=True),
    Key("context.micro", Kind.FLOAT, None, "context fraction that trims old tool results", minimum=0, maximum=1,
        nullable=True),
    Key("context.soft", Kind.FLOAT, None, "context fraction that starts compaction", minimum=0, maximum=1,
        nullable=True),
    Key("context.hard", Kind.FLOAT, None, "context fraction that blocks until compacted", minimum=0, maximum=1,
        nullable=True),
    *_MCP_KEYS,
    Key("agents.spawn", Kind.STR_LIST, (), "profiles this one may start as sub-agents"),
)  # fmt: skip

PROFILE_SCHEMA = Schema(PROFILE_KEYS, what="profile key")


@attrs.frozen
class Profile:
    name: str
    path: Path
    origin: Origin
    description: str = ""
    provider: str | None = None
    model: str | None = None
    prompt: str | None = None  # resolved text (inline, prompt_file or Markdown body)
    inherit_project_prompt: bool = True
    tools_allow: tuple[str, ...] | None = None  # None: the profile did not say
    tools_deny: tuple[str, ...] = ()
    web_search: Literal["off", "auto", "required"] | None = None
    web_search_allowed_domains: tuple[str, ...] | None = None
    web_search_blocked_domains: tuple[str, ...] | None = None
    mode: Literal["read-only", "ask", "accept-edits", "yolo", "plan"] | None = None
    rules_allow: tuple[str, ...] = ()
    rules_ask: tuple[str, ...] = ()
    rules_deny: tuple[str, ...] = ()
    request_limit: int | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    micro: float | None = None
    soft: float | None = None
    hard: float | None = None
    mcp_servers: Mapping[str, McpServerConfig] = attrs.field(factory=dict)
    spawn: tuple[str, ...] = ()

    @property
    def effective_tools_allow(self) -> tuple[str, ...]:
        """The allow globs, with the safe read-only set when the profile gave none."""
        return SAFE_READ_ONLY_TOOLS if self.tools_allow is None else self.tools_allow


@attrs.frozen
class ProfileInfo:
    name: str
    description: str
    origin: Origin
    path: Path
    shadows: tuple[Path, ...] = ()  # same-named profiles this one hides
    error: str | None = None  # set when the file does not load


# ------------------------------------------------------------------- lookup


def _search_dirs(cwd: Path, paths: AgentPaths, project_trusted: bool | None) -> tuple[tuple[Origin, Path], ...]:
    project = find_project(cwd)
    if project_trusted is None:
        from agentcore.trust import TrustStore

        project_trusted = TrustStore.of(paths).covering(project.root) is not None
    own: tuple[tuple[Origin, Path], ...] = (("project", project.profiles_dir),) if project_trusted else ()
    return (*own, ("user", paths.user_profiles_dir), ("shipped", paths.shipped_profiles_dir))


def _candidates(directory: Path, name: str) -> list[Path]:
    return [p for p in (directory / f"{name}{s}" for s in PROFILE_SUFFIXES) if p.is_file()]


def _locate(name: str, cwd: Path, paths: AgentPaths, trusted: bool | None) -> list[tuple[Origin, Path]]:
    found: list[tuple[Origin, Path]] = []
    for origin, directory in _search_dirs(cwd, paths, trusted):
        matches = _candidates(directory, name)
        if len(matches) > 1:
            raise ProfileError(
                f'both {matches[0].name} and {matches[1].name} define profile "{name}"; keep one',
                source=str(directory),
            )
        found.extend((origin, m) for m in matches)
    return found


def list_profiles(*, cwd: Path, paths: AgentPaths, project_trusted: bool | None = None) -> list[ProfileInfo]:
    """Every visible profile, sorted by name; broken files are listed with their error."""
    by_name: dict[str, list[tuple[Origin, Path]]] = {}
    for origin, directory in _search_dirs(cwd, paths, project_trusted):
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.suffix in PROFILE_SUFFIXES and path.is_file() and _NAME_RE.match(path.stem):
                by_name.setdefault(path.stem, []).append((origin, path))
    infos = []
    for name, places in sorted(by_name.items()):
        origin, path = places[0]
        try:
            description = _read_profile_document(path)[0].get("description", "")
            error = None
        except ConfigError as exc:
            description, error = "", str(exc)
        infos.append(
            ProfileInfo(name, str(description), origin, path, tuple(p for _, p in places[1:]), error)
        )
    return infos


def available_profile_names(*, cwd: Path, paths: AgentPaths, project_trusted: bool | None = None) -> list[str]:
    return [info.name for info in list_profiles(cwd=cwd, paths=paths, project_trusted=project_trusted)]


# ------------------------------------------------------------------ loading


def load_profile(name: str, *, cwd: Path, paths: AgentPaths, project_trusted: bool | None = None) -> Profile:
    """Find, parse and check one profile. Raises :class:`ProfileError`."""
    if not _NAME_RE.match(name):
        raise ProfileError(f'"{name}" is not a profile name', source="profile", allowed="letters, digits, _ . -")
    found = _locate(name, cwd, paths, project_trusted)
    if not found:
        available = ", ".join(available_profile_names(cwd=cwd, paths=paths, project_trusted=project_trusted)) or "none"
        raise ProfileError(f'unknown profile "{name}"', source="profile", allowed=available)
    origin, path = found[0]
    doc, body = _read_profile_document(path)
    source = str(path)
    flat = PROFILE_SCHEMA.validate(doc, source=source)
    tree = _tree(flat)
    prompt = _resolve_prompt(tree, body, path)
    thresholds = {n: tree.get("context", {}).get(n) for n in ("micro", "soft", "hard")}
    if any(v is not None for v in thresholds.values()):
        defaults = {"micro": MICRO_DEFAULT, "soft": SOFT_DEFAULT, "hard": HARD_DEFAULT}
        check_thresholds({n: v if v is not None else defaults[n] for n, v in thresholds.items()},
                         source=source, prefix="context.")  # fmt: skip
    servers = {}
    for server, fields in tree.get("mcp", {}).get("servers", {}).items():
        full = {k.path[-1]: k.default for k in _MCP_KEYS} | fields
        servers[server] = build_mcp_server(server, full, lambda *_: source)
    spawn = tuple(tree.get("agents", {}).get("spawn", ()))
    _check_spawn(spawn, name, source, cwd, paths, project_trusted)
    tools, perms, sampling = tree.get("tools", {}), tree.get("permissions", {}), tree.get("sampling", {})
    return Profile(
        name=name,
        path=path,
        origin=origin,
        description=tree.get("description", ""),
        provider=tree.get("provider"),
        model=tree.get("model"),
        prompt=prompt,
        inherit_project_prompt=tree.get("inherit_project_prompt", True),
        tools_allow=tools.get("allow"),
        tools_deny=tools.get("deny", ()),
        web_search=tools.get("web_search"),
        web_search_allowed_domains=tools.get("web_search_allowed_domains"),
        web_search_blocked_domains=tools.get("web_search_blocked_domains"),
        mode=perms.get("mode"),
        rules_allow=perms.get("allow", ()),
        rules_ask=perms.get("ask", ()),
        rules_deny=perms.get("deny", ()),
        request_limit=tree.get("request_limit"),
        temperature=sampling.get("temperature"),
        max_tokens=sampling.get("max_tokens"),
        reasoning_effort=sampling.get("reasoning_effort"),
        mcp_servers=servers,
        spawn=spawn,
        **thresholds,
    )


def _tree(flat: Mapping[KeyPath, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path, value in flat.items():
        node = root
        for segment in path[:-1]:
            node = node.setdefault(segment, {})
        node[path[-1]] = value
    return root


def _read_profile_document(path: Path) -> tuple[dict[str, Any], str | None]:
    """The TOML fields and, for Markdown, the body."""
    if path.suffix == ".toml":
        doc = read_toml_file(path)
        return (doc or {}), None
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read: {exc}", source=str(path)) from None
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ProfileError(f"a Markdown profile starts with a {FRONT_MATTER_FENCE} line (TOML front matter)",
                           source=str(path))  # fmt: skip
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            front, body = "".join(lines[1:index]), "".join(lines[index + 1 :])
            break
    else:
        raise ProfileError(f"the front matter has no closing {FRONT_MATTER_FENCE} line", source=str(path))
    try:
        doc = loads_toml(front)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"invalid TOML front matter: {exc}", source=str(path)) from None
    return doc, body.strip() or None


def _resolve_prompt(tree: Mapping[str, Any], body: str | None, path: Path) -> str | None:
    given = [k for k, present in (("prompt", "prompt" in tree), ("prompt_file", "prompt_file" in tree),
                                   ("the Markdown body", body is not None)) if present]  # fmt: skip
    if len(given) > 1:
        raise ProfileError(f"the prompt is given twice ({' and '.join(given)}); keep one", source=str(path),
                           key="prompt")  # fmt: skip
    if body is not None:
        return body
    if "prompt_file" in tree:
        prompt_path = (path.parent / tree["prompt_file"]).resolve()
        try:
            return prompt_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"cannot read {prompt_path}: {getattr(exc, 'strerror', None) or exc}",
                               source=str(path), key="prompt_file") from None  # fmt: skip
    return tree.get("prompt")


def _check_spawn(
    spawn: tuple[str, ...], name: str, source: str, cwd: Path, paths: AgentPaths, trusted: bool | None
) -> None:
    for index, other in enumerate(spawn):
        if other == name:
            continue  # a profile may spawn copies of itself; depth is bounded by agents.max_depth
        if not _NAME_RE.match(other) or not _locate(other, cwd, paths, trusted):
            raise ProfileError(
                f'agents.spawn[{index}]: unknown profile "{other}"',
                source=source,
                key="agents.spawn",
                allowed=", ".join(available_profile_names(cwd=cwd, paths=paths, project_trusted=trusted)),
            )


# ----------------------------------------------------------------- applying


def apply_profile(loaded: LoadedConfig, profile: Profile) -> LoadedConfig:
    """The configuration with ``profile`` layered over the files (env and flags still win)."""
    layer: dict[KeyPath, Any] = {}
    scalars = {
        ("provider",): profile.provider,
        ("model",): profile.model,
        ("reasoning_effort",): profile.reasoning_effort,
        ("permissions", "mode"): profile.mode,
        ("tools", "web_search"): profile.web_search,
        ("tools", "web_search_allowed_domains"): profile.web_search_allowed_domains,
        ("tools", "web_search_blocked_domains"): profile.web_search_blocked_domains,
        ("turn", "request_limit"): profile.request_limit,
        ("context", "micro"): profile.micro,
        ("context", "soft"): profile.soft,
        ("context", "hard"): profile.hard,
    }
    layer.update({path: value for path, value in scalars.items() if value is not None})
    for action, rules in (("allow", profile.rules_allow), ("ask", profile.rules_ask), ("deny", profile.rules_deny)):
        if rules:
            layer[("permissions", action)] = rules
    for server in profile.mcp_servers.values():
        for field, value in attrs.asdict(server, recurse=False).items():
            if field != "name":
                layer[("mcp", "servers", server.name, field)] = value
    try:
        return overlay(loaded, layer, f"profile {profile.name} ({profile.path})")
    except ConfigError as exc:
        if isinstance(exc, ProfileError):
            raise
        raise ProfileError(exc.detail, source=exc.source, key=exc.key, allowed=exc.allowed) from None


def profile_key_names() -> list[str]:
    return [format_key(k.path) for k in PROFILE_KEYS]
