"""``agent config show|set``, ``agent profiles list|show`` and ``agent init``.

``cli/main.py`` calls :func:`add_subparsers` with its sub-parser collection;
each command stores its handler as ``args.handler`` and is run as
``args.handler(args, ctx)``; ``args.func(args)`` runs the same handler with a
context built from the process (cwd, ``os.environ``, stdout/stderr). ``ctx`` needs ``cwd``, ``env``, ``stdout`` and
``stderr``; it may carry ``flags`` (global flags as dotted config keys, e.g.
``{"model": "x"}``) and ``paths`` (an :class:`AgentPaths` to use instead of
resolving one from ``env``).

Output is plain text (no rich): these commands run in scripts and must start fast.
Importing this module costs nothing beyond argparse: main.py registers these
commands on every start (``agent --version`` included), so the configuration
modules are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from agentcore.config import LoadedConfig
    from agentcore.config import ConfigError, KeyPath
    from agentcore.config import AgentPaths

EXIT_OK = 0
EXIT_ERROR = 1
MASK = "***"  # shown instead of header and environment values, which often hold tokens


class CommandContext(Protocol):
    cwd: Path
    env: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO


class ConfigCommandContext:
    """A ready-made context (tests, embedders); main.py may pass its own object.

    A plain class rather than attrs so that importing this module stays free.
    """

    __slots__ = ("cwd", "env", "stdout", "stderr", "flags", "paths")

    def __init__(
        self,
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout: TextIO,
        stderr: TextIO,
        flags: Mapping[str, Any] | None = None,
        paths: AgentPaths | None = None,
    ) -> None:
        self.cwd = cwd
        self.env = env
        self.stdout = stdout
        self.stderr = stderr
        self.flags = dict(flags or {})
        self.paths = paths


def add_subparsers(subparsers: Any) -> None:
    """Register ``config``, ``profiles`` and ``init`` on ``parser.add_subparsers()``."""
    config = subparsers.add_parser("config", help="show or change configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="{show,set}")
    show = config_sub.add_parser("show", help="print the effective configuration")
    show.add_argument("--origin", action="store_true", help="print where each value comes from")
    _register(show, cmd_config_show)
    set_ = config_sub.add_parser("set", help="set KEY to VALUE in a config file")
    set_.add_argument("key", metavar="KEY", help="dotted key, e.g. permissions.mode")
    set_.add_argument("value", metavar="VALUE", help="a TOML literal (64, true, [\"a\"]) or a plain string")
    where = set_.add_mutually_exclusive_group()
    where.add_argument("--project", action="store_true", help="write the project's .agent/config.toml")
    where.add_argument("--local", action="store_true", help="write the project's .agent/config.local.toml")
    _register(set_, cmd_config_set)

    profiles = subparsers.add_parser("profiles", help="list or show profiles")
    profiles_sub = profiles.add_subparsers(dest="profiles_command", required=True, metavar="{list,show}")
    _register(profiles_sub.add_parser("list", help="list the available profiles"), cmd_profiles_list)
    show_profile = profiles_sub.add_parser("show", help="print one profile")
    show_profile.add_argument("name", metavar="NAME")
    _register(show_profile, cmd_profiles_show)

    init = subparsers.add_parser("init", help="write the user config from the API keys in the environment")
    init.add_argument(
        "--provider", dest="init_provider", default=None, help="provider to use (default: the first with a key set)"
    )
    init.add_argument("--model", dest="init_model", default=None, metavar="MODEL", help="model id to set")
    init.add_argument("--force", action="store_true", help="replace a provider already configured")
    _register(init, cmd_init)


def _process_entry(handler: Any) -> Any:
    """``handler`` as a one-argument entry point for main.py, with the process as context."""

    def run(args: argparse.Namespace) -> int:
        import os
        import sys

        ctx = ConfigCommandContext(cwd=Path.cwd(), env=os.environ, stdout=sys.stdout, stderr=sys.stderr)
        return handler(args, ctx)

    return run


def _register(parser: argparse.ArgumentParser, handler: Any) -> None:
    parser.set_defaults(handler=handler, func=_process_entry(handler))


def _paths(ctx: CommandContext) -> AgentPaths:
    from agentcore.config import resolve_paths

    paths = getattr(ctx, "paths", None)
    return paths if paths is not None else resolve_paths(ctx.env)


def _project_trusted(ctx: CommandContext) -> bool | None:
    """The loader's trust verdict for ``ctx.cwd`` (which sees env and flags too);
    None (the store alone decides) when the configuration does not load."""
    from agentcore.config import load_settings
    from agentcore.config import ConfigError

    try:
        return load_settings(cwd=ctx.cwd, env=ctx.env, flags=getattr(ctx, "flags", None), paths=_paths(ctx)).trust.trusted
    except ConfigError:
        return None


def _fail(ctx: CommandContext, exc: ConfigError) -> int:
    print(f"error: {exc}", file=ctx.stderr)
    return EXIT_ERROR


# ------------------------------------------------------------------ config


def cmd_config_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    from agentcore.config import load_settings
    from agentcore.config import ConfigError
    from agentcore.config import apply_profile, load_profile

    try:
        loaded = load_settings(cwd=ctx.cwd, env=ctx.env, flags=getattr(ctx, "flags", None), paths=_paths(ctx))
        # The selected profile is part of the effective configuration (model, mode, rules, ...).
        profile = load_profile(loaded.settings.profile, cwd=ctx.cwd, paths=loaded.paths,
                               project_trusted=loaded.trust.trusted)  # fmt: skip
        loaded = apply_profile(loaded, profile)
    except ConfigError as exc:
        return _fail(ctx, exc)
    ctx.stdout.write(render_config(loaded, origins=bool(getattr(args, "origin", False))))
    return EXIT_OK


def render_config(loaded: LoadedConfig, *, origins: bool) -> str:
    """The effective configuration as TOML, or as ``key = value  # origin`` lines."""
    from agentcore.config import format_key
    files = ", ".join(str(f) for f in loaded.files) or "none"
    header = f"# files read: {files}\n# project {loaded.trust.root}: {loaded.trust.reason}\n"
    if loaded.trust.ignored is not None:
        header += "".join(f"#   ignored: {path}\n" for path in loaded.trust.ignored.files)
    values = {path: _masked(path, value) for path, value in loaded.values.items()}
    if not origins:
        import tomli_w

        tree: dict[str, Any] = {}
        for path, value in values.items():
            if value is None:
                continue
            node = tree
            for segment in path[:-1]:
                node = node.setdefault(segment, {})
            node[path[-1]] = _plain(value)
        return header + tomli_w.dumps(tree)
    rows = [(format_key(path), _literal(value), loaded.origins[format_key(path)]) for path, value in values.items()]
    width = max(len(f"{k} = {v}") for k, v, _ in rows)
    lines = [f"{f'{k} = {v}':<{width}}  # {o}" for k, v, o in rows]
    return header + "\n".join(lines) + "\n"


