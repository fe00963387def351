"""``agent rewind [SESSION] --turn N [--code|--conversation|--both] [--list] [--json]``:
undo a saved session's file changes and/or fork its conversation, headless.

SESSION is an id or a unique prefix (default: the latest session here). Without
``--turn`` (or with ``--list``) it lists the turns. Exit 0 on success, 1 for a
problem (one line on stderr), 3 when some files were kept rather than restored
(changed since, denied or protected): the JSON says which and why.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_KEPT = 3  # the rewind ran, but some files were left as they are (listed)


def add_subparsers(subparsers: Any) -> None:
    rewind = subparsers.add_parser("rewind", help="undo a session's file changes from a turn on, or fork before it")
    rewind.add_argument("session", nargs="?", metavar="SESSION", help="session id or unique prefix (default: latest here)")
    rewind.add_argument("--turn", type=int, metavar="N", help="rewind to just before prompt N (see --list)")
    scope = rewind.add_mutually_exclusive_group()
    scope.add_argument("--code", dest="scope", action="store_const", const="code", help="restore files only")
    scope.add_argument("--conversation", dest="scope", action="store_const", const="conversation",
                       help="fork the conversation only")  # fmt: skip
    scope.add_argument("--both", dest="scope", action="store_const", const="both", help="both (the default)")
    rewind.add_argument("--force", action="store_true", help="also restore files changed since the session wrote them")
    rewind.add_argument("--list", action="store_true", help="list the turns and the files each changed")
    rewind.add_argument("--json", action="store_true", help="JSON output for scripts")
    rewind.set_defaults(func=main)


def main(args: argparse.Namespace, *, cwd: Path | None = None, env: Any = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    from agentcore.errors import AgentcoreError

    try:
        return _run(args, cwd or Path.cwd(), env if env is not None else os.environ, out)
    except AgentcoreError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_ERROR


def _run(args: argparse.Namespace, cwd: Path, env: Any, out: TextIO) -> int:
    from agentcore.app import build_app
    from agentcore.checkpoints import RewindError, RewindScope, StoredRewind, result_to_json, turn_to_json
    from agentcore.cli.app_support import latest_session_id, resolve_session_id
    from agentcore.frontend import Frontend

    app = build_app(cwd=cwd, env=env, frontend=Frontend.cli(), allow_echo=True)
    if app.store is None:
        raise RewindError("no session store is configured")
    session_id = resolve_session_id(app, args.session) if args.session else latest_session_id(app)
    if not session_id:
        raise RewindError("no saved session in this directory")
    rewind = StoredRewind(app.core, app.store, session_id)
    if args.list or args.turn is None:
        rows = rewind.turns()
        if args.json:
            print(json.dumps({"sessionId": session_id, "turns": [turn_to_json(r) for r in rows]}), file=out)
        else:
            for row in rows:
                files = f"  ({len(row.files)} file{'s' * (len(row.files) != 1)}: {', '.join(row.files[:4])})" if row.files else ""
                print(f"{row.number:>3}  {row.prompt}{files}", file=out)
        return EXIT_OK
    result = rewind.rewind(args.turn, RewindScope(args.scope or "both"), force=args.force)
    payload = {"source": session_id, **result_to_json(result)}
    if args.json:
        print(json.dumps(payload), file=out)
    else:
        _print_result(payload, out)
    return EXIT_KEPT if payload["kept"] else EXIT_OK


def _print_result(payload: dict[str, Any], out: TextIO) -> None:
    for path in payload["restored"]:
        print(f"restored {path}", file=out)
    for path in payload["deleted"]:
        print(f"deleted  {path}", file=out)
    for kept in payload["kept"]:
        print(f"kept     {kept['path']}: {kept['reason']}", file=out)
    if payload["sessionId"]:
        print(f"conversation forked before turn {payload['turn']['turn']}: {payload['sessionId']} "
              f"(agent chat --resume {payload['sessionId']}; the original is {payload['source']})", file=out)  # fmt: skip
