"""ACP over a Unix domain socket: newline-delimited JSON-RPC, as on stdio.

No token here: the socket file is ``0600`` in a ``0700`` directory, and each
accepted peer's uid (``SO_PEERCRED``) must be this process's, or the
connection is closed before a byte is read. A stale socket file (nothing
listens) is replaced; a live one means another server runs, and start-up fails.

Invariant: every accepted connection is served by the hub in the nursery the
caller hands over (the server's), and :meth:`UnixServer.end_all` ends their
input without cutting the output, so in-flight answers still reach the peer.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from agentcore.acp.agent import ClientInfo
from agentcore.acp.jsonrpc import LineTransport
from agentcore.acp.remote.errors import SocketUnavailable
from agentcore.acp.remote.settings import check_socket_path
from agentcore.private_files import private_dir

if TYPE_CHECKING:
    from agentcore.acp.hub import AcpHub

log = logging.getLogger("acp.remote")

SOCKET_MODE = 0o600  # owner only: connecting needs write permission on the socket file
LISTEN_BACKLOG = 128  # pending connections; editors connect one at a time
PEERCRED_FORMAT = "3i"  # struct ucred: pid, uid, gid


def peer_uid(sock: trio.socket.SocketType) -> int:
    """The uid of the process on the other end (Linux ``SO_PEERCRED``)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize(PEERCRED_FORMAT))
    _pid, uid, _gid = struct.unpack(PEERCRED_FORMAT, creds)
    return uid


async def open_unix_listener(path: Path) -> trio.SocketListener:
    """Bind ``path`` ``0600`` (its directory created ``0700`` if missing)."""
    check_socket_path(path)
    private_dir(path.parent)
    await _remove_stale(path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await sock.bind(os.fspath(path))
        os.chmod(path, SOCKET_MODE)
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise SocketUnavailable(f"cannot listen on {path}: {exc.strerror or exc}") from None
    return trio.SocketListener(sock)


async def _remove_stale(path: Path) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise SocketUnavailable(f"{path} exists and is not a socket; remove it or pass another --socket")
    probe = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await probe.connect(os.fspath(path))
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
            raise SocketUnavailable(f"cannot use {path}: {exc.strerror or exc}") from None
        path.unlink(missing_ok=True)  # nothing listens: a server that died left it
        return
    finally:
        probe.close()
    raise SocketUnavailable(f"another server is listening on {path}")


class UnixServer:
    def __init__(self, hub: AcpHub) -> None:
        self._hub = hub
        self._streams: set[trio.SocketStream] = set()
        self.refused = 0  # peers of another uid, turned away

    async def handle(self, stream: trio.SocketStream) -> None:
        """Serve one accepted connection (``trio.serve_listeners`` calls this)."""
        try:
            uid = peer_uid(stream.socket)
        except OSError:
            uid = -1
        if uid != os.getuid():
            self.refused += 1
            log.warning("refused a Unix socket connection from uid %d", uid)
            await stream.aclose()
            return
        self._streams.add(stream)
        try:
            try:
                await self._hub.serve(LineTransport(stream, stream), client=ClientInfo("unix", f"uid {uid}"))
            except* (trio.BrokenResourceError, trio.ClosedResourceError):
                log.info("a Unix socket peer went away")
        except Exception:  # one connection's failure must not end the server
            log.exception("a Unix socket connection failed")
        finally:
            self._streams.discard(stream)
            await stream.aclose()

    def end_all(self) -> None:
        """Stop reading every connection (the peer sees answers, then EOF once served)."""
        for stream in self._streams:
            try:
                stream.socket.shutdown(socket.SHUT_RD)
            except OSError:
                pass
