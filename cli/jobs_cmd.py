"""``agent jobs submit|list|show|cancel|approve``: durable agent jobs on Temporal.

A job is a goal loop (``agent run --goal``) run by ``agent worker`` processes as
a Temporal workflow (docs/scale.md). These commands talk to Temporal only;
``show --follow`` also reads the job's session journal (progress is there, not
in workflow history), so it needs the same session store as the workers.
Every failure is one line on stderr with exit code 1 (usage errors: 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, TextIO

import attrs
from agentcore.cli.parser import MODES

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_GOAL_NOT_REACHED = 6  # as agent run --goal
TEMPORAL_ENV = "AGENTCORE_TEMPORAL"  # host:port when --temporal is not given
QUEUE_DEFAULT = "agentcore"
FOLLOW_POLL_S = 0.5  # how often --follow reads the journal for new messages
PREVIEW_CHARS = 300  # per message in --follow
NEEDS_EXTRA = "error: durable jobs need the temporal extra: pip install 'agentcore[temporal]'"


@attrs.frozen
class JobsContext:
    env: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO


def temporal_address(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    from agentcore.jobs import DEFAULT_ADDRESS

    return getattr(args, "temporal", None) or env.get(TEMPORAL_ENV) or DEFAULT_ADDRESS


def add_temporal(p: argparse.ArgumentParser) -> None:
    p.add_argument("--temporal", metavar="HOST:PORT", help=f"Temporal frontend (default: ${TEMPORAL_ENV} or 127.0.0.1:7233)")


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def add_subparsers(subparsers: Any) -> None:
    jobs = subparsers.add_parser("jobs", help="durable agent jobs on Temporal (submit, list, show, cancel, approve)")
    sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="{submit,list,show,cancel,approve}")
    submit = sub.add_parser("submit", help="start a job: work on a goal in a clone of a repository")
    submit.add_argument("--goal", required=True, help="what the agent should achieve")
    submit.add_argument("--repo", required=True, metavar="PATH_OR_GIT_URL", help="repository each worker clones")
    submit.add_argument("--profile", metavar="NAME", help="profile the job's session uses")
    submit.add_argument("--mode", choices=MODES, help="permission mode (default: the profile's; asks wait for approve)")
    submit.add_argument("--queue", default=QUEUE_DEFAULT, help=f"the workers' shared task queue (default {QUEUE_DEFAULT})")
    submit.add_argument("--max-turns", type=_positive(int), default=None, help="turns before the job gives up (default 20)")
    submit.add_argument("--approval-timeout", type=_positive(float), default=None, metavar="S",
                        help="seconds an approval may wait before the call is denied and the job fails (default 600)")
    submit.add_argument("--heartbeat-timeout", type=_positive(float), default=None, metavar="S",
                        help="a turn silent this long is presumed lost with its worker (default 10; cancel arrives within 0.8 of it)")
    submit.add_argument("--failover-after", type=_positive(float), default=None, metavar="S",
                        help="a lost worker's turn moves to another worker after this long (default 30)")
    submit.add_argument("--wait", action="store_true", help="wait for the job to end; exit 0 reached, 6 not, 1 failed")
    submit.add_argument("--json", action="store_true", help="print a JSON object")
    add_temporal(submit)
    submit.set_defaults(func=_entry(cmd_submit))
    list_ = sub.add_parser("list", help="jobs, newest first")
    list_.add_argument("--json", action="store_true", help="one JSON object per line")
    add_temporal(list_)
    list_.set_defaults(func=_entry(cmd_list))
    show = sub.add_parser("show", help="a job's status, worker, session and pending approvals")
    show.add_argument("job", metavar="JOB")
    show.add_argument("--follow", action="store_true", help="print the session's messages as they are recorded until the job ends")
    show.add_argument("--json", action="store_true", help="print a JSON object")
    add_temporal(show)
    show.set_defaults(func=_entry(cmd_show))
    cancel = sub.add_parser("cancel", help="cancel a job (its running turn stops)")
    cancel.add_argument("job", metavar="JOB")
    add_temporal(cancel)
    cancel.set_defaults(func=_entry(cmd_cancel))
    approve = sub.add_parser("approve", help="answer a job's pending approval")
    approve.add_argument("job", metavar="JOB")
    approve.add_argument("call_id", metavar="CALL_ID", help="the tool call's id (agent jobs show lists them)")
    approve.add_argument("decision", choices=("allow", "deny"))
    add_temporal(approve)
    approve.set_defaults(func=_entry(cmd_approve))


def _entry(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        return exit_now(main(command, args, JobsContext(os.environ, sys.stdout, sys.stderr)))

    return run


def exit_now(code: int) -> int:
    """End the process with ``code`` once output is flushed. The Temporal SDK's
    native runtime keeps threads that can abort the interpreter while it
    finalises (SIGABRT in PyGILState_Release), so a command that used it does
    not go through interpreter shutdown."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(command: Any, args: argparse.Namespace, ctx: JobsContext) -> int:
    from agentcore.errors import AgentcoreError

    try:
        return asyncio.run(command(args, ctx))
    except AgentcoreError as exc:
        print(f"error: {exc}", file=ctx.stderr)
        return EXIT_ERROR
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "temporalio":
            raise
        print(NEEDS_EXTRA, file=ctx.stderr)
        return EXIT_ERROR


