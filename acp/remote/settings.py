"""Where ``agent serve`` listens and which secret guards it, decided before anything binds.

Invariants:

* the server binds a non-loopback address only when ``--allow-remote`` says
  so (:func:`check_exposure`), and never without a token;
* the token is 32 random bytes (hex) kept in a ``0600`` file of the state
  directory, or given by :data:`TOKEN_ENV`; a token from the environment
  shorter than :data:`MIN_TOKEN_CHARS` is refused;
* the runtime directory (socket, state file) is ``0700`` and owned by this
  user, or the server does not start.

Nothing here reads ``os.environ``: callers pass ``env``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path

import attrs

from agentcore.acp.remote.errors import ExposureRefused, ServeError, SocketUnavailable
from agentcore.config import resolve_paths
from agentcore.private_files import open_private, private_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8417  # TCP port of `agent serve` when --listen gives none; unassigned by IANA
TOKEN_ENV = "AGENTCORE_SERVE_TOKEN"  # a token given by the environment instead of the file
TOKEN_FILE_NAME = "serve-token"  # in the state directory
TOKEN_BYTES = 32  # random bytes of a generated token (64 hex characters)
MIN_TOKEN_CHARS = 32  # a token from the environment must be at least this long
SOCKET_NAME = "agent.sock"
STATE_FILE_NAME = "serve.json"
RUNTIME_SUBDIR = "run"  # under AGENTCORE_HOME, which keeps tests and portable installs self-contained
APP_NAME = "agentcore"
UNIX_PATH_MAX_BYTES = 107  # sun_path holds 108 bytes on Linux, one of them the terminating NUL


@attrs.frozen
class Listen:
    """A TCP address to bind. ``port`` 0 lets the system pick one."""

    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


@attrs.frozen
class ServeSettings:
    """Everything the server needs to start; built by the CLI, injected by tests."""

    listen: Listen
    socket_path: Path | None  # None: no Unix socket
    runtime_dir: Path  # the state file lives here
    token: str
    allow_remote: bool = False

    @property
    def state_file(self) -> Path:
        return self.runtime_dir / STATE_FILE_NAME


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; names that resolve elsewhere are not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_listen(value: str | None) -> Listen:
    """``HOST:PORT``, ``:PORT``, ``PORT`` or ``[V6]:PORT``; None gives the default address."""
    if value is None:
        return Listen(DEFAULT_HOST, DEFAULT_PORT)
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = DEFAULT_HOST, value
    host = host.strip("[]") or DEFAULT_HOST
    try:
        port = int(port_text)
    except ValueError:
        raise ServeError(f"--listen {value!r}: expected HOST:PORT, e.g. 127.0.0.1:{DEFAULT_PORT}") from None
    if not 0 <= port <= 65535:
        raise ServeError(f"--listen {value!r}: the port must be between 0 and 65535")
    return Listen(host, port)


def check_exposure(listen: Listen, *, allow_remote: bool) -> None:
    """Refuse a non-loopback bind unless the user asked for it by name."""
    if not listen.loopback and not allow_remote:
        raise ExposureRefused(
            f"refusing to listen on {listen.host}: other machines could reach the agent; "
            "pass --allow-remote to accept that (every request still needs the token)"
        )


def runtime_dir(env: Mapping[str, str]) -> Path:
    """``$AGENTCORE_HOME/run`` when set, else the platform's per-user runtime directory."""
    home = env.get("AGENTCORE_HOME", "").strip()
    if home:
        return Path(home).expanduser() / RUNTIME_SUBDIR
    import platformdirs

    with warnings.catch_warnings():  # a missing XDG_RUNTIME_DIR falls back to /tmp/runtime-UID, checked below
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir(APP_NAME))


def ensure_private_runtime_dir(path: Path) -> Path:
    """Create ``path`` 0700; refuse one owned by someone else or open to others
    (a shared /tmp fallback another user created first)."""
    private_dir(path)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise SocketUnavailable(f"{path} is not a private directory of this user; remove it or pass --socket")
    return path


def default_socket_path(env: Mapping[str, str]) -> Path:
    return runtime_dir(env) / SOCKET_NAME


def check_socket_path(path: Path) -> None:
    if len(os.fsencode(path)) > UNIX_PATH_MAX_BYTES:
        raise SocketUnavailable(f"socket path {path} is longer than {UNIX_PATH_MAX_BYTES} bytes; pass a shorter --socket")


def token_file(env: Mapping[str, str]) -> Path:
    return resolve_paths(env).state_dir / TOKEN_FILE_NAME


def resolve_token(env: Mapping[str, str]) -> str:
    """The token from :data:`TOKEN_ENV`, else from the token file (created on first use)."""
    given = env.get(TOKEN_ENV, "").strip()
    if given:
        if len(given) < MIN_TOKEN_CHARS:
            raise ExposureRefused(f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN_CHARS} random characters")
        return given
    path = token_file(env)
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= MIN_TOKEN_CHARS:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # an older copy with wider modes
        return existing
    token = secrets.token_hex(TOKEN_BYTES)
    with open_private(path, "w") as out:
        out.write(token + "\n")
    return token
