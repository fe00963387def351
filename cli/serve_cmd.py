"""``agent serve`` (run the server), ``agent serve status`` and ``agent serve stop``.

stdout carries one line, once the server listens::

    agent serve: listening on http://127.0.0.1:PORT/acp and unix:PATH

so a supervisor or a test can read the real port (``--listen 127.0.0.1:0``
picks a free one). Everything else goes to stderr (``--daemon``: to the log
file ``serve.log`` in the state directory's logs); ``--log-format json`` makes
them JSON lines with the session and job ids (:mod:`agentcore.logctx`). A known problem (a
refused exposure, a busy port, a bad configuration) is one line on stderr and
exit status 2, never a traceback.

Importing this module costs argparse only; the server loads when it runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LOG_LEVEL_ENV = "AGENTCORE_LOG"  # e.g. AGENTCORE_LOG=info; logs go to stderr
DAEMON_LOG_NAME = "serve.log"  # in the state directory's logs/
DAEMON_START_TIMEOUT_S = 60.0  # seconds a --daemon start may take until /health answers
HEALTH_TIMEOUT_S = 5.0  # seconds for one /health request
STOP_TIMEOUT_S = 30.0  # seconds `agent serve stop` waits for the server to exit
POLL_S = 0.05  # between checks while waiting on another process
EXIT_USAGE = 2  # a known start-up problem (the same status argparse uses)
EXIT_NOT_RUNNING = 1  # status/stop: no server, or one that does not answer


def add_subparsers(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="one long-lived agent for editors, terminals and programs (HTTP, WebSocket, Unix socket)",
        description="Serve ACP over Streamable HTTP and WebSocket (/acp) and a Unix socket; "
        "`agent serve status` and `agent serve stop` ask the running server.",
    )
    serve.add_argument("action", nargs="?", choices=("status", "stop"), help="ask the running server instead of starting one")
    serve.add_argument("--listen", metavar="HOST:PORT", help="TCP address (default 127.0.0.1:8417; port 0 picks a free one)")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--socket", metavar="PATH", help="Unix socket path (default: agent.sock in the user's runtime directory)")
    where.add_argument("--no-socket", action="store_true", help="no Unix socket")
    serve.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --listen (the token is still required)")
    serve.add_argument("--daemon", action="store_true", help="run in the background; return once the server answers")
    serve.add_argument("--profile", metavar="NAME", help="profile to use (model, prompt, tools, permissions)")
    serve.add_argument("--provider", metavar="P", help="provider: anthropic, openai, ollama, echo or one from config")
    serve.add_argument("--model", metavar="M", help="model id")
    serve.add_argument("--trust", action="store_true", default=None,
                       help="apply untrusted folders' project configuration (default: ignored, said on stderr)")
    serve.add_argument("--log-format", choices=("text", "json"), default="text",
                       help="stderr log lines: text, or json (one object a line with session_id and job_id; level info "
                       f"unless {LOG_LEVEL_ENV} says otherwise)")
    serve.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    match args.action:
        case "status":
            return _status(env)
        case "stop":
            return _stop(env)
        case None:
            return _start(args, env)
        case other:
            raise AssertionError(f"unknown action {other}")


# ------------------------------------------------------------------ start


def _say(text: str) -> None:
    print(f"agent serve: {text}", file=sys.stderr)


def _settings(args: argparse.Namespace, env: dict[str, str]) -> Any:
    from agentcore.acp.remote.settings import (
        ServeSettings,
        check_exposure,
        default_socket_path,
        parse_listen,
        resolve_token,
        runtime_dir,
    )

    listen = parse_listen(args.listen)
    check_exposure(listen, allow_remote=args.allow_remote)
    socket_path = None if args.no_socket else Path(args.socket).absolute() if args.socket else default_socket_path(env)
    return ServeSettings(
        listen=listen, socket_path=socket_path, runtime_dir=runtime_dir(env), token=resolve_token(env),
        allow_remote=args.allow_remote,
    )  # fmt: skip


def _start(args: argparse.Namespace, env: dict[str, str]) -> int:
    from agentcore.errors import AgentcoreError
    from agentcore.logctx import configure

    default_level = "info" if args.log_format == "json" else "warning"
    configure(sys.stderr, args.log_format, getattr(logging, env.get(LOG_LEVEL_ENV, default_level).upper(), logging.WARNING))
    try:
        settings = _settings(args, env)
    except AgentcoreError as exc:
        _say(str(exc))
        return EXIT_USAGE
    if args.daemon:
        return _daemonize(args, env)
    ready_out = os.dup(1)
    os.dup2(2, 1)  # a stray print or a tool's inherited stdout goes to stderr; the ready line has its own descriptor
    try:
        return _run(args, env, settings, ready_out)
    finally:
        _close_quietly(ready_out)


def _run(args: argparse.Namespace, env: dict[str, str], settings: Any, ready_out: int) -> int:
    import trio

    from agentcore.acp.remote.server import run_server
    from agentcore.acp.server import make_setup
    from agentcore.errors import AgentcoreError

    flags = {key: getattr(args, key, None) for key in ("profile", "provider", "model", "trust")}
    try:
        setup = make_setup(flags, env)  # now, so a configuration error stops start-up and the first session is fast
    except AgentcoreError as exc:
        _say(str(exc))
        return EXIT_USAGE

    def on_ready(ready: Any) -> None:
        os.write(ready_out, (ready.line + "\n").encode())
        _close_quietly(ready_out)

    try:
        trio.run(lambda: run_server(
            settings,
            lambda: setup,
            on_ready=on_ready,
            # A local bridge client is set up as its own in-process agent would be: its env, cwd and flags.
            client_setup=lambda client_env, cwd, client_flags: make_setup(dict(client_flags), client_env, cwd),
            manage_gc=True,  # a long-lived server process: see agentcore.gc_pause.LongLivedHeap
        ))
    except BaseException as exc:  # trio wraps errors of nurseries in groups; find the known one
        known = _known_error(exc)
        if known is None:
            raise
        _say(known)
        return EXIT_USAGE
    return 0


def _known_error(exc: BaseException) -> str | None:
    from agentcore.errors import AgentcoreError

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, AgentcoreError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot listen: {exc.strerror or exc}"
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _known_error(inner)
            if found is not None:
                return found
    return None


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _forwarded_args(args: argparse.Namespace) -> list[str]:
    argv = ["serve"]
    for flag, value in (("--listen", args.listen), ("--socket", args.socket), ("--profile", args.profile),
                        ("--provider", args.provider), ("--model", args.model), ("--log-format", args.log_format)):
        if value is not None:
            argv += [flag, value]
    for flag, on in (("--no-socket", args.no_socket), ("--allow-remote", args.allow_remote), ("--trust", args.trust)):
        if on:
            argv.append(flag)
    return argv


def _daemonize(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Start the server in a new session (no terminal), its stderr in the log file;
    print its ready line once /health answers."""
    from agentcore.config import resolve_paths
    from agentcore.private_files import open_private

    log_path = resolve_paths(env).logs_dir / DAEMON_LOG_NAME
    with open_private(log_path, "ab") as log_file:
        child = subprocess.Popen(
            [sys.executable, "-m", "agentcore.cli.main", *_forwarded_args(args)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file, env=env, start_new_session=True,
        )  # fmt: skip
    assert child.stdout is not None
    deadline = time.monotonic() + DAEMON_START_TIMEOUT_S
    line = _read_line(child.stdout.fileno(), deadline)
    child.stdout.close()
    if not line.startswith("agent serve: listening on "):
        child.poll()
        _say(f"the server did not start; see {log_path}" + (f" ({_last_line(log_path)})" if _last_line(log_path) else ""))
        return EXIT_USAGE
    url = line.removeprefix("agent serve: listening on ").split(" and ", 1)[0]
    health_url = url.rsplit("/", 1)[0] + "/health"
    while _health(health_url) is None:
        if time.monotonic() > deadline or child.poll() is not None:
            _say(f"the server does not answer at {health_url}; see {log_path}")
            return EXIT_USAGE
        time.sleep(POLL_S)
    child.returncode = 0  # detached: never waited for here (keeps Popen from warning about it)
    print(line, flush=True)
    return 0


def _read_line(fd: int, deadline: float) -> str:
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").strip()


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][-300:] if lines else ""


