"""The optional OS sandbox for tool processes (Linux, bubblewrap).

With ``[shell] sandbox = "workspace-write"`` bash, background shells and hooks
run under ``bwrap``:

* the whole file system read-only, except the workspace roots (read-write);
* ``/tmp`` a fresh, empty tmpfs (the workspace stays reachable if it lives there);
  ``/dev`` and ``/proc`` minimal and private;
* the user's secret stores hidden: an empty tmpfs over each directory
  (:data:`SECRET_HOME_DIRS`, the agent's own config and state directories) and
  ``/dev/null`` over each file (:data:`SECRET_HOME_FILES`, container-engine
  sockets, the ssh agent socket);
* no network (``--unshare-net``) unless ``sandbox_network = true``;
* its own PID namespace, dying with its parent (``--die-with-parent``): killing
  the ``bwrap`` process group ends everything inside, so timeouts and
  cancellation work as without the sandbox. That parent is a small shell that
  waits for ``bwrap`` (:data:`PARENT_SCRIPT`), never the agent itself: the
  kernel's parent-death signal follows the *thread* that forked, and trio
  forks from worker threads that exit when idle, which killed every sandboxed
  command after ten seconds; a new terminal session
  (``--new-session``) so nothing inside can push keystrokes into the user's tty.

Invariant: :func:`sandbox_argv` is pure; a missing ``bwrap`` is a
:class:`SandboxUnavailable` with a message for the user, never a traceback.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from agentcore.errors import ToolError

BWRAP_PATH = Path("/usr/bin/bwrap")  # where distributions install bubblewrap
SANDBOX_TMP = "/tmp"  # what TMPDIR points at inside: the fresh tmpfs
SHELL = "/bin/sh"
# Runs bwrap as a child (never exec'd over: a shell may exec a lone command) and
# exits with its status, so bwrap's parent lives exactly as long as bwrap does.
PARENT_SCRIPT = '"$@"; exit $?'
PARENT_NAME = "agentcore-sandbox"
SECRET_HOME_DIRS = (
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gcloud",
    ".docker",
    ".kube",
    ".azure",
    ".config/gh",
    ".password-store",
    ".local/share/keyrings",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
)
SECRET_HOME_FILES = (".netrc", ".git-credentials", ".npmrc", ".pypirc", ".pgpass", ".my.cnf")
SECRET_SYSTEM_FILES = ("/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock")


class SandboxMode(enum.Enum):
    OFF = "off"
    WORKSPACE_WRITE = "workspace-write"


class SandboxUnavailable(ToolError):
    """The sandbox is configured but cannot run here (no bubblewrap, not Linux)."""


@attrs.frozen
class SandboxPolicy:
    """How tool processes are confined. ``home`` and ``env`` are injected (tests
    point HOME at a temporary directory); ``private_dirs`` are the agent's own
    config and state directories, hidden like the user's secret stores."""

    mode: SandboxMode = SandboxMode.OFF
    network: bool = False
    bwrap: Path = BWRAP_PATH
    home: Path | None = None
    private_dirs: tuple[Path, ...] = ()

    @property
    def enabled(self) -> bool:
        match self.mode:
            case SandboxMode.OFF:
                return False
            case SandboxMode.WORKSPACE_WRITE:
                return True

    def problem(self) -> str | None:
        """Why the sandbox cannot run here, or None when it can (or is off)."""
        if not self.enabled:
            return None
        if not sys.platform.startswith("linux"):
            return f'[shell] sandbox = "{self.mode.value}" needs Linux (bubblewrap); this is {sys.platform}.'
        if not (self.bwrap.is_file() and os.access(self.bwrap, os.X_OK)):
            return (
                f'[shell] sandbox = "{self.mode.value}" needs bubblewrap, but {self.bwrap} is missing. '
                'Install it (e.g. `apt install bubblewrap`) or set [shell] sandbox = "off".'
            )
        return None

    def check(self) -> None:
        problem = self.problem()
        if problem is not None:
            raise SandboxUnavailable(problem)


def hidden_paths(policy: SandboxPolicy, env: Mapping[str, str]) -> tuple[list[Path], list[Path]]:
    """(directories, files) to hide, those that exist. Reads the file system."""
    home = policy.home
    dirs = [home / d for d in SECRET_HOME_DIRS] if home is not None else []
    files = [home / f for f in SECRET_HOME_FILES] if home is not None else []
    dirs += list(policy.private_dirs)
    files += [Path(p) for p in SECRET_SYSTEM_FILES]
    if env.get("SSH_AUTH_SOCK"):
        files.append(Path(env["SSH_AUTH_SOCK"]))
    return [d for d in dirs if d.is_dir()], [f for f in files if f.exists() and not f.is_dir()]


def sandbox_argv(
    policy: SandboxPolicy,
    command: Sequence[str],
    *,
    writable: Iterable[Path],
    cwd: Path,
    hidden_dirs: Iterable[Path] = (),
    hidden_files: Iterable[Path] = (),
) -> list[str]:
    """The ``bwrap`` command line running ``command`` confined by ``policy``. Pure.

    Mount order matters: later mounts cover earlier ones, so the writable roots
    come after the tmpfs ``/tmp`` and the hidden paths after the roots (a
    workspace at ``~`` still hides ``~/.ssh``)."""
    argv = [str(policy.bwrap), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", SANDBOX_TMP]
    for root in writable:
        argv += ["--bind", str(root), str(root)]
    for directory in hidden_dirs:
        argv += ["--tmpfs", str(directory)]
    for file in hidden_files:
        argv += ["--ro-bind", os.devnull, str(file)]
    if not policy.network:
        argv.append("--unshare-net")
    argv += ["--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session", "--chdir", str(cwd), "--"]
    return argv + list(command)


def sandbox_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment inside: temporary files go to the sandbox's own ``/tmp``."""
    return {**env, "TMPDIR": SANDBOX_TMP}


@attrs.frozen
class ProcessConfinement:
    """A policy bound to the roots of one workspace: what LocalShell and hooks use."""

    policy: SandboxPolicy
    roots: tuple[Path, ...]

    def wrap(self, command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        """(argv, env) to start: unchanged when the sandbox is off; raises
        :class:`SandboxUnavailable` when it is on but cannot run."""
        if not self.policy.enabled:
            return list(command), dict(env)
        self.policy.check()
        dirs, files = hidden_paths(self.policy, env)
        argv = sandbox_argv(self.policy, command, writable=self.roots, cwd=cwd, hidden_dirs=dirs, hidden_files=files)
        return [SHELL, "-c", PARENT_SCRIPT, PARENT_NAME, *argv], sandbox_env(env)
