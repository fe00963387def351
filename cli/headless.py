"""``agent run -p PROMPT``: one turn, nobody watching.

The session is unattended (``interactive=False``): a tool call that would
ask is denied and the model is told why. Output formats:

* ``text``: the final answer on stdout; the provider notice, retries,
  denials and errors on stderr;
* ``json``: one result object on stdout (see :func:`result_object`);
* ``stream-json``: one JSON object per line — a ``session_started`` line,
  every event in :mod:`cli.event_json` form, then the ``result`` object.

The exit code says how the turn ended (``EXIT_CODES``); an action denied
because nobody could approve it turns a clean finish into 4.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import trio

from agentcore.app import AppContext
from agentcore.errors import InputError
from agentcore.events import (
    AgentEvent,
    MessageAppended,
    Notice,
    RetryScheduled,
    SavingStopped,
    ToolCallFinished,
    ToolCallStarted,
    TurnAborted,
)
from agentcore.permissions import EXIT_PLAN_MODE
from agentcore.messages import AssistantMessage, Citation, StopReason, citation_to_dict, usage_to_dict
from agentcore.session import DefaultSession, NoPendingTurn, PromptTooLarge, SessionNotFound, run_goal
from agentcore.turn import TurnAbortedError, TurnOutcome
from agentcore.cli.app_support import STARTUP_ERRORS, app_flags, selection_notice, selection_reason, session_to_open
from agentcore.cli.event_json import event_to_json

# Exit codes: one meaning each (docs/cli.md has the table). 2 is argparse's for a
# bad command line, so nothing else uses it.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # a bad command line: argparse's own errors, and no usable prompt
EXIT_REFUSAL = 3
EXIT_DENIED = 4
EXIT_CANCELLED = 5
EXIT_GOAL_NOT_REACHED = 6  # wins over a denial: the goal loop's result is what the caller asked about
EXIT_MAX_TURN_REQUESTS = 7
EXIT_NOT_SAVED = 8  # the turn ended well, but the session could not be saved (a full disk ...)
EXIT_MAX_TOKENS = 9  # was 2 before argparse's usage errors got that code to themselves
GOAL_MAX_TURNS_DEFAULT = 20  # turns before a goal loop gives up (--max-turns)
EXIT_CODES: Mapping[StopReason, int] = {
    StopReason.END_TURN: EXIT_OK,
    StopReason.MAX_TOKENS: EXIT_MAX_TOKENS,
    StopReason.REFUSAL: EXIT_REFUSAL,
    StopReason.CANCELLED: EXIT_CANCELLED,
    StopReason.MAX_TURN_REQUESTS: EXIT_MAX_TURN_REQUESTS,
}
FORMATS = ("text", "json", "stream-json")


class PromptError(InputError):
    """No usable prompt was given."""


def read_prompt(value: str | None, stdin: TextIO) -> str:
    """``-p TEXT``, ``-p -`` (stdin), or stdin when it is piped and ``-p`` is absent."""
    if value == "-" or (value is None and not _is_tty(stdin)):
        text = stdin.read()
    elif value is None:
        raise PromptError('give a prompt: agent run -p "what to do" (or -p - to read it from stdin)')
    else:
        text = value
    if not text.strip():
        raise PromptError("the prompt is empty")
    return text


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stdin
        return False


def exit_code(outcome: TurnOutcome | None, *, denials: int) -> int:
    if outcome is None:
        return EXIT_ERROR
    code = EXIT_CODES[outcome.stop_reason]
    return EXIT_DENIED if code == EXIT_OK and denials else code


def result_object(
    session: DefaultSession | None,
    outcome: TurnOutcome | None,
    *,
    error: str | None,
    denials: int,
    duration_s: float,
) -> dict[str, Any]:
    return {
        "type": "result",
        "session_id": session.id if session is not None else None,
        "provider": session.provider_name if session is not None else None,
        "model": session.model if session is not None else None,
        "stop_reason": outcome.stop_reason.value if outcome is not None else None,
        "is_error": outcome is None,
        "error": error,
        "text": outcome.text if outcome is not None else "",
        "usage": usage_to_dict(outcome.usage) if outcome is not None else None,
        "cost_usd": session.cost_usd if session is not None else 0.0,
        "requests": outcome.requests if outcome is not None else 0,
        "unattended_denials": denials,
        "duration_s": round(duration_s, 3),
        "exit_code": exit_code(outcome, denials=denials),
    }


def _line(out: TextIO, obj: Mapping[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def _stderr_view(event: AgentEvent, err: TextIO) -> None:
    """What a person running a script wants on stderr while the turn runs."""
    match event:
        case Notice(level=level, text=text):
            print(f"{level}: {text}", file=err)
        case SavingStopped(reason=reason):
            print(f"error: {reason}; the rest of this run is not saved", file=err)
        case RetryScheduled(attempt=attempt, max_attempts=most, delay_s=delay, reason=reason):
            print(f"retrying in {delay:.1f}s (attempt {attempt}/{most}): {reason}", file=err)
        case ToolCallFinished(name=name, result=result) if result.is_error and "running unattended" in result.text_content:
            print(f"denied (unattended): {name}: {result.text_content.split(', and this session')[0]}", file=err)
        case TurnAborted(error=error, error_type=kind):
            print(f"error: {kind}: {error}", file=err)
        case _:
            pass


def _keep_plan(event: AgentEvent, plans: list[str]) -> None:
    """``--mode plan``: the plan the model presents is the run's result (text: on stdout; JSON: ``plan``)."""
    if isinstance(event, ToolCallStarted) and event.name == EXIT_PLAN_MODE:
        plan = event.raw_input.get("plan")
        if isinstance(plan, str) and plan.strip():
            plans.append(plan)


