"""``agent acp``: the ACP agent on stdin/stdout.

Start-up is tuned for editors, which spawn the agent and wait for the
``initialize`` answer before showing anything. Importing trio and the core
takes a few hundred milliseconds, so this module imports only the standard
library: it starts those imports on a thread, reads the first line itself and,
when it is ``initialize``, answers it at once (the answer needs nothing but
constants). The rest of the conversation runs on trio once the imports are
done, starting with the bytes already read.

stdout carries protocol only: the real stdout is kept on a private descriptor
and descriptor 1 is pointed at stderr, so a stray ``print`` or a child process
writing to its inherited stdout cannot corrupt the stream. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from agentcore.acp import capabilities
from agentcore.bounded_json import loads_bounded

READ_CHUNK_BYTES = 64 * 1024  # bytes per read of stdin during start-up
LOG_LEVEL_ENV = "AGENTCORE_LOG"  # e.g. AGENTCORE_LOG=debug; logs always go to stderr
FIRST_LINE_MAX_BYTES = 32 * 1024 * 1024  # same limit as the connection; a larger first line is left to it


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="agent acp", description="Serve the Agent Client Protocol on stdio.")
    parser.add_argument("--profile", metavar="NAME")
    parser.add_argument("--provider", metavar="P")
    parser.add_argument("--model", metavar="M")
    parser.add_argument("--trust", action="store_true", default=None,
                        help="apply untrusted folders' project configuration (default: ignored, said on stderr)")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    return run_stdio(parse_args(sys.argv[1:] if argv is None else argv))


def run_stdio(args: Any) -> int:
    """Entry used by ``agent acp``; ``args`` has ``profile``, ``provider``, ``model``, ``trust``.

    An untrusted folder's configuration (the launch directory's, or a
    ``session/new`` cwd's) is ignored unless ``--trust`` or the user's
    ``trust.project_config``; the app logs once per folder what it ignored, and
    logs go to stderr."""
    flags = {key: getattr(args, key, None) for key in ("profile", "provider", "model", "trust")}
    env = dict(os.environ)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, env.get(LOG_LEVEL_ENV, "warning").upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    protocol_out = os.dup(1)
    os.dup2(2, 1)  # descriptor 1 (and so print, and children) now writes to stderr

    importer = threading.Thread(target=_import_runtime, name="acp-import", daemon=True)
    importer.start()

    first, rest = _read_first_line(0)
    client_caps: dict[str, Any] | None = None
    first_seq = 0
    prefix = first + rest
    answer = _fast_initialize(first)
    if answer is not None:
        reply, client_caps = answer
        os.write(protocol_out, reply)
        prefix, first_seq = rest, 1
    importer.join()

    import trio

    from agentcore.acp.hub import serve_acp

    async def serve() -> None:
        receive = trio.lowlevel.FdStream(os.dup(0))
        send = trio.lowlevel.FdStream(protocol_out)
        await serve_acp(
            receive, send, lambda: make_setup(flags, env), prefix=prefix, first_seq=first_seq, client_caps=client_caps
        )

    try:
        trio.run(serve)
    except KeyboardInterrupt:
        return 130
    return 0


def _import_runtime() -> None:
    try:
        import agentcore.acp.hub  # noqa: F401  (warms trio, attrs and the core while stdin is read)
        import agentcore.app  # noqa: F401
    except Exception:  # the main thread imports again and reports the error properly
        pass


def _read_first_line(fd: int) -> tuple[bytes, bytes]:
    """(first line including its LF, bytes after it); at EOF the line may lack the LF."""
    buffer = bytearray()
    while True:
        newline = buffer.find(b"\n")
        if newline >= 0:
            return bytes(buffer[: newline + 1]), bytes(buffer[newline + 1 :])
        if len(buffer) > FIRST_LINE_MAX_BYTES:
            return b"", bytes(buffer)
        chunk = os.read(fd, READ_CHUNK_BYTES)
        if not chunk:
            return b"", bytes(buffer)
        buffer += chunk


def _fast_initialize(line: bytes) -> tuple[bytes, dict[str, Any]] | None:
    """The answer to a well-formed ``initialize`` request, or None to leave the
    line to the full connection (which also produces every error answer)."""
    try:
        message = loads_bounded(line.decode("utf-8"))
    except ValueError:  # including too deep: the full connection answers with the error
        return None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or message.get("method") != "initialize":
        return None
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    try:
        caps = capabilities.check_initialize_params(message.get("params"))
    except capabilities.ParamsProblem:
        return None
    reply = {"jsonrpc": "2.0", "id": request_id, "result": capabilities.initialize_result()}
    data = json.dumps(reply, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"
    return data, caps


def make_setup(flags: dict[str, Any], env: Mapping[str, str], cwd: Any = None) -> Any:
    """Build the core from configuration (called at the first session request);
    ``cwd`` is the launch directory (default: this process's)."""
    from pathlib import Path

    from agentcore.acp.agent import AgentSetup
    from agentcore.app import build_app
    from agentcore.core import MemorySessionStore
    from agentcore.frontend import Frontend

    # Credentials: in ACP mode detection stops before the offline echo model
    # unless it was asked for by name, so an editor never talks to echo by accident.
    allow_echo = flags.get("provider") == "echo"
    launch = Path(cwd) if cwd is not None else Path.cwd()
    app = build_app(cwd=launch, env=dict(env), flags=flags, frontend=Frontend.acp(), allow_echo=allow_echo)
    core = app.core
    if core.loader is None:
        # No journal store yet: keep sessions in memory so load/list/resume work within this process.
        store = MemorySessionStore()
        core.loader = store
        core.observers.append(store)
    return AgentSetup(core=core, profile=flags.get("profile"), provider=flags.get("provider"), model=flags.get("model"))
