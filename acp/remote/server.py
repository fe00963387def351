"""The running ``agent serve``: one hub, Hypercorn on trio for HTTP and
WebSocket, the Unix socket, the state file, and an orderly shutdown.

Shutdown (SIGTERM, SIGINT, or ``stop`` set by an embedder), in order:

1. stop accepting: Hypercorn's listener and the Unix listener close;
2. cancel running turns and let them end (journaled as cancelled, their
   ``session/prompt`` answered ``cancelled``), then close the hub (every session);
3. end every connection's input; each closes once its in-flight requests
   are answered (a WebSocket with code 1001 and the reason, an SSE stream at
   its end, a Unix socket at EOF);
4. remove the state file and the socket.

Invariant: every task (connections, listeners, Hypercorn) lives in the
nursery :func:`run_server` opens inside the hub, so nothing outlives it.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
import trio

import agentcore
from agentcore.acp.hub import AcpHub, ClientSetupFactory, open_hub
from agentcore.acp.jsonrpc import MAX_MESSAGE_BYTES
from agentcore.acp.remote.asgi import ACP_PATH, ServeApp
from agentcore.acp.remote.auth import HEALTH_PATH, own_origins
from agentcore.acp.remote.connection import ConnectionRegistry
from agentcore.acp.remote.errors import AlreadyServing
from agentcore.acp.remote.settings import ServeSettings, check_exposure, ensure_private_runtime_dir
from agentcore.acp.remote.state_file import ServerState, read_state, remove_state, write_state
from agentcore.acp.remote.unix import UnixServer, open_unix_listener

if TYPE_CHECKING:
    from agentcore.acp.agent import SetupFactory

log = logging.getLogger("acp.remote")

SHUTDOWN_GRACE_S = 10.0  # seconds connections get to deliver their last answers once the hub closed
TURN_UNWIND_S = 5.0  # seconds running turns get to end as cancelled before their sessions close
UNWIND_POLL_S = 0.01  # between looks at whether the turns have ended
KEEP_ALIVE_S = 75.0  # idle HTTP keep-alive; longer than common client pools' 60 s


@attrs.frozen
class Ready:
    """What the server listens on, once it does."""

    url: str  # http://HOST:PORT/acp
    socket: str | None

    @property
    def line(self) -> str:
        where = self.url if self.socket is None else f"{self.url} and unix:{self.socket}"
        return f"agent serve: listening on {where}"


def hypercorn_config(settings: ServeSettings) -> Any:
    from hypercorn.config import Config

    config = Config()
    host = settings.listen.host
    config.bind = [f"[{host}]:{settings.listen.port}" if ":" in host else f"{host}:{settings.listen.port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # our handlers: stderr, never stdout
    config.graceful_timeout = SHUTDOWN_GRACE_S
    config.keep_alive_timeout = KEEP_ALIVE_S
    config.websocket_max_message_size = MAX_MESSAGE_BYTES
    config.include_server_header = False
    return config


def health(hub: AcpHub) -> dict[str, Any]:
    """What /health says: counts only, nothing about any session."""
    return {"status": "ok", "version": agentcore.__version__, "sessions": len(hub.sessions), "connections": hub.connections}


async def run_server(
    settings: ServeSettings,
    setup: SetupFactory,
    *,
    on_ready: Callable[[Ready], None],
    stop: trio.Event | None = None,
    client_setup: ClientSetupFactory | None = None,
    manage_gc: bool = False,
) -> None:
    """Serve until a signal (or ``stop``), then shut down in order. ``client_setup``
    makes the set-up of a local bridge client from its own environment;
    ``manage_gc`` applies the server's GC policy (a server process only)."""
    check_exposure(settings.listen, allow_remote=settings.allow_remote)
    ensure_private_runtime_dir(settings.runtime_dir)
    running = read_state(settings.state_file)
    if running is not None and running.pid != os.getpid():
        raise AlreadyServing(f"another agent serve is running (pid {running.pid}, {running.url}); `agent serve stop` ends it")
    stop = stop or trio.Event()
    async with open_hub(setup, keep_sessions=True, client_setup=client_setup, manage_gc=manage_gc) as hub:
        listener = await open_unix_listener(settings.socket_path) if settings.socket_path else None
        try:
            async with trio.open_nursery() as watcher:
                watcher.start_soon(_watch_signals, stop, watcher.cancel_scope)
                await _serve_until_stopped(settings, hub, listener, on_ready, stop)
                watcher.cancel_scope.cancel()
        finally:
            remove_state(settings.state_file, pid=os.getpid())
            if listener is not None:
                await listener.aclose()
                settings.socket_path.unlink(missing_ok=True)  # type: ignore[union-attr]


