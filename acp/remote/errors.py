"""The errors of ``agent serve``: each is a start-up or control problem shown as one line.

::

    AgentcoreError
    └── ServeError                  agent serve could not start or be reached
        ├── ExposureRefused             a non-loopback bind without --allow-remote, or a weak token
        ├── AlreadyServing              another server of this user is running (its state file says where)
        └── SocketUnavailable           the Unix socket path is unusable (in use, too long, unsafe directory)
"""

from __future__ import annotations

from agentcore.errors import AgentcoreError


class ServeError(AgentcoreError):
    """``agent serve`` cannot do what was asked; the message is the one line the user sees."""


class ExposureRefused(ServeError):
    """The server would be reachable by others without the safeguards that requires."""


class AlreadyServing(ServeError):
    """Another server of this user is running."""


class SocketUnavailable(ServeError):
    """The Unix socket cannot be created safely at its path."""
