"""``agent acp`` as a thin bridge to the local ``agent serve``.

An editor spawns ``agent acp`` (the bridge is the default; ``--no-bridge`` or
``AGENTCORE_ACP_BRIDGE=0`` run the agent in process) and talks ACP on its
stdio as usual. The bridge:

1. finds the server's Unix socket where ``agent serve`` puts it
   (``agent.sock`` in the runtime directory: ``$AGENTCORE_HOME/run``, else
   the platform's per-user runtime directory);
2. connects, or, when nothing listens there, starts ``agent serve --daemon``
   (this Python, this environment, one bridge at a time under a lock file)
   and connects once it answers;
3. sends ``_agentcore/bridge/hello`` with its whole environment and working
   directory, so the server sets this client's sessions up as an in-process
   ``agent acp`` started here would be (keys, base URLs, ``AGENTCORE_*``,
   ``PATH``, locale, project configuration);
4. if the server runs another version of agentcore (or predates the hello),
   stops it and starts a fresh one, once;
5. relays stdin to the socket and the socket to stdout byte for byte until
   either side closes (stdin's EOF half-closes the socket, so answers still
   in flight arrive before the server's EOF ends the bridge).

Anything that goes wrong before the relay starts is one line on stderr and
:func:`main` returns None: the caller runs the in-process agent instead, with
stdin untouched. stdout carries nothing but the server's protocol bytes.

Standard library only, and little of it: the editor waits for ``initialize``,
which a warm server answers within milliseconds, so this module's import and
the socket work must stay far below Python's own start-up. The runtime
directory is computed here rather than imported from
``agentcore.acp.remote.settings`` (which loads attrs and the configuration
wing); ``tests/serve/test_serve_bridge.py`` keeps the two in step.
"""

from __future__ import annotations

import _socket  # the C module: `socket` adds ~4 ms of enum set-up an editor would wait for
import _thread  # likewise for `threading`: one plain thread is all the relay needs
import errno
import json
import os
import stat
import sys
import time
from collections.abc import Mapping, Sequence

from agentcore import __version__
from agentcore.errors import AgentcoreError

BRIDGE_ENV = "AGENTCORE_ACP_BRIDGE"  # "0": never use the bridge (the default is to use it)
LISTEN_ENV = "AGENTCORE_SERVE_LISTEN"  # HOST:PORT of a server the bridge starts (default: agent serve's own)
HOME_ENV = "AGENTCORE_HOME"

# As in agentcore.acp.remote.settings (a test compares the resolved paths).
SOCKET_NAME = "agent.sock"
RUNTIME_SUBDIR = "run"
APP_NAME = "agentcore"
UNIX_PATH_MAX_BYTES = 107  # sun_path holds 108 bytes on Linux, one of them the terminating NUL
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

LOCK_NAME = "bridge.lock"  # in the runtime directory: one bridge at a time starts the server
HELLO_METHOD = "_agentcore/bridge/hello"
HELLO_ID = "agentcore-bridge-hello"  # a string id no editor's numeric ids collide with (and it is answered first)
METHOD_NOT_FOUND = -32601  # JSON-RPC: a server from before the hello existed
HELLO_TIMEOUT_S = 30.0  # the first hello of an environment builds its agent set-up (configuration, provider choice)
DAEMON_START_TIMEOUT_S = 30.0  # `agent serve --daemon` returns once /health answers: imports + building the core
CONNECT_RETRY_S = 5.0  # after a start attempt, how long another process's server may take to accept
STOP_TIMEOUT_S = 20.0  # a stopped server gives turns 5 s and connections 10 s of grace
POLL_S = 0.02  # between checks while waiting on another process
RELAY_CHUNK_BYTES = 64 * 1024  # bytes per read on either side of the relay
PEERCRED_BYTES = 12  # struct ucred: pid, uid, gid as native 32-bit ints
SELECTION_FLAGS = ("--profile", "--provider", "--model", "--trust")
EXIT_OK = 0


class BridgeUnavailable(AgentcoreError):
    """The bridge cannot be used this time; the message is the one line shown on stderr."""