async def _advertise(hub: AcpHub, url: str) -> None:
    """Name this server's URL in the leases of a shared session store ([store] url),
    so another server can send a client of one of its sessions here."""
    try:
        loader = getattr(hub.setup().core, "loader", None)
    except Exception:  # the set-up failed: the first session request reports it
        return
    advertise = getattr(loader, "advertise", None)
    if callable(advertise):
        try:
            await trio.to_thread.run_sync(advertise, url)
        except Exception as exc:  # the store's next lease names it anyway
            log.warning("could not name this server in the session store's leases: %s", exc)


async def _serve_until_stopped(
    settings: ServeSettings,
    hub: AcpHub,
    listener: trio.SocketListener | None,
    on_ready: Callable[[Ready], None],
    stop: trio.Event,
) -> None:
    from hypercorn.trio import serve as hypercorn_serve

    unix = UnixServer(hub)
    async with trio.open_nursery() as nursery:
        registry = ConnectionRegistry(hub, nursery)
        app = ServeApp(registry=registry, health=partial(health, hub), token=settings.token)
        binds = await nursery.start(partial(hypercorn_serve, app, hypercorn_config(settings), shutdown_trigger=stop.wait))
        base = binds[0].rstrip("/")
        app.origins = own_origins(settings.listen.host, int(base.rpartition(":")[2]), loopback=settings.listen.loopback)
        accepting = trio.CancelScope()
        if listener is not None:
            nursery.start_soon(_accept_unix, listener, unix, nursery, accepting)
        ready = Ready(url=f"{base}{ACP_PATH}", socket=str(settings.socket_path) if listener else None)
        write_state(settings.state_file, ServerState(
            pid=os.getpid(), version=agentcore.__version__, url=ready.url, health_url=f"{base}{HEALTH_PATH}",
            socket=ready.socket, started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        ))  # fmt: skip
        on_ready(ready)
        await _advertise(hub, ready.url)
        await stop.wait()
        log.info("shutting down")
        accepting.cancel()  # Hypercorn stopped accepting when stop was set
        await end_running_turns(hub)
        await hub.aclose()
        registry.end_all("the server is shutting down")
        unix.end_all()
        nursery.cancel_scope.deadline = trio.current_time() + SHUTDOWN_GRACE_S


async def end_running_turns(hub: AcpHub) -> None:
    """Cancel every running turn and give it :data:`TURN_UNWIND_S` to end, so it is
    journaled as a cancelled turn (text already shown kept) rather than cut off
    by the session closing under it."""
    running = [live.session for live in hub.sessions.values() if live.session.turn_running]
    for session in running:
        session.cancel()
    with trio.move_on_after(TURN_UNWIND_S):
        while any(session.turn_running for session in running):
            await trio.sleep(UNWIND_POLL_S)


async def _accept_unix(listener: trio.SocketListener, unix: UnixServer, nursery: trio.Nursery, scope: trio.CancelScope) -> None:
    with scope:
        await trio.serve_listeners(unix.handle, [listener], handler_nursery=nursery)


async def _watch_signals(stop: trio.Event, everything: trio.CancelScope) -> None:
    """The first SIGTERM or SIGINT shuts down in order; a second one cancels what is left."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s", signal.Signals(signum).name)
            if stop.is_set():
                everything.cancel()
            stop.set()