# ------------------------------------------------------------------ status / stop


def _health(url: str) -> dict[str, Any] | None:
    """GET /health on loopback or wherever the state file says; None when it does not answer 200."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=HEALTH_TIMEOUT_S)
    try:
        conn.request("GET", parts.path or "/health")
        response = conn.getresponse()
        body = response.read()
        return json.loads(body) if response.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _running(env: dict[str, str]) -> Any:
    from agentcore.acp.remote.settings import STATE_FILE_NAME, runtime_dir
    from agentcore.acp.remote.state_file import read_state

    return read_state(runtime_dir(env) / STATE_FILE_NAME)


def _status(env: dict[str, str]) -> int:
    state = _running(env)
    if state is None:
        print("agent serve: not running")
        return EXIT_NOT_RUNNING
    where = state.url + (f" and unix:{state.socket}" if state.socket else "")
    health = _health(state.health_url)
    if health is None:
        print(f"agent serve: pid {state.pid} is running but {state.health_url} does not answer")
        return EXIT_NOT_RUNNING
    print(
        f"agent serve: running (pid {state.pid}, version {health.get('version')}, since {state.started}) on {where}; "
        f"{health.get('sessions')} live sessions, {health.get('connections')} connections"
    )
    return 0


def _stop(env: dict[str, str]) -> int:
    from agentcore.acp.remote.state_file import pid_runs_server

    state = _running(env)
    if state is None:
        print("agent serve: not running")
        return 0
    try:
        os.kill(state.pid, signal.SIGTERM)
    except ProcessLookupError:
        print("agent serve: not running")
        return 0
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while pid_runs_server(state.pid):
        if time.monotonic() > deadline:
            _say(f"pid {state.pid} did not stop within {STOP_TIMEOUT_S:g} s")
            return EXIT_NOT_RUNNING
        time.sleep(POLL_S)
    print(f"agent serve: stopped (pid {state.pid})")
    return 0