def _keep_sources(event: AgentEvent, sources: dict[str, Citation]) -> None:
    """Web sources the run's answers cite (hosted web search): the result's ``citations``."""
    if isinstance(event, MessageAppended) and isinstance(event.message, AssistantMessage):
        for citation in event.message.citations:
            sources.setdefault(citation.url, citation)


async def run_prompt(
    app: AppContext,
    prompt: str | None,
    *,
    fmt: str,
    stdout: TextIO,
    stderr: TextIO,
    goal: str | None = None,
    max_turns: int = GOAL_MAX_TURNS_DEFAULT,
    session_id: str | None = None,
) -> int:
    """Run ``prompt`` (or work towards ``goal`` for up to ``max_turns`` turns) in an
    unattended session — a fresh one, or the saved ``session_id`` continued;
    print in ``fmt``; return the exit code. ``prompt=None`` continues the
    session's pending (cut-off) turn; a prompt discards such a turn first."""
    started = time.monotonic()
    goal_outcome: Any = None
    outcome: TurnOutcome | None = None
    error: str | None = None
    session: DefaultSession | None = None
    denials = 0
    plans: list[str] = []  # plans presented in plan mode (never approved here: the run ends with them)
    sources: dict[str, Citation] = {}
    try:
        async with app.core.open_session(app.session_info(interactive=False, session_id=session_id)) as session:
            for notice in session.startup_notices:
                print(f"{notice.level}: {notice.text}", file=stderr)
            print(selection_notice(session), file=stderr)
            session.events.add_observer(lambda event: _keep_plan(event, plans))
            session.events.add_observer(lambda event: _keep_sources(event, sources))
            if fmt == "stream-json":
                _line(stdout, {
                    "type": "session_started",
                    "session_id": session.id,
                    "provider": session.provider_name,
                    "model": session.model,
                    "reason": selection_reason(session),
                    "mode": session.mode.value,
                    "cwd": str(session.cwd),
                })
                session.events.add_observer(lambda event: _line(stdout, event_to_json(event)))
            elif fmt == "text":
                session.events.add_observer(lambda event: _stderr_view(event, stderr))
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_cancel_on_sigint, session)
                try:
                    if goal:
                        goal_outcome = await run_goal(session, goal, max_turns=max_turns)
                        outcome = _goal_turn_outcome(session, goal_outcome)
                    elif prompt is None:
                        outcome = await session.run_pending()
                    else:
                        outcome = await session.run_turn(prompt)
                except (TurnAbortedError, PromptTooLarge, NoPendingTurn) as exc:
                    error = str(exc)
                    if isinstance(exc, NoPendingTurn):
                        print(f"error: {exc}; give a prompt with -p", file=stderr)
                finally:
                    nursery.cancel_scope.cancel()
            denials = session.permissions.unattended_denials
    except STARTUP_ERRORS as exc:
        error = str(exc)
        print(f"error: {exc}", file=stderr)
    result = result_object(session, outcome, error=error, denials=denials, duration_s=time.monotonic() - started)
    if goal_outcome is not None:
        result["goal"] = {
            "reached": goal_outcome.reached,
            "turns": goal_outcome.turns,
            "stop": goal_outcome.stop_reason.value,
            "summary": goal_outcome.summary,
        }
        if not goal_outcome.reached and result["exit_code"] in (EXIT_OK, EXIT_DENIED):
            result["exit_code"] = EXIT_GOAL_NOT_REACHED  # denials are still counted in unattended_denials
    if plans:
        result["plan"] = plans[-1]
    if sources:
        result["citations"] = [citation_to_dict(c) for c in sources.values()]
    saving_problem = session.saving_problem if session is not None else None
    result["saved"] = saving_problem is None
    if saving_problem is not None and result["exit_code"] == EXIT_OK:
        result["exit_code"] = EXIT_NOT_SAVED
    if fmt in ("json", "stream-json"):
        _line(stdout, result)
    elif outcome is not None:
        if plans:
            stdout.write(plans[-1].rstrip("\n") + "\n\n")
        text = outcome.text
        stdout.write(text if text.endswith("\n") or not text else text + "\n")
        if sources:
            stdout.write("\nSources:\n" + "".join(f"[{n}] {c.title or c.url} <{c.url}>\n"
                                                   for n, c in enumerate(sources.values(), 1)))  # fmt: skip
        stdout.flush()
        if denials:
            print(f"{denials} action(s) were denied because nobody could approve them; "
                  "allow them with --mode or a rule in .agent/config.toml", file=stderr)
    return result["exit_code"]