def _masked(path: KeyPath, value: Any) -> Any:
    from agentcore.config import CONFIG_SCHEMA
    key = CONFIG_SCHEMA.lookup(path)
    if key is not None and key.secret and isinstance(value, Mapping):
        return {name: MASK for name in value}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _literal(value: Any) -> str:
    """A TOML inline literal for display."""
    from agentcore.config import format_key
    match value:
        case None:
            return "(not set)"
        case bool():
            return "true" if value else "false"
        case int() | float():
            return repr(value)
        case str():
            return json.dumps(value, ensure_ascii=False)
        case list() | tuple():
            return "[" + ", ".join(_literal(v) for v in value) + "]"
        case Mapping():
            return "{" + ", ".join(f"{format_key((k,))} = {_literal(v)}" for k, v in value.items()) + "}"
        case _:
            return str(value)


def cmd_config_set(args: argparse.Namespace, ctx: CommandContext) -> int:
    from agentcore.config import ConfigError
    from agentcore.config import set_config_value
    from agentcore.config import find_project

    project = find_project(ctx.cwd)
    if getattr(args, "project", False):
        file = project.config_file
    elif getattr(args, "local", False):
        file = project.local_config_file
    else:
        file = _paths(ctx).user_config_file
    try:
        result = set_config_value(file, args.key, args.value)
    except ConfigError as exc:
        return _fail(ctx, exc)
    if result.changed:
        print(f"set {args.key} in {result.path}", file=ctx.stdout)
    else:
        print(f"{args.key} already has that value in {result.path}", file=ctx.stdout)
    if result.backup is not None:
        print(f"note: comments cannot be kept; the original file is saved as {result.backup}", file=ctx.stdout)
    return EXIT_OK


