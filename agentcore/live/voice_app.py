"""The ``agent voice`` frontend: a live (rich) view of one voice conversation
over a session. Usage is described in :data:`agentcore.live.cli.DESCRIPTION`;
this module loads only when the command runs."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import trio
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentcore.errors import AgentcoreError
from agentcore.live.backend import BackendError, SpeechBackend
from agentcore.live.choices import BACKENDS
from agentcore.live.flow import LiveUpdate, NoticeUpdate, StateUpdate, TranscriptUpdate
from agentcore.live.outcome import CloseReason, VoiceSummary
from agentcore.live.state import VoiceState
from agentcore.live.style import NEUTRAL, SpeechStyle
from agentcore.live.voice_settings import voice_options

TRANSCRIPT_LINES = 14  # lines of transcript kept on screen


def main(args: argparse.Namespace) -> int:
    return run_voice(args, env=os.environ, cwd=Path.cwd())


class VoiceView:
    """What the terminal shows while the conversation runs."""

    def __init__(self) -> None:
        self.state = VoiceState.CONNECTING
        self.lines: list[tuple[str, str]] = []
        self.partial: dict[str, tuple[str, str]] = {}
        self.notices: list[str] = []
        self.metrics: Any = None

    def update(self, event: LiveUpdate) -> None:
        match event:
            case StateUpdate(state=state):
                self.state = state
            case TranscriptUpdate(role=role, item_id=item, text=text, final=final):
                if final:
                    self.partial.pop(item, None)
                    self.lines.append((role, text))
                    del self.lines[:-TRANSCRIPT_LINES]
                else:
                    self.partial[item] = (role, text)
            case NoticeUpdate(level=level, text=text):
                self.notices = (self.notices + [f"{level}: {text}"])[-3:]

    def __rich__(self) -> Group:
        body = Text()
        for role, text in self.lines + list(self.partial.values()):
            body.append(f"{role:>9}: ", style="bold cyan" if role == "user" else "bold green")
            body.append(text + "\n")
        status = f"state: {self.state.value}"
        if self.metrics is not None:
            m = self.metrics
            status += f"   turns {len(m.turns)}   interruptions {m.interruptions}   tools {m.tool_calls}   reconnects {m.reconnects}"
        parts: list[Any] = [Panel(body or Text("(listening)"), title="transcript"), Text(status, style="bold")]
        parts += [Text(n, style="yellow") for n in self.notices]
        return Group(*parts)


def summary_table(metrics: Any, backend: str) -> Table:
    table = Table(title=f"voice session ({backend})")
    table.add_column("metric")
    table.add_column("value")
    for name, value in metrics.summary():
        table.add_row(name, value)
    return table


def _key(env: Mapping[str, str], *names: str) -> str:
    for name in names:
        if env.get(name):
            return env[name]
    raise BackendError(f"set {' or '.join(names)} to use this backend")


KEYS = {"openai-realtime": ("OPENAI_API_KEY",), "gemini-live": ("GEMINI_API_KEY", "GOOGLE_API_KEY")}


CLOSE_WORDS = {
    CloseReason.TRANSPORT_CLOSED: "the input ended",
    CloseReason.BACKEND_FINISHED: "the backend ended the conversation",
    CloseReason.POLICY_ENDED: "ended by a rule",
    CloseReason.ERROR: "error",
}


def backend_factory(
    name: str, session: Any, env: Mapping[str, str], model: str | None, *, style: SpeechStyle = NEUTRAL, stt_model: Path | None = None
) -> Callable[[], SpeechBackend]:
    match name:
        case "cascade":
            from agentcore.live.cascade import CascadeBackend

            return lambda: CascadeBackend(session, style=style, stt_model=stt_model)
        case "openai-realtime":
            from agentcore.live.openai_realtime import (
                OPENAI_REALTIME_MODEL,
                OpenAIRealtimeBackend,
            )

            key = _key(env, *KEYS[name])
            url = env.get("AGENTCORE_OPENAI_REALTIME_URL")
            extra = {"url": url} if url else {}
            return lambda: OpenAIRealtimeBackend(api_key=key, model=model or OPENAI_REALTIME_MODEL, style=style, **extra)
        case "gemini-live":
            from agentcore.live.gemini_live import GEMINI_LIVE_MODEL, GeminiLiveBackend

            key = _key(env, *KEYS[name])
            url = env.get("AGENTCORE_GEMINI_LIVE_URL")
            extra = {"url": url} if url else {}
            return lambda: GeminiLiveBackend(api_key=key, model=model or GEMINI_LIVE_MODEL, style=style, **extra)
    raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


def _transport(args: argparse.Namespace) -> Any:
    if args.input is not None:
        from agentcore.live.transport import WavFileTransport

        if args.speaker:
            raise BackendError("--speaker needs --mic (file input plays to --output)")
        return WavFileTransport(args.input, args.output, paced=not args.fast)
    from agentcore.live.devices import DeviceTransport

    return DeviceTransport(use_mic=True, use_speaker=args.output is None)


def run_voice(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str],
    cwd: Path,
    console: Console | None = None,
    user_config_dir: Path | None = None,
) -> int:
    from agentcore.app import AppError, build_app
    from agentcore.frontend import Frontend
    from agentcore.live.audio import AudioFormatError

    console = console or Console()
    flags = {name: getattr(args, name, None) for name in ("profile", "provider", "model", "trust")}
    try:
        app = build_app(cwd=cwd, env=env, flags=flags, frontend=Frontend.voice(), user_config_dir=user_config_dir)
        if args.backend in KEYS:
            _key(env, *KEYS[args.backend])  # fail before any audio is touched
        options = voice_options(app.settings, cwd)  # the same reading as agent serve's /voice
        style, stt_model = options.style, options.stt_model
        if args.backend == "cascade":
            from agentcore.live.cascade import check_cascade

            check_cascade(stt_model=stt_model)
        transport = _transport(args)
    except (AppError, AgentcoreError, AudioFormatError, OSError) as exc:
        console.print(f"[red]agent voice:[/] {exc}")
        return 2
    try:
        return trio.run(_converse, app, args, env, transport, console, style, stt_model)
    except AgentcoreError as exc:  # a known condition while opening the session (a missing key, ...)
        console.print(f"[red]agent voice:[/] {exc}")
        return 1
    except BaseExceptionGroup as group:
        known = _known_error(group)
        if known is None:
            raise
        console.print(f"[red]agent voice:[/] {known}")
        return 1


def _known_error(group: BaseExceptionGroup) -> AgentcoreError | None:
    """The error to show when every leaf of ``group`` is a known condition."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        else:
            leaves.append(exc)
    if leaves and all(isinstance(leaf, AgentcoreError) for leaf in leaves):
        return leaves[0]  # type: ignore[return-value]
    return None


