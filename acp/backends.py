"""File and terminal access delegated to the ACP client (the editor).

With ``fs.readTextFile`` the editor answers reads from its buffers, unsaved
edits included; with ``fs.writeTextFile`` it applies writes itself (so undo and
open views stay right). With ``terminal`` commands run in editor terminals the
person can watch. A method the client did not advertise is never called: each
operation falls back to the local backend instead.

Paths reaching these backends are already confined by the session's
:class:`~agentcore.tools.workspace.Workspace`, and the permission gate has
already approved the call, so delegation changes *where* work happens, never
*whether* it may.
"""

from __future__ import annotations

import logging
import signal as signals
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs
import trio

from agentcore.acp.jsonrpc import ConnectionClosed, JsonRpcError, PeerTimedOut
from agentcore.tools import FileStat, FsBackend, FsError, OutputSink, ShellBackend, ShellResult

log = logging.getLogger("acp.backends")

TERMINAL_OUTPUT_BYTE_LIMIT = 1024 * 1024  # bytes the editor keeps per command; tools cut results far below this
CLIENT_CALL_TIMEOUT_S = 60.0  # for the editor to read or write a file, or open or read a terminal
TERMINAL_CLEANUP_TIMEOUT_S = 2.0  # seconds for kill/output/release after a timeout or cancel; the editor may be gone
SHELL = "sh"  # commands run as ``sh -c COMMAND``, exactly like the local backend


class ClientRequester(Protocol):
    """The part of :class:`acp.jsonrpc.Connection` the backends use."""

    async def request(self, method: str, params: Any = None, *, timeout_s: float = ...) -> Any: ...


SessionIdSource = str | Callable[[], str]  # a callable when the id is known only after the backend exists


def _session_id(source: SessionIdSource) -> str:
    return source() if callable(source) else source


@attrs.frozen
class ClientFsCapabilities:
    read_text_file: bool = False
    write_text_file: bool = False
    terminal: bool = False


class DelegatedFs:
    """:class:`FsBackend` that reads and writes text through the editor.

    Binary reads and ``stat`` stay local: the protocol has no methods for them,
    and the files are on this machine. Once the delegating connection has ended
    (a session living on in ``agent serve``), text goes to the local files too.
    """

    def __init__(
        self,
        client: ClientRequester,
        session_id: SessionIdSource,
        *,
        local: FsBackend,
        read: bool,
        write: bool,
        timeout_s: float = CLIENT_CALL_TIMEOUT_S,
    ) -> None:
        self._client = client
        self._session_id = session_id
        self._local = local
        self._read = read
        self._write = write
        self._timeout_s = timeout_s

    async def read_bytes(self, path: Path) -> bytes:
        return await self._local.read_bytes(path)

    def _editor_gone(self) -> bool:
        """The connection that delegated file access has ended (in a server the
        session lives on): the files are on this machine, so read them here."""
        return bool(getattr(self._client, "closed", False))

    async def read_text(self, path: Path) -> str:
        if not self._read or self._editor_gone():
            return await self._local.read_text(path)
        result = await self._call("fs/read_text_file", {"sessionId": _session_id(self._session_id), "path": str(path)}, path)
        content = result.get("content") if isinstance(result, dict) else None
        if not isinstance(content, str):
            raise FsError(f"{path}: the editor returned no text content")
        return content

    async def write_text(self, path: Path, content: str) -> None:
        if not self._write or self._editor_gone():
            await self._local.write_text(path, content)
            return
        # Editors differ on whether they create missing directories; do it here
        # so a new file in a new folder works everywhere.
        try:
            await trio.to_thread.run_sync(lambda: path.parent.mkdir(parents=True, exist_ok=True))
        except OSError as exc:
            raise FsError(f"{path.parent}: cannot create directory ({exc.strerror})") from None
        await self._call(
            "fs/write_text_file", {"sessionId": _session_id(self._session_id), "path": str(path), "content": content}, path
        )

    async def stat(self, path: Path) -> FileStat | None:
        return await self._local.stat(path)

    async def _call(self, method: str, params: dict[str, Any], path: Path) -> Any:
        try:
            return await self._client.request(method, params, timeout_s=self._timeout_s)
        except PeerTimedOut:
            raise FsError(f"{path}: the editor did not answer {method} within {self._timeout_s:g} s") from None
        except JsonRpcError as exc:
            raise FsError(f"{path}: the editor refused {method}: {exc.message}") from None
        except ConnectionClosed:
            raise FsError(f"{path}: the editor connection is closed") from None


