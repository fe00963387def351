"""``agent sessions list|show ID [--full]|rm ID|migrate --to URL``: the stored sessions.

``cli/main.py`` calls :func:`add_subparsers`; each command's ``func(args)``
runs it against the real environment. Tests and embedders call :func:`main`
with a :class:`SessionsContext` instead (``env`` decides where sessions live:
``AGENTCORE_HOME`` or the platform state directory).

``list`` marks with :data:`LIVE_MARK` the sessions live in a running
``agent serve`` (asked over its socket, :func:`cli.serve_client.live_sessions`;
with no server there is nothing to ask and nothing to wait for).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import attrs

EXIT_OK = 0
EXIT_ERROR = 1
PREVIEW_CHARS = 400  # per message in `show`; `--full` prints everything
SHOW_LAST_DEFAULT = 50  # messages `show` prints unless --last or --all say otherwise: a screenful or two
ARGS_PREVIEW_CHARS = 120  # tool-call arguments shown inline
SMALLEST_COST_USD = 0.0001  # costs are shown to four decimals; below that, "<$0.0001"
LIVE_MARK = "●"  # in `list`: live in agent serve, `agent chat --attach ID` joins it


@attrs.frozen
class SessionsContext:
    cwd: Path
    env: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    width: int | None = None  # console width; None detects the terminal
    color: bool = True


def add_subparsers(subparsers: Any) -> None:
    """Register ``sessions`` on ``parser.add_subparsers()``."""
    sessions = subparsers.add_parser("sessions", help="list, show and remove saved sessions")
    sub = sessions.add_subparsers(dest="sessions_command", required=True, metavar="{list,show,rm,migrate}")
    list_ = sub.add_parser("list", help="sessions in this directory, newest first")
    list_.add_argument("--all", action="store_true", help="sessions from every directory")
    list_.add_argument("--json", action="store_true", help="one JSON object per line, for scripts")
    list_.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                       help="only sessions whose metadata KEY is VALUE (repeatable: all must match)")
    list_.set_defaults(func=_entry(cmd_list))
    show = sub.add_parser("show", help="print a session's details and conversation")
    show.add_argument("id", metavar="ID", help="session id (a unique prefix is enough)")
    show.add_argument("--full", action="store_true", help="also messages replaced by compaction or rolled back, untruncated")
    show.add_argument("--revisions", action="store_true", help="list the transcript's revisions (rewrites of history)")
    pages = show.add_mutually_exclusive_group()
    pages.add_argument("--last", type=int, metavar="N", default=SHOW_LAST_DEFAULT,
                       help=f"print the last N messages (default {SHOW_LAST_DEFAULT})")
    pages.add_argument("--all", action="store_true", help="print every message")
    show.set_defaults(func=_entry(cmd_show))
    rm = sub.add_parser("rm", help="delete a session")
    rm.add_argument("id", metavar="ID", help="session id (a unique prefix is enough)")
    rm.set_defaults(func=_entry(cmd_rm))
    migrate = sub.add_parser("migrate", help="copy the session files into a database (run again: copies only new ones)")
    migrate.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/db (then set [store] url)")
    migrate.set_defaults(func=_entry(cmd_migrate))


def main(argv: Sequence[str], ctx: SessionsContext) -> int:
    """Run ``agent sessions ARGV`` against ``ctx`` (no process-wide state)."""
    parser = argparse.ArgumentParser(prog="agent")
    add_subparsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sessions", *argv])
    args.context = ctx
    return int(args.func(args))


def _entry(command: Callable[[argparse.Namespace, SessionsContext], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        ctx = getattr(args, "context", None) or SessionsContext(Path.cwd(), os.environ, sys.stdout, sys.stderr)
        from agentcore.app import AppError
        from agentcore.config import ConfigError
        from agentcore.core import SessionNotFound
        from agentcore.store import JournalError

        try:
            return command(args, ctx)
        except (SessionNotFound, JournalError, AppError, ConfigError) as exc:
            _console(ctx, ctx.stderr).print(f"error: {exc}", style="red", markup=False, highlight=False)
            return EXIT_ERROR

    return run


def _store(ctx: SessionsContext) -> Any:
    """The configured store: session files, or the database of ``[store] url``."""
    from agentcore.app import open_session_store
    from agentcore.config import load_settings, resolve_paths

    paths = resolve_paths(ctx.env)
    return open_session_store(load_settings(cwd=ctx.cwd, env=ctx.env, paths=paths).settings, paths)


def _console(ctx: SessionsContext, file: TextIO) -> Any:
    from rich.console import Console

    width = ctx.width
    if width is None and not _is_terminal(file):
        width = PIPED_WIDTH  # piped into grep or less: one line per row, never wrapped at 80 columns
    return Console(file=file, width=width, no_color=not ctx.color, highlight=False, soft_wrap=False)


def _is_terminal(file: TextIO) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False


PIPED_WIDTH = 10_000  # columns when the output is not a terminal


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _cost(usd: float) -> str:
    if not usd:
        return "-"
    return f"${usd:.4f}" if usd >= SMALLEST_COST_USD else f"<${SMALLEST_COST_USD}"


# ------------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace, ctx: SessionsContext) -> int:
    from rich.table import Table
    from rich.text import Text

    from agentcore.cli.serve_client import live_sessions

    store = _store(ctx)
    try:
        wanted = _meta_filters(getattr(args, "meta", None) or [])
    except ValueError as exc:
        _console(ctx, ctx.stderr).print(f"error: {exc}", style="red", markup=False, highlight=False)
        return EXIT_ERROR
    scan = store.scan(cwd=None if args.all else ctx.cwd)
    scan = attrs.evolve(scan, sessions=tuple(s for s in scan.sessions if _meta_matches(s.metadata, wanted)))
    out = _console(ctx, ctx.stdout)
    live = live_sessions(ctx.env) if scan.sessions else None  # None: no server runs
    live_ids = {s.id for s in live or ()} & {s.id for s in scan.sessions}
    if getattr(args, "json", False):
        for s in scan.sessions:
            row = {"id": s.id, "cwd": str(s.cwd), "title": s.title, "updated": s.updated,
                   "messages": s.message_count, "cost_usd": s.cost_usd, "live": s.id in live_ids,
                   "metadata": dict(s.metadata)}  # fmt: skip
            ctx.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        for problem in scan.problems:
            _console(ctx, ctx.stderr).print(f"cannot read {problem}", style="yellow", markup=False)
        return EXIT_OK
    if not scan.sessions:
        where = ("" if args.all else f" in {ctx.cwd}") + (" with that metadata" if wanted else "")
        hint = "" if args.all else " (--all lists every directory)"
        out.print(f"No saved sessions{where}{hint}.", markup=False)
    else:
        table = Table(box=None, header_style="bold", pad_edge=False)
        if live_ids:
            table.add_column("", no_wrap=True, style="green")
        table.add_column("ID", no_wrap=True, style="cyan")
        table.add_column("Updated", no_wrap=True)
        table.add_column("Title", overflow="ellipsis")
        table.add_column("Msgs", justify="right")
        table.add_column("Cost", justify="right")
        if args.all:
            table.add_column("Directory", overflow="fold")
        for s in scan.sessions:
            # Text cells: a title is user text, never rich markup.
            row = [s.id, _when(s.updated), s.title or "(untitled)", str(s.message_count), _cost(s.cost_usd)]
            if live_ids:
                row.insert(0, LIVE_MARK if s.id in live_ids else "")
            table.add_row(*(Text(cell) for cell in (*row, *([str(s.cwd)] if args.all else []))))
        out.print(table)
        if live_ids:
            out.print(Text(f"{LIVE_MARK} live in agent serve: `agent chat --attach ID` joins it", style="dim"))
    err = _console(ctx, ctx.stderr)
    for problem in scan.problems:
        err.print(f"cannot read {problem}", style="yellow", markup=False)
    return EXIT_OK


# ------------------------------------------------------------------- show


def cmd_show(args: argparse.Namespace, ctx: SessionsContext) -> int:
    from rich.text import Text

    from agentcore.messages import AssistantMessage, ToolResultMessage, UserMessage
    from agentcore.store import MessageFate

    store = _store(ctx)
    stored = store.open_read_only(store.resolve(args.id))
    snap = stored.snapshot
    out = _console(ctx, ctx.stdout)
    out.print(Text(snap.title or "(untitled)", style="bold"))
    facts = [
        ("id", snap.id),
        ("directory", str(snap.cwd)),
        ("created", _when(stored.created)),
        ("updated", _when(snap.updated)),
        ("model", f"{snap.provider}/{snap.model}"),
        ("mode", snap.mode.value if snap.mode else "-"),
        ("profile", snap.profile or "-"),
        ("messages", str(len(snap.messages))),
        ("cost", _cost(snap.cost_usd)),
    ]
    if stored.fork is not None:
        facts.append(("forked from", f"{stored.fork.source_id} at message {stored.fork.at}"))
    if stored.mcp_servers:
        facts.append(("mcp servers", ", ".join(stored.mcp_servers)))
    pending = snap.pending_turn
    if stored.interrupted_turn is not None:
        facts.append(("note", "the last turn did not finish (crashed, or still running elsewhere)"))
        facts += [("running", f"{tool.name}: {tool.command}") for tool in stored.interrupted_tools]
    if pending is not None:
        continues = "`agent run --resume ID` without a prompt continues it"
        facts.append(("pending", f"an interrupted turn ({len(pending.messages)} messages): {continues}"))
        if stored.interrupted_turn is None:
            facts += [("cut off", f"{c.name}: {c.command}") for c in pending.interrupted_tools if not c.finished]
    if snap.revisions and len(snap.revisions) > 1:
        facts.append(("revision", f"{snap.revisions[-1].id} ({len(snap.revisions) - 1} rewrites; --revisions lists them)"))
    facts += [(f"meta {key}", _meta_text(value)) for key, value in sorted(snap.metadata.items())]
    for key, value in facts:
        out.print(Text.assemble((f"{key:>12}  ", "dim"), value))
    if getattr(args, "revisions", False):
        _print_revisions(out, snap.revisions)
        return EXIT_OK
    if snap.plan:
        out.print(Text("\nplan", style="bold"))
        for entry in snap.plan:
            out.print(Text(f"  [{entry.status}] {entry.content}"))
    out.print()
    shown = [e for e in stored.transcript if args.full or e.fate is MessageFate.LIVE]
    hidden = len(stored.transcript) - len(shown)
    last = len(shown) if args.all else max(args.last, 0)
    if len(shown) > last:
        out.print(Text(f"(the last {last} of {len(shown):,} messages; --all or --last N for more)", style="dim"))
        out.print()
        shown = shown[len(shown) - last :]
    for entry in shown:
        message = entry.message
        tag = "" if entry.fate is MessageFate.LIVE else f" [{entry.fate.value}]"
        match message:
            case UserMessage():
                label = "you" if message.kind.value == "prompt" else message.kind.value
                _block(out, f"{label}{tag}", message.text, "green", full=args.full)
            case AssistantMessage():
                _block(out, f"assistant{tag}", message.text, "blue", full=args.full, calls=message.tool_uses)
            case ToolResultMessage():
                for result in message.results:
                    style = "red" if result.is_error else "dim"
                    _block(out, f"tool result{tag}", result.text, style, full=args.full)
    if hidden:
        out.print(Text(f"({hidden} messages not in the history: summarised, rolled back or pending; --full shows them)",
                       style="dim"))
    return EXIT_OK


def _print_revisions(out: Any, revisions: Sequence[Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    out.print()
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("revision", "parent", "reason", "actor", "when", "detail"):
        table.add_column(column, no_wrap=column != "detail")
    for rev in revisions:
        when = _when(rev.ts) if rev.ts else "-"
        table.add_row(*(Text(cell) for cell in (rev.id, rev.parent or "-", rev.reason, rev.actor or "-", when, rev.detail)))
    out.print(table)


def _meta_text(value: Any) -> str:
    from agentcore.session import metadata_text

    return metadata_text(value)


def _meta_filters(specs: Sequence[str]) -> list[tuple[str, str]]:
    """``--meta KEY=VALUE`` pairs; a spec without ``=`` is a ValueError (one line)."""
    out = []
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep or not key:
            raise ValueError(f"--meta wants KEY=VALUE, got {spec!r}")
        out.append((key, value))
    return out


def _meta_matches(metadata: Any, wanted: Sequence[tuple[str, str]]) -> bool:
    """Every wanted key is set, and its value written as on a command line
    (``42``, ``true``, ``null``, text as it is) equals the wanted text."""
    return all(key in metadata and _meta_text(metadata[key]) == value for key, value in wanted)


def _clip(text: str, limit: int, *, full: bool) -> str:
    return text if full or len(text) <= limit else text[: limit - 1] + "…"


def _block(out: Any, label: str, body: str, style: str, *, full: bool, calls: Sequence[Any] = ()) -> None:
    from rich.text import Text

    from agentcore.messages import thaw_json

    if not body and not calls:
        return
    out.print(Text(label, style=f"bold {style}"))
    if body:
        out.print(Text(_clip(body, PREVIEW_CHARS, full=full)))
    for use in calls:
        arguments = _clip(json.dumps(thaw_json(use.input), ensure_ascii=False), ARGS_PREVIEW_CHARS, full=full)
        out.print(Text(f"→ {use.name} {arguments}", style="magenta"))
    out.print()


# --------------------------------------------------------------------- rm


def cmd_rm(args: argparse.Namespace, ctx: SessionsContext) -> int:
    store = _store(ctx)
    session_id = store.resolve(args.id)
    store.delete(session_id)
    _console(ctx, ctx.stdout).print(f"Removed session {session_id}.", markup=False)
    return EXIT_OK


# ---------------------------------------------------------------- migrate


def cmd_migrate(args: argparse.Namespace, ctx: SessionsContext) -> int:
    from agentcore.app import AppError
    from agentcore.config import resolve_paths
    from agentcore.store import JournalStore, PgSessionStore, migrate_sessions

    if not args.to.startswith(("postgresql://", "postgres://")):
        raise AppError("--to must be a postgresql:// URL")
    source = JournalStore(resolve_paths(ctx.env).sessions_dir)
    with PgSessionStore(args.to) as target:
        report = migrate_sessions(source, target)
        where = target.url_label
    out = _console(ctx, ctx.stdout)
    out.print(f"Copied {len(report.copied)} sessions to {where}; {len(report.skipped)} were already there.", markup=False)
    err = _console(ctx, ctx.stderr)
    for session_id, why in report.failed:
        err.print(f"error: {session_id} not copied: {why}", style="red", markup=False, highlight=False)
    return EXIT_ERROR if report.failed else EXIT_OK
