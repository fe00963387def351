"""``agent trust``: look at what a folder would configure, and trust it (or stop).

``agent trust [PATH]`` shows the project configuration of PATH's project (the
nearest folder above it holding ``.agent/`` or ``.git``) and stores trust for
that project root; ``--revoke`` removes it, ``--list`` shows the store. The
chat frontend asks the same question once per untrusted folder
(:func:`ask_to_trust`). See :mod:`agentcore.trust` for what trust covers.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from agentcore.config import ConfigError
from agentcore.config import find_project, resolve_paths
from agentcore.trust import (
    ProjectTrust,
    TrustStore,
    home_dir,
    project_config_files,
    summarize_project_config,
)

EXIT_OK = 0
EXIT_ERROR = 1
TRUST_ANSWERS_YES = ("y", "yes")


def add_subparsers(sub: argparse._SubParsersAction) -> None:
    trust = sub.add_parser("trust", help="trust a folder's own configuration (.agent/, .mcp.json), or revoke it")
    trust.add_argument("path", nargs="?", help="a folder in the project (default: the current directory)")
    action = trust.add_mutually_exclusive_group()
    action.add_argument("--revoke", action="store_true", help="stop trusting the folder")
    action.add_argument("--list", action="store_true", help="list trusted folders")
    trust.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    return run(args, cwd=Path.cwd(), env=os.environ, stdout=sys.stdout, stderr=sys.stderr)


def run(args: argparse.Namespace, *, cwd: Path, env: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    store = TrustStore.of(resolve_paths(env))
    try:
        if args.list:
            return _list(store, stdout)
        folder = (cwd / args.path) if args.path else cwd
        if not folder.is_dir():
            print(f"error: {folder} is not a directory", file=stderr)
            return EXIT_ERROR
        root = find_project(folder).root
        if args.revoke:
            return _revoke(store, root, stdout)
        return _trust(store, root, env, stdout)
    except ConfigError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_ERROR


def _list(store: TrustStore, out: TextIO) -> int:
    entries = store.entries()
    if not entries:
        print(f"no trusted folders ({store.file})", file=out)
    for entry in entries:
        scope = "and its subfolders" if entry.covers_subfolders else "only (not its subfolders)"
        print(f"{entry.path}  {scope}  since {entry.trusted_at}", file=out)
    return EXIT_OK


def _trust(store: TrustStore, root: Path, env: Mapping[str, str], out: TextIO) -> int:
    files = project_config_files(find_project(root))
    if files:
        print(summarize_project_config(root, files).describe(), file=out)
    else:
        print(f"{root} has no project configuration yet", file=out)
    entry = store.trust(root, home=home_dir(env))
    scope = "" if entry.covers_subfolders else " (this folder only: home and / never cover their subfolders)"
    print(f"trusted {entry.path}{scope}; its configuration now applies", file=out)
    return EXIT_OK


def _revoke(store: TrustStore, root: Path, out: TextIO) -> int:
    removed = store.revoke(root)
    print(f"{'no longer trusted' if removed else 'was not trusted itself'}: {root}", file=out)
    still = store.covering(root)
    if still is not None:
        print(f"note: it is still trusted through {still.path}; revoke that to stop", file=out)
    return EXIT_OK


def ask_to_trust(
    trust: ProjectTrust,
    *,
    store: TrustStore,
    home: Path | None,
    read_line: Callable[[], str],
    write: Callable[[str], None],
) -> bool:
    """The chat start-up question for an untrusted folder with configuration.
    ``y`` stores trust (the answer holds for later runs); anything else goes on
    without the project's configuration this time and asks again next time."""
    assert trust.ignored is not None
    write(trust.ignored.describe() + "\n")
    write("This folder is not trusted. Its configuration can run commands (hooks, MCP servers), "
          "change permissions and choose where requests go.\n")  # fmt: skip
    write(f"Trust {trust.root} and apply it? [y/N] ")
    try:
        answer = read_line().strip().lower()
    except EOFError:
        answer = ""
    if answer in TRUST_ANSWERS_YES:
        store.trust(trust.root, home=home)
        write(f"trusted {trust.root}\n")
        return True
    write("continuing without this folder's configuration (you will be asked again next time)\n")
    return False


# ------------------------------------------------------------ frontends


def review_folder(args: argparse.Namespace, *, cwd: Path, env: Mapping[str, str],
                  read_line: Callable[[], str], write: Callable[[str], None]) -> None:  # fmt: skip
    """Before ``agent chat`` opens: ask once when ``cwd``'s project is untrusted
    and has configuration. A configuration error is left to the app to report."""
    from agentcore.config import load_settings

    try:
        loaded = load_settings(cwd=cwd, env=env, flags={"trust.project_config": getattr(args, "trust", None)})
    except ConfigError:
        return
    if loaded.trust.ignored is not None:
        ask_to_trust(loaded.trust, store=TrustStore.of(loaded.paths), home=home_dir(env), read_line=read_line,
                     write=write)  # fmt: skip