async def _client(args: argparse.Namespace, ctx: JobsContext) -> Any:
    from agentcore.jobs import connect

    return await connect(temporal_address(args, ctx.env))


def _spec(args: argparse.Namespace) -> Any:
    from agentcore.jobs import JobSpec, new_job_id

    limits = {
        "max_turns": args.max_turns, "approval_timeout_s": args.approval_timeout,
        "heartbeat_timeout_s": args.heartbeat_timeout, "failover_after_s": args.failover_after,
    }  # fmt: skip
    return JobSpec(job_id=new_job_id(), goal=args.goal, repo=args.repo, queue=args.queue, profile=args.profile,
                     mode=args.mode, **{k: v for k, v in limits.items() if v is not None})  # fmt: skip


async def cmd_submit(args: argparse.Namespace, ctx: JobsContext) -> int:
    from agentcore import jobs

    if not args.goal.strip():
        print("error: the goal is empty", file=ctx.stderr)
        return EXIT_USAGE
    repo = args.repo
    if "://" not in repo and "@" not in repo and not os.path.isdir(repo):
        print(f"error: --repo {repo!r} is neither a directory nor a git URL", file=ctx.stderr)
        return EXIT_USAGE
    spec = _spec(args)
    if os.path.isdir(repo):
        spec = type(spec)(**{**asdict(spec), "repo": os.path.abspath(repo)})
    client = await _client(args, ctx)
    job_id = await jobs.submit(client, spec)
    if not args.wait:
        _print(ctx, {"job": job_id}, job_id, args.json)
        return EXIT_OK
    try:
        outcome = await jobs.result(client, job_id)
    except jobs.JobError as exc:
        _print(ctx, {"job": job_id, "error": str(exc)}, f"{job_id}: {exc}", args.json)
        return EXIT_ERROR
    text = f"{job_id}: {'reached' if outcome.reached else 'not reached'} ({outcome.stop}, {outcome.turns} turns)\n{outcome.summary}"
    _print(ctx, {"job": job_id, **asdict(outcome)}, text, args.json)
    return EXIT_OK if outcome.reached else EXIT_GOAL_NOT_REACHED


async def cmd_list(args: argparse.Namespace, ctx: JobsContext) -> int:
    from agentcore import jobs

    rows = await jobs.list_jobs(await _client(args, ctx))
    for row in rows:
        if args.json:
            ctx.stdout.write(json.dumps(attrs.asdict(row)) + "\n")
        else:
            ctx.stdout.write(f"{row.job_id}  {row.status:<10}  {row.started}\n")
    if not rows and not args.json:
        ctx.stdout.write("no jobs\n")
    return EXIT_OK


