"""The live sessions of an ACP agent, shared by every connection it serves.

``agent acp`` (stdio) serves one connection with a hub of its own, and its
sessions close with that connection. ``agent serve`` holds one hub for every
connection (WebSocket, Streamable HTTP, Unix socket, the stdio bridge): a
session outlives the connection that opened it, a turn keeps running (and is
journaled) when its client goes away, and another connection can attach to it.

Invariant: a session id maps to at most one live session in a hub, and every
live session's tasks run in the hub's nursery, never in a connection's.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from agentcore.acp.agent import AcpAgent, AgentSetup, ClientInfo, SetupFactory
from agentcore.acp.jsonrpc import INTERNAL_ERROR, Connection, JsonRpcError, LineTransport, MessageTransport
from agentcore.acp.live import LiveSession
from agentcore.gc_pause import LongLivedHeap

log = logging.getLogger("acp.hub")


class AcpHub:
    """Create with :func:`open_hub`; :meth:`serve` one connection per transport."""

    def __init__(
        self,
        setup: SetupFactory,
        nursery: trio.Nursery,
        *,
        keep_sessions: bool,
        client_setup: ClientSetupFactory | None = None,
        heap: LongLivedHeap | None = None,
    ) -> None:
        self._setup_factory = setup
        self._setup: AgentSetup | None = None
        # A client on the local socket (the `agent acp` bridge) hands over its own
        # environment and directory; sessions it opens are set up from those.
        self._client_setup = client_setup
        self._client_setups: dict[str, AgentSetup] = {}
        self.heap = heap  # a server's GC policy (None: leave the collector alone, as a library must)
        self.nursery = nursery  # where sessions live
        self.keep_sessions = keep_sessions  # True: sessions outlive connections (the server)
        self.sessions: dict[str, LiveSession] = {}
        self.connections = 0  # currently served
        self._arrivals = itertools.count()  # one order of arrival across connections

    def setup(self) -> AgentSetup:
        """The agent set-up, made on first use (a configuration error is the user's to fix)."""
        if self._setup is None:
            try:
                self._setup = self._setup_factory()
            except Exception as exc:
                log.exception("agent setup failed")
                raise JsonRpcError(INTERNAL_ERROR, f"Agent setup failed: {exc}") from None
        return self._setup

    def setup_for_client(self, env: Mapping[str, str], cwd: Path, flags: Mapping[str, Any] | None = None) -> AgentSetup:
        """The set-up for a client's own environment, directory and selection
        flags (one per distinct triple, reused); the server's own when it has no
        factory for them."""
        if self._client_setup is None:
            return self.setup()
        flags = dict(flags or {})
        key = hashlib.sha256(json.dumps([sorted(env.items()), str(cwd), sorted(flags.items())]).encode()).hexdigest()
        if key not in self._client_setups:
            try:
                self._client_setups[key] = self._client_setup(env, cwd, flags)
            except Exception as exc:
                log.exception("agent setup for a client failed")
                raise JsonRpcError(INTERNAL_ERROR, f"Agent setup failed: {exc}") from None
        return self._client_setups[key]

    async def serve(
        self,
        transport: MessageTransport,
        *,
        client_caps: dict[str, Any] | None = None,
        first_seq: int = 0,
        client: ClientInfo | None = None,
    ) -> None:
        """Serve one connection until the peer closes it. ``client_caps`` and
        ``first_seq`` are for a fast path that answered ``initialize`` already;
        ``client`` describes the peer (for logs and attach decisions)."""
        self.connections += 1
        try:
            async with trio.open_nursery() as nursery:
                for _ in range(first_seq):  # messages a fast path answered before this connection existed
                    next(self._arrivals)
                conn = Connection.over(transport, arrivals=self._arrivals)
                agent = AcpAgent(conn, self, nursery, client_caps=client_caps, client=client)
                conn.dispatcher = agent
                try:
                    await conn.serve()
                finally:
                    with trio.CancelScope(shield=True):
                        await agent.disconnected()
                    nursery.cancel_scope.cancel()
        finally:
            self.connections -= 1

    def add(self, live: LiveSession) -> None:
        self.sessions[live.id] = live
        self.settle()

    def settle(self) -> None:
        """A session opened or a turn ended: what is alive now is long-lived."""
        if self.heap is not None:
            self.heap.settle()

    async def reclaim_periodically(self) -> None:
        assert self.heap is not None
        while True:
            await trio.sleep(self.heap.RECLAIM_INTERVAL_S)
            self.heap.reclaim()

    async def close_session(self, session_id: str) -> bool:
        """Close a live session (its running prompt answers ``cancelled``). False if not live."""
        live = self.sessions.pop(session_id, None)
        if live is None:
            return False
        with trio.CancelScope(shield=True):
            await live.close()
        return True

    async def aclose(self) -> None:
        """Close every session: running turns end as cancelled and are journaled."""
        for session_id in list(self.sessions):
            await self.close_session(session_id)


ClientSetupFactory = Callable[[Mapping[str, str], Path, Mapping[str, Any]], AgentSetup]  # env, cwd, flags


@asynccontextmanager
async def open_hub(
    setup: SetupFactory,
    *,
    keep_sessions: bool,
    client_setup: ClientSetupFactory | None = None,
    manage_gc: bool = False,
) -> AsyncIterator[AcpHub]:
    """A hub whose sessions all close when the block ends. ``manage_gc`` (a
    server process, never a library or a test) applies :class:`LongLivedHeap`."""
    async with trio.open_nursery() as nursery:
        heap = LongLivedHeap() if manage_gc else None
        hub = AcpHub(setup, nursery, keep_sessions=keep_sessions, client_setup=client_setup, heap=heap)
        if heap is not None:
            heap.settle()
            nursery.start_soon(hub.reclaim_periodically)
        try:
            yield hub
        finally:
            with trio.CancelScope(shield=True):
                await hub.aclose()
            nursery.cancel_scope.cancel()


async def serve_acp(
    receive: trio.abc.ReceiveStream,
    send: trio.abc.SendStream,
    setup: SetupFactory,
    *,
    prefix: bytes = b"",
    first_seq: int = 0,
    client_caps: dict[str, Any] | None = None,
) -> None:
    """Serve one ACP connection (lines on two byte streams) until the client
    closes it; its sessions close with it (``agent acp``). ``agent serve``
    shares one hub among connections instead."""
    async with open_hub(setup, keep_sessions=False) as hub:
        transport = LineTransport(receive, send, prefix=prefix)
        await hub.serve(transport, client_caps=client_caps, first_seq=first_seq)