async def _converse(
    app: Any, args: argparse.Namespace, env: Mapping[str, str], transport: Any, console: Console, style: SpeechStyle, stt_model: Path | None
) -> int:
    from agentcore.live.controller import VoiceConfig, VoiceController
    from agentcore.live.snapshot import SnapshotStore

    view = VoiceView()
    async with app.core.open_session(app.session_info(interactive=False)) as session:
        for notice in session.startup_notices:
            view.notices.append(f"{notice.level}: {notice.text}")
        factory = backend_factory(args.backend, session, env, args.voice_model, style=style, stt_model=stt_model)
        fallback = None
        if args.backend != "cascade" and not args.no_fallback:
            fallback = backend_factory("cascade", session, env, None, style=style, stt_model=stt_model)
        snapshots = SnapshotStore(app.paths.state_dir / "voice" / f"{session.id}.json")
        controller = VoiceController(session, transport, factory, fallback=fallback, snapshots=snapshots, config=VoiceConfig(style=style))
        view.metrics = controller.metrics
        with Live(view, console=console, auto_refresh=False, transient=False) as live:

            def on_update(update: LiveUpdate) -> None:
                view.update(update)
                live.refresh()

            controller.add_listener(on_update)
            summary: VoiceSummary = await controller.run()
            live.refresh()
        if summary.reason is CloseReason.ERROR:  # could not connect and no fallback: say why, keep the history
            console.print(f"[red]agent voice:[/] {summary.message}")
            return 1
        console.print()
        console.print(summary_table(summary.metrics, controller.backend_name or args.backend))
        ended = CLOSE_WORDS[summary.reason] + (f": {summary.message}" if summary.message else "")
        console.print(f"session {summary.session_id} ended ({summary.reason.value}): {ended}")
    return 0
