"""``agent voice``: the argument parser only.

``agent`` builds its parser at every start, so this module imports nothing
but argparse; the voice frontend (:mod:`agentcore.live.voice_app`) loads when
the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agentcore.live.choices import BACKENDS
DESCRIPTION = """``agent voice``: talk to the agent, live or from a WAV file.

    agent voice                                  microphone and speaker, offline cascade
    agent voice --input q.wav --output a.wav     from a file to a file, offline
    agent voice --backend openai-realtime        OpenAI Realtime (OPENAI_API_KEY)
    agent voice --backend gemini-live            Gemini Live (GEMINI_API_KEY or GOOGLE_API_KEY)
    agent voice --provider anthropic --model M   the cascade answers with this text model

The live transcript, the conversation state and telemetry are shown with
rich; a summary table follows when the conversation ends. A realtime backend
that cannot be reached falls back to the offline cascade."""


def add_subparsers(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "voice",
        help="talk to the agent by voice (offline by default)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profile", metavar="NAME", help="profile to use (prompt, tools, permissions, text model for the cascade)")
    p.add_argument("--provider", metavar="P", help="text provider of the session (the cascade answers with it), as for chat and run")
    p.add_argument("--model", metavar="M", help="text model id of the session, as for chat and run")
    p.add_argument("--backend", choices=BACKENDS, default="cascade", help="speech backend (default: cascade, fully offline)")
    p.add_argument("--voice-model", metavar="M", help="realtime speech model id (openai-realtime / gemini-live)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", metavar="FILE.wav", type=Path, help="read the user's speech from a WAV file")
    source.add_argument("--mic", action="store_true", help="listen on the microphone (default without --input)")
    sink = p.add_mutually_exclusive_group()
    sink.add_argument("--output", metavar="FILE.wav", type=Path, help="write the assistant's speech to a WAV file")
    sink.add_argument("--speaker", action="store_true", help="play the assistant's speech (default with --mic)")
    p.add_argument("--fast", action="store_true", help="with --input: do not pace the file in real time")
    p.add_argument("--trust", action="store_true", default=None,
                   help="apply this folder's project configuration even though it is not trusted (see agent trust)")
    p.add_argument("--no-fallback", action="store_true", help="do not fall back to the offline cascade")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        from agentcore.live.voice_app import main as run
    except ImportError as exc:
        import sys

        print(
            f"agent voice needs the voice extra ({exc.name} is missing): pip install -e '.[voice]'",
            file=sys.stderr,
        )
        return 1
    return run(args)