def _show_text(job_id: str, status: str, state: Any) -> str:
    lines = [f"job {job_id}: {status} ({state.phase}, turn {state.turn})"]
    if state.worker:
        lines.append(f"worker: {state.worker}  workspace: {state.workspace}")
    if state.session_id:
        lines.append(f"session: {state.session_id}")
    if state.failovers:
        lines.append(f"moved to another worker {state.failovers} time(s)")
    for p in state.pending:
        lines.append(f"waiting for approval: {p.call_id}  {p.tool}: {p.title}   (agent jobs approve {job_id} {p.call_id} allow|deny)")
    if state.outcome is not None:
        o = state.outcome
        lines.append(f"{'reached' if o.reached else 'not reached'}: {o.stop} after {o.turns} turn(s)")
        if o.summary:
            lines.append(o.summary)
    return "\n".join(lines)


async def cmd_show(args: argparse.Namespace, ctx: JobsContext) -> int:
    from agentcore import jobs

    client = await _client(args, ctx)
    status, state = await jobs.describe(client, args.job)
    if args.follow:
        await _follow(client, args.job, ctx)
        status, state = await jobs.describe(client, args.job)
    _print(ctx, {"job": args.job, "status": status, **asdict(state)}, _show_text(args.job, status, state), args.json)
    return EXIT_OK


async def _follow(client: Any, job_id: str, ctx: JobsContext) -> None:
    """Print the job's session messages as the journal records them, until the job closes."""
    from agentcore import jobs

    store = await asyncio.to_thread(_session_store, ctx.env)
    closed = asyncio.ensure_future(jobs.wait_closed(client, job_id))
    printed = 0
    try:
        while True:
            done = closed.done()
            _, state = await jobs.describe(client, job_id)
            if state.session_id is not None and store is not None:
                messages = await asyncio.to_thread(_messages, store, state.session_id)
                for message in messages[printed:]:
                    ctx.stdout.write(_message_line(message) + "\n")
                ctx.stdout.flush()
                printed = max(printed, len(messages))
            if done:
                return
            await asyncio.wait([closed], timeout=FOLLOW_POLL_S)
    finally:
        closed.cancel()


def _session_store(env: Mapping[str, str]) -> Any:
    """The configured session store (journal files or PostgreSQL), as the workers use it."""
    from pathlib import Path

    from agentcore.app import build_app
    from agentcore.frontend import Frontend

    return build_app(cwd=Path.cwd(), env=env, frontend=Frontend.cli()).core.loader


def _messages(store: Any, session_id: str) -> list[Any]:
    """Every message journaled so far, the running turn's included (read without the session's lock)."""
    from agentcore.errors import AgentcoreError

    try:
        return [entry.message for entry in store.open_read_only(session_id).transcript]
    except AgentcoreError:
        return []  # not in this store (yet): the job may run against another store


def _message_line(message: Any) -> str:
    from agentcore.messages import (
        AssistantMessage,
        TextBlock,
        ToolResultMessage,
        ToolUseBlock,
        UserMessage,
    )

    if isinstance(message, UserMessage):
        return f"> {message.text[:PREVIEW_CHARS]}"
    if isinstance(message, AssistantMessage):
        parts = [b.text for b in message.content if isinstance(b, TextBlock) and b.text]
        parts += [f"[{b.name} {json.dumps(dict(b.input))[:PREVIEW_CHARS]}]" for b in message.content if isinstance(b, ToolUseBlock)]
        return " ".join(parts)[: PREVIEW_CHARS * 2]
    if isinstance(message, ToolResultMessage):
        return "  = tool result"
    return f"({type(message).__name__})"


async def cmd_cancel(args: argparse.Namespace, ctx: JobsContext) -> int:
    from agentcore import jobs

    await jobs.cancel(await _client(args, ctx), args.job)
    ctx.stdout.write(f"cancelling {args.job}\n")
    return EXIT_OK


async def cmd_approve(args: argparse.Namespace, ctx: JobsContext) -> int:
    from agentcore import jobs

    await jobs.approve(await _client(args, ctx), args.job, args.call_id, args.decision)
    ctx.stdout.write(f"{args.call_id}: {args.decision}\n")
    return EXIT_OK


def _print(ctx: JobsContext, obj: Mapping[str, Any], text: str, as_json: bool) -> None:
    ctx.stdout.write((json.dumps(obj, default=str) if as_json else text) + "\n")
    ctx.stdout.flush()