def wanted(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether ``agent acp ARGV`` goes through the bridge: yes, unless
    ``--no-bridge`` or ``AGENTCORE_ACP_BRIDGE=0`` (``--bridge`` wins over the variable)."""
    if "--no-bridge" in argv:
        return False
    return "--bridge" in argv or env.get(BRIDGE_ENV) != "0"


def main(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int | None:
    """Relay stdio to the server; None: fall back to the in-process agent."""
    env = os.environ if env is None else env
    flags = selection_flags([arg for arg in argv if arg not in ("--bridge", "--no-bridge")])
    if flags is None:
        return None  # anything else (--help, a typo) is the in-process parser's to answer
    try:
        sock, pending = connect(env, flags)
    except BridgeUnavailable as exc:
        _say(f"{exc}; running the agent in this process")
        return None
    return relay(sock, pending, stdin_fd=0, stdout_fd=1)


def selection_flags(args: Sequence[str]) -> dict[str, object] | None:
    """``--profile/--provider/--model VALUE`` (or ``=VALUE``) and ``--trust`` as the
    hello's ``flags``; None for anything else (the in-process parser answers it)."""
    flags: dict[str, object] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name == "--trust" and not eq:
            flags["trust"] = True
        elif name in SELECTION_FLAGS and name != "--trust":
            if not eq:
                if not rest or rest[0].startswith("-"):
                    return None
                value = rest.pop(0)
            flags[name[2:]] = value
        else:
            return None
    return flags


def _say(text: str) -> None:
    try:
        os.write(2, f"agent acp: {text}\n".encode("utf-8", "replace"))
    except OSError:
        pass  # no stderr: nothing else to tell


# ------------------------------------------------------------------ where


def runtime_dir(env: Mapping[str, str]) -> str:
    """``$AGENTCORE_HOME/run`` when set, else the per-user runtime directory
    (``$XDG_RUNTIME_DIR/agentcore`` when that is a private directory of this
    user; otherwise platformdirs decides, exactly as the server does)."""
    home = env.get(HOME_ENV, "").strip()
    if home:
        base = os.path.expanduser(home)
        if not os.path.isabs(base):  # the server (started in /) and its clients would each resolve it elsewhere
            raise BridgeUnavailable(f"{HOME_ENV} is a relative path ({home})")
        return os.path.join(base, RUNTIME_SUBDIR)
    xdg = env.get("XDG_RUNTIME_DIR", "")
    if sys.platform.startswith("linux") and os.path.isabs(xdg) and _private_runtime_base(xdg):
        return os.path.join(xdg, APP_NAME)
    import warnings

    import platformdirs  # ~7 ms: only where XDG_RUNTIME_DIR is missing or unusable

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(platformdirs.user_runtime_dir(APP_NAME))


def _private_runtime_base(path: str) -> bool:
    """What platformdirs accepts as ``$XDG_RUNTIME_DIR``: a real directory of
    this user, mode 0700, whose parent no other user can replace it in."""
    try:
        info = os.lstat(path)
        parent = os.lstat(os.path.dirname(os.path.normpath(path)) or "/")
    except OSError:
        return False
    mine = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == PRIVATE_DIR_MODE
    parent_safe = stat.S_ISDIR(parent.st_mode) and parent.st_uid in (0, os.geteuid()) and not parent.st_mode & 0o022
    return mine and parent_safe


def socket_path(env: Mapping[str, str]) -> str:
    return os.path.join(runtime_dir(env), SOCKET_NAME)


def check_runtime_dir(path: str) -> None:
    """The directory the socket lives in must be ours and closed to others, or
    the socket in it could be anybody's (the server refuses such a directory too)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return  # no server ever ran here: the one we start creates it
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise BridgeUnavailable(f"{path} is not a private directory of this user")


# ------------------------------------------------------------------ connect


def connect(env: Mapping[str, str], flags: Mapping[str, object] | None = None) -> tuple[_socket.socket, bytes]:
    """A socket to a server of this version that accepted our hello (with the
    selection ``flags``, which the server applies to this client's set-up), and
    the bytes it sent after the hello's answer (to be relayed first)."""
    flags = dict(flags or {})
    path = socket_path(env)
    if len(os.fsencode(path)) > UNIX_PATH_MAX_BYTES:
        raise BridgeUnavailable(f"the socket path {path} is longer than {UNIX_PATH_MAX_BYTES} bytes")
    check_runtime_dir(os.path.dirname(path))
    sock = _try_connect(path) or _start_server(env, path)
    version, pid, pending = _hello(sock, env, flags)
    if version == __version__:
        return sock, pending
    sock.close()
    _stop_server(pid, version)
    sock = _start_server(env, path)
    version, _pid, pending = _hello(sock, env, flags)
    if version != __version__:
        sock.close()
        raise BridgeUnavailable(f"agent serve at {path} runs agentcore {version or '(unknown)'}, this is {__version__}")
    return sock, pending


def _try_connect(path: str) -> _socket.socket | None:
    """A connected socket, or None when no server listens at ``path``."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(info.st_mode):
        raise BridgeUnavailable(f"{path} exists and is not a socket")
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            return None  # a socket file a dead server left behind: a new server replaces it
        raise BridgeUnavailable(f"cannot connect to {path}: {exc.strerror or exc}") from None
    return sock


def _peer(sock: _socket.socket) -> tuple[int | None, int | None]:
    """(pid, uid) of the process that listens, where the system tells (Linux)."""
    if not hasattr(_socket, "SO_PEERCRED"):
        return None, None
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, PEERCRED_BYTES)
    pid, uid = (int.from_bytes(creds[i : i + 4], sys.byteorder, signed=True) for i in (0, 4))
    return pid, uid


def _hello(sock: _socket.socket, env: Mapping[str, str], flags: Mapping[str, object]) -> tuple[str | None, int | None, bytes]:
    """Hand over environment and directory: (server version, server pid, bytes after the answer).
    The version is None for a server that does not know the hello (an older one)."""
    peer_pid, peer_uid = _peer(sock)
    if peer_uid is not None and peer_uid != os.getuid():
        sock.close()
        raise BridgeUnavailable(f"the server's socket belongs to uid {peer_uid}")
    try:
        params: dict[str, object] = {"env": dict(env), "cwd": os.getcwd()}
        if flags:
            params["flags"] = dict(flags)
        request = {"jsonrpc": "2.0", "id": HELLO_ID, "method": HELLO_METHOD, "params": params}
        sock.settimeout(HELLO_TIMEOUT_S)
        sock.sendall(json.dumps(request).encode() + b"\n")
        line, pending = _read_line(sock)
        sock.settimeout(None)
        answer = json.loads(line)
    except (OSError, ValueError) as exc:
        sock.close()
        reason = "did not answer in time" if isinstance(exc, TimeoutError) else f"failed ({exc})"
        raise BridgeUnavailable(f"the hello to agent serve {reason}") from None
    if not isinstance(answer, dict) or answer.get("id") != HELLO_ID:
        sock.close()
        raise BridgeUnavailable("agent serve did not answer the hello first")
    error, result = answer.get("error"), answer.get("result")
    if isinstance(error, dict) and error.get("code") == METHOD_NOT_FOUND:
        return None, peer_pid, pending
    if isinstance(error, dict) or not isinstance(result, dict):
        sock.close()
        message = error.get("message") if isinstance(error, dict) else "no result"
        raise BridgeUnavailable(f"agent serve refused the bridge: {message}")
    pid = peer_pid if peer_pid is not None else result.get("pid")
    version = result.get("version")
    if flags and result.get("flags") is not True and version == __version__:
        sock.close()  # a server that would set this client up without its flags
        raise BridgeUnavailable("agent serve does not take --provider/--model/--profile/--trust from a client")
    return (version if isinstance(version, str) else None), (pid if isinstance(pid, int) else None), pending


def _read_line(sock: _socket.socket) -> tuple[bytes, bytes]:
    buffer = b""
    while b"\n" not in buffer:
        chunk = sock.recv(RELAY_CHUNK_BYTES)
        if not chunk:
            raise ConnectionResetError(errno.ECONNRESET, "the server closed the connection")
        buffer += chunk
    line, _, rest = buffer.partition(b"\n")
    return line, rest


# ------------------------------------------------------------------ start / stop


def _start_server(env: Mapping[str, str], path: str) -> _socket.socket:
    """Start ``agent serve --daemon`` unless another bridge did meanwhile; a
    connected socket once it accepts."""
    directory = os.path.dirname(path)
    _private_dirs(directory)
    lock_fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        import fcntl

        fcntl.flock(lock_fd, fcntl.LOCK_EX)  # bounded: the holder's start attempt has a timeout
        sock = _try_connect(path)
        if sock is not None:
            return sock
        failure = _run_daemon(env, path)
        deadline = time.monotonic() + CONNECT_RETRY_S
        while True:  # a server started outside the lock (by hand) may be coming up
            sock = _try_connect(path)
            if sock is not None:
                return sock
            if time.monotonic() > deadline:
                raise BridgeUnavailable(failure or f"agent serve started but does not listen on {path}")
            time.sleep(POLL_S)
    finally:
        os.close(lock_fd)


def _run_daemon(env: Mapping[str, str], path: str) -> str | None:
    """Run ``agent serve --daemon``; None when it says the server is up, else why not."""
    import subprocess  # the cold path only: ~3 ms of imports a warm bridge never pays

    argv = [sys.executable, "-m", "agentcore.cli.main", "serve", "--daemon", "--socket", path]
    if env.get(LISTEN_ENV):
        argv += ["--listen", env[LISTEN_ENV]]
    try:
        done = subprocess.run(
            argv, env=dict(env), cwd="/", stdin=subprocess.DEVNULL, capture_output=True, timeout=DAEMON_START_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"agent serve did not start within {DAEMON_START_TIMEOUT_S:g} s"
    except OSError as exc:
        return f"cannot run agent serve: {exc.strerror or exc}"
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].removeprefix("agent serve: ") if lines else f"agent serve exited with status {done.returncode}"


def _stop_server(pid: int | None, version: str | None) -> None:
    """SIGTERM the server of another version and wait for it to be gone."""
    import signal

    if pid is None:
        raise BridgeUnavailable(f"agent serve runs agentcore {version or '(unknown)'} and its pid is unknown")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        raise BridgeUnavailable(f"cannot stop agent serve (pid {pid}) of agentcore {version}") from None
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid):
        if time.monotonic() > deadline:
            raise BridgeUnavailable(f"agent serve (pid {pid}, agentcore {version}) did not stop within {STOP_TIMEOUT_S:g} s")
        time.sleep(POLL_S)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # the pid now belongs to another user's process
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as status:
            return status.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # exited, not yet reaped
    except (OSError, IndexError):
        return True  # no /proc: trust the signal probe


def _private_dirs(path: str) -> None:
    """Create ``path`` and its missing parents 0700 (existing parents are left alone)."""
    missing = []
    current = path
    while not os.path.exists(current) and os.path.dirname(current) != current:
        missing.append(current)
        current = os.path.dirname(current)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIR_MODE)
        except FileExistsError:
            pass  # created concurrently
    check_runtime_dir(path)


# ------------------------------------------------------------------ relay


def relay(sock: _socket.socket, pending: bytes, *, stdin_fd: int, stdout_fd: int) -> int:
    """Copy ``stdin_fd`` to the socket (a thread) and the socket to ``stdout_fd``
    (this thread) until the server's side ends; returns the exit status."""
    stdin_done: list[bool] = []  # set by the stdin thread at EOF
    _thread.start_new_thread(_stdin_to_socket, (stdin_fd, sock, stdin_done))  # ends with the process
    try:
        _write_all(stdout_fd, pending)
        while chunk := sock.recv(RELAY_CHUNK_BYTES):
            _write_all(stdout_fd, chunk)
    except BrokenPipeError:
        pass  # the editor stopped reading: it is gone
    except OSError as exc:
        if not stdin_done:
            _say(f"the connection to agent serve failed: {exc.strerror or exc}")
    else:
        if not stdin_done:
            _say("agent serve closed the connection")
    finally:
        sock.close()  # the server sees EOF; the stdin thread ends with the process
    return EXIT_OK


def _stdin_to_socket(stdin_fd: int, sock: _socket.socket, done: list[bool]) -> None:
    try:
        while chunk := os.read(stdin_fd, RELAY_CHUNK_BYTES):
            sock.sendall(chunk)
        done.append(True)
        sock.shutdown(_socket.SHUT_WR)  # the server answers what is in flight, then ends the connection
    except OSError:
        pass  # the server's side ended first; the other direction sees it and says so


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