# ---------------------------------------------------------------- profiles


def cmd_profiles_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from agentcore.config import ConfigError
    from agentcore.config import list_profiles

    try:
        infos = list_profiles(cwd=ctx.cwd, paths=_paths(ctx), project_trusted=_project_trusted(ctx))
    except ConfigError as exc:
        return _fail(ctx, exc)
    if not infos:
        print("no profiles found", file=ctx.stdout)
        return EXIT_OK
    name_width = max(len(i.name) for i in infos)
    for info in infos:
        text = f"invalid: {info.error}" if info.error else info.description
        shadow = f" (overrides {len(info.shadows)} other)" if info.shadows else ""
        print(f"{info.name:<{name_width}}  {info.origin + shadow:<8}  {text}", file=ctx.stdout)
    return EXIT_OK


def cmd_profiles_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    from agentcore.config import ConfigError
    from agentcore.config import load_profile

    try:
        profile = load_profile(args.name, cwd=ctx.cwd, paths=_paths(ctx), project_trusted=_project_trusted(ctx))
    except ConfigError as exc:
        return _fail(ctx, exc)
    out = ctx.stdout
    fields = {
        "name": profile.name,
        "file": str(profile.path),
        "origin": profile.origin,
        "description": profile.description,
        "provider": profile.provider,
        "model": profile.model,
        "tools.allow": profile.effective_tools_allow,
        "tools.deny": profile.tools_deny,
        "permissions.mode": profile.mode,
        "permissions.allow": profile.rules_allow,
        "permissions.ask": profile.rules_ask,
        "permissions.deny": profile.rules_deny,
        "request_limit": profile.request_limit,
        "sampling.temperature": profile.temperature,
        "sampling.max_tokens": profile.max_tokens,
        "sampling.reasoning_effort": profile.reasoning_effort,
        "context.micro": profile.micro,
        "context.soft": profile.soft,
        "context.hard": profile.hard,
        "mcp.servers": tuple(profile.mcp_servers),
        "agents.spawn": profile.spawn,
        "inherit_project_prompt": profile.inherit_project_prompt,
    }
    for name, value in fields.items():
        if value is None or value == ():
            continue
        print(f"{name} = {_literal(value)}", file=out)
    if profile.tools_allow is None:
        print("# tools.allow not given: the safe read-only set applies", file=out)
    print("\n--- prompt ---", file=out)
    print(profile.prompt if profile.prompt else "(none)", file=out)
    return EXIT_OK


# -------------------------------------------------------------------- init


def cmd_init(args: argparse.Namespace, ctx: CommandContext) -> int:
    from agentcore.config import ConfigError
    from agentcore.config import init_user_config

    try:
        report = init_user_config(
            env=ctx.env,
            paths=_paths(ctx),
            provider=getattr(args, "init_provider", None),
            model=getattr(args, "init_model", None),
            force=bool(getattr(args, "force", False)),
        )
    except ConfigError as exc:
        return _fail(ctx, exc)
    if report.found_key_vars:
        print(f"found in the environment: {', '.join(report.found_key_vars)}", file=ctx.stdout)
    print(report.message, file=ctx.stdout)
    if report.result is not None and report.result.backup is not None:
        print(f"note: the original file is saved as {report.result.backup}", file=ctx.stdout)
    return EXIT_OK if report.provider is not None else EXIT_ERROR