def _goal_turn_outcome(session: DefaultSession, goal: Any) -> TurnOutcome:
    """A goal loop summarised as one outcome, for the result object and exit code."""
    from agentcore.session import GoalStop

    stop = {
        GoalStop.GOAL_DONE: StopReason.END_TURN,
        GoalStop.MAX_TURNS: StopReason.END_TURN,  # "not reached" is reported separately (exit 6)
        GoalStop.CANCELLED: StopReason.CANCELLED,
        GoalStop.REFUSAL: StopReason.REFUSAL,
    }[goal.stop_reason]
    return TurnOutcome(stop, session.usage, goal.summary, goal.turns)


async def _cancel_on_sigint(session: DefaultSession) -> None:
    """First Ctrl-C cancels the turn (exit code 5); a second one kills the process."""
    if not _in_main_thread():
        return
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            session.cancel()
            break
    await trio.sleep_forever()


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def open_headless_app(args: argparse.Namespace, *, cwd: Path, env: Mapping[str, str], stderr: TextIO) -> AppContext:
    """The app for ``cwd``. Nobody is there to ask: an untrusted folder's
    configuration applies only with ``--trust`` or ``trust.project_config`` in the
    user config or environment; otherwise stderr says once what was ignored."""
    from agentcore.app import build_app
    from agentcore.frontend import Frontend

    return build_app(cwd=cwd, env=env, flags=app_flags(args), frontend=Frontend.cli(), allow_echo=True,
                     on_untrusted_project=lambda trust: print(trust.notice(), file=stderr))  # fmt: skip


def main(args: argparse.Namespace) -> int:
    goal = getattr(args, "goal", None)
    max_turns = getattr(args, "max_turns", None) or GOAL_MAX_TURNS_DEFAULT
    following = bool(getattr(args, "continue_", False) or getattr(args, "resume", None))
    prompt: str | None
    try:
        prompt = "" if goal and args.prompt is None else read_prompt(args.prompt, sys.stdin)
    except PromptError as exc:
        if not (following and args.prompt is None):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        prompt = None  # --continue / --resume without a prompt: continue the cut-off turn
    try:
        app = open_headless_app(args, cwd=Path.cwd(), env=os.environ, stderr=sys.stderr)
        session_id, note = session_to_open(
            app, continue_=getattr(args, "continue_", False), resume=getattr(args, "resume", None)
        )
    except (*STARTUP_ERRORS, SessionNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if note:
        print(note, file=sys.stderr)
    return trio.run(
        lambda: run_prompt(
            app, prompt, fmt=args.format, stdout=sys.stdout, stderr=sys.stderr, goal=goal, max_turns=max_turns,
            session_id=session_id,
        )
    )
