"""The ``agent`` command line: its parser and subcommands.

Imported by :mod:`agentcore.cli.main` only once a fast path (``--version``,
the ``agent acp`` bridge) has not answered; each subcommand imports its own
frontend module when it runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from typing import Any

MODES = ("read-only", "ask", "accept-edits", "yolo", "plan")

DESCRIPTION = """\
agentcore: a coding agent for your terminal, your editor (ACP) and your programs.

Common commands:
  agent chat                      talk to the agent in this directory
  agent run -p "fix the tests"    one prompt, no questions asked (headless)
  agent acp                       speak the Agent Client Protocol on stdio (for Zed & co.)
  agent serve                     one long-lived agent over HTTP, WebSocket and a Unix socket
  agent sessions list             earlier sessions you can --resume
  agent config show --origin      effective configuration and where each value comes from
  agent trust                     let this folder's .agent/ and .mcp.json configure the agent

With no API key set, chat uses the offline echo model so you can try it out.
"""


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", metavar="NAME", help="profile to use (model, prompt, tools, permissions)")
    p.add_argument("--provider", metavar="P", help="provider: anthropic, openai, ollama, echo or one from config")
    p.add_argument("--model", metavar="M", help="model id, e.g. claude-sonnet-4-5 or gpt-4o-mini")
    # default None, not False: an absent flag must not override trust.project_config from the user config
    p.add_argument("--trust", action="store_true", default=None,
                   help="apply this folder's project configuration this time even though it is not trusted")


def _version_line() -> str:
    import agentcore  # the facade; it reads the installed version on first use

    return f"agentcore {agentcore.__version__}"


class _PrintVersion(argparse.Action):
    """``--version``: like argparse's own, but the version is read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(_version_line())
        parser.exit()


def _lazy(target: str) -> Callable[[argparse.Namespace], int]:
    """``module:function``, imported only when the subcommand runs."""

    def run(args: argparse.Namespace) -> int:
        module, _, func = target.partition(":")
        return getattr(importlib.import_module(module), func)(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action=_PrintVersion)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="interactive chat in the terminal")
    _add_selection(chat)
    chat.add_argument("--mode", choices=MODES, help="permission mode (default: ask)")
    resume = chat.add_mutually_exclusive_group()
    resume.add_argument("--resume", nargs="?", const="", metavar="ID", help="resume a session (latest here if no ID)")
    resume.add_argument("--continue", dest="continue_", action="store_true", help="continue the latest session in this directory")
    chat.add_argument("--no-color", action="store_true", help="plain output without colors")
    chat.add_argument("--attach", nargs="?", const="", metavar="SESSION",
                      help="join a session running in agent serve (the latest live one here if no id)")
    chat.set_defaults(func=_lazy("agentcore.cli.chat:main"))

    run = sub.add_parser("run", help="run one prompt headless and exit")
    _add_selection(run)
    run.add_argument("-p", "--prompt", required=False, help="the prompt; '-' reads it from stdin")
    run.add_argument("--format", choices=("text", "json", "stream-json"), default="text")
    run.add_argument("--mode", choices=MODES, help="permission mode (asks become denies)")
    run.add_argument("--goal", help="keep working until the goal is reached (calls goal_done)")
    run.add_argument("--max-turns", type=int, default=None, help="cap for --goal (default 20)")
    follow = run.add_mutually_exclusive_group()
    follow.add_argument("--continue", dest="continue_", action="store_true",
                        help="continue the latest session in this directory")
    follow.add_argument("--resume", metavar="ID", help="continue this session (a unique prefix is enough)")
    run.set_defaults(func=_lazy("agentcore.cli.headless:main"))

    acp = sub.add_parser("acp", help="serve the Agent Client Protocol on stdin/stdout")
    _add_selection(acp)
    bridge = acp.add_mutually_exclusive_group()
    bridge.add_argument("--bridge", action="store_true", help="relay to the local agent serve (started if needed)")
    bridge.add_argument("--no-bridge", action="store_true", help="run the agent in this process")
    acp.set_defaults(func=_lazy("agentcore.acp.server:run_stdio"))

    for target in (
        "agentcore.cli.config_cmds:add_subparsers",
        "agentcore.cli.trust_cmd:add_subparsers",
        "agentcore.cli.sessions_cmd:add_subparsers",
        "agentcore.cli.rewind_cmd:add_subparsers",
        "agentcore.cli.serve_cmd:add_subparsers",
        "agentcore.cli.models_cmd:add_subparsers",
        "agentcore.cli.jobs_cmd:add_subparsers",  # durable jobs on Temporal (the temporal extra loads when they run)
        "agentcore.cli.worker_cmd:add_subparsers",
        "agentcore.live.cli:add_subparsers",  # argparse only; the voice extra loads when the command runs
    ):
        module, _, func = target.partition(":")
        getattr(importlib.import_module(module), func)(sub)
    return parser




def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