class DelegatedShell:
    """:class:`ShellBackend` running commands in editor terminals.

    Always releases the terminal, whether the command finished, timed out or
    the turn was cancelled (then it is killed first).
    """

    def __init__(
        self, client: ClientRequester, session_id: SessionIdSource, *, timeout_s: float = CLIENT_CALL_TIMEOUT_S
    ) -> None:
        self._client = client
        self._session_id = session_id
        self._timeout_s = timeout_s

    async def run(
        self,
        command: str,
        *,
        cwd: Path,
        timeout_s: float,
        env: Mapping[str, str] | None = None,
        on_output: OutputSink | None = None,
        on_start: Callable[[str], Awaitable[None]] | None = None,
    ) -> ShellResult:
        # ``on_output`` goes unused: the editor shows the terminal's output live.
        params: dict[str, Any] = {
            "sessionId": _session_id(self._session_id),
            "command": SHELL,
            "args": ["-c", command],
            "cwd": str(cwd),
            "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
            "outputByteLimit": TERMINAL_OUTPUT_BYTE_LIMIT,
        }
        created = await self._client.request("terminal/create", params, timeout_s=self._timeout_s)
        terminal_id = created.get("terminalId") if isinstance(created, dict) else None
        if not isinstance(terminal_id, str):
            raise RuntimeError("the editor's terminal/create answer has no terminalId")
        ids = {"sessionId": _session_id(self._session_id), "terminalId": terminal_id}
        timed_out = False
        finished = False
        try:
            if on_start is not None:
                await on_start(terminal_id)
            with trio.move_on_after(timeout_s) as deadline:
                await self._client.request("terminal/wait_for_exit", ids)
            timed_out = deadline.cancelled_caught
            if timed_out:
                await self._client.request("terminal/kill", ids, timeout_s=self._timeout_s)
            output = await self._client.request("terminal/output", ids, timeout_s=self._timeout_s)
            finished = True
        finally:
            with trio.CancelScope(shield=True) as cleanup:
                cleanup.deadline = trio.current_time() + TERMINAL_CLEANUP_TIMEOUT_S
                await self._cleanup(ids, kill=not finished)
        return _shell_result(output, terminal_id, timed_out=timed_out)

    async def _cleanup(self, ids: dict[str, str], *, kill: bool) -> None:
        methods = ("terminal/kill", "terminal/release") if kill else ("terminal/release",)
        for method in methods:
            try:
                await self._client.request(method, ids)
            except (JsonRpcError, ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                log.info("%s for %s failed: %r", method, ids["terminalId"], exc)


def _shell_result(output: Any, terminal_id: str, *, timed_out: bool) -> ShellResult:
    data = output if isinstance(output, dict) else {}
    status = data.get("exitStatus") or {}
    exit_code = status.get("exitCode") if isinstance(status.get("exitCode"), int) else None
    return ShellResult(
        exit_code=exit_code,
        signal=_signal_number(status.get("signal")),
        output=str(data.get("output", "")),
        timed_out=timed_out,
        truncated=bool(data.get("truncated", False)),
        terminal_id=terminal_id,
    )


def _signal_number(name: Any) -> int | None:
    if not isinstance(name, str) or not name:
        return None
    if name.isdigit():
        return int(name)
    try:
        return signals.Signals[name if name.startswith("SIG") else f"SIG{name}"].value
    except KeyError:
        return None


def delegated_backends(
    client: ClientRequester,
    session_id: SessionIdSource,
    caps: ClientFsCapabilities,
    *,
    local_fs: FsBackend,
    timeout_s: float = CLIENT_CALL_TIMEOUT_S,
) -> tuple[FsBackend | None, ShellBackend | None]:
    """The backends to inject into ``SessionCreateInfo`` (None: keep the local one).
    ``timeout_s`` bounds each call the editor must answer (not a command's run)."""
    fs: FsBackend | None = None
    if caps.read_text_file or caps.write_text_file:
        fs = DelegatedFs(
            client, session_id, local=local_fs, read=caps.read_text_file, write=caps.write_text_file, timeout_s=timeout_s
        )
    shell: ShellBackend | None = DelegatedShell(client, session_id, timeout_s=timeout_s) if caps.terminal else None
    return fs, shell
