"""``agent serve``: one long-lived ACP agent reached over the network and a Unix socket.

The floors, bottom up:

- ``settings``: what to listen on, where files go, the token; the exposure rule
  (loopback unless ``--allow-remote``) decided before anything binds.
- ``auth``: one pure function deciding whether an HTTP or WebSocket request
  may be processed (query-string credentials, foreign ``Origin``, bearer token).
- ``outbox`` and ``connection``: an ACP connection over HTTP or WebSocket as a
  :class:`~agentcore.acp.jsonrpc.MessageTransport`, with bounded queues.
- ``asgi`` and ``websocket``: the ASGI app (``/acp``, ``/health``) Hypercorn serves.
- ``voice``: ``/voice``, a voice call (the offline cascade) into a live session.
- ``unix``: the same ACP, newline-delimited, over a Unix domain socket.
- ``state_file`` and ``server``: the running server, its state file and shutdown.

Every connection is served by one :class:`~agentcore.acp.hub.AcpHub`; sessions
belong to the hub, so they outlive the connection that opened them.
"""

from agentcore.acp.remote.errors import AlreadyServing, ExposureRefused, ServeError, SocketUnavailable

__all__ = ["AlreadyServing", "ExposureRefused", "ServeError", "SocketUnavailable"]
