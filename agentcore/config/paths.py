"""Where agentcore keeps its files: user config, state, and the project's ``.agent/``.

Two scopes, resolved separately because they have different lifetimes:

- :class:`AgentPaths` is process-wide: the user config directory (``config.toml``,
  ``profiles/``), the state directory (sessions, input history, spills, logs) and
  the profiles shipped with the package. ``AGENTCORE_HOME`` puts config and state
  under one directory (tests, portable installs); otherwise the platform's
  conventional places for the app ``agentcore`` are used (platformdirs).
- :class:`ProjectPaths` belongs to a session's working directory: the nearest
  ancestor holding ``.agent/`` or ``.git`` is the project root.

Nothing here reads ``os.environ`` or the process cwd: callers pass ``env`` and
``cwd`` so tests and embedders control both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

APP_NAME = "agentcore"
HOME_ENV = "AGENTCORE_HOME"
CONFIG_FILE_NAME = "config.toml"
LOCAL_CONFIG_FILE_NAME = "config.local.toml"
PROJECT_DIR_NAME = ".agent"
PROFILES_DIR_NAME = "profiles"
STATE_DIR_NAME = "state"  # under AGENTCORE_HOME
GIT_DIR_NAME = ".git"  # marks a repository root
# A directory holding one of these marks a project root (first match walking up).
PROJECT_MARKERS = (PROJECT_DIR_NAME, GIT_DIR_NAME)


@attrs.frozen
class AgentPaths:
    """Process-wide locations. Build with :func:`resolve_paths`."""

    config_dir: Path
    state_dir: Path
    shipped_profiles_dir: Path

    @property
    def user_config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE_NAME

    @property
    def user_profiles_dir(self) -> Path:
        return self.config_dir / PROFILES_DIR_NAME

    @property
    def sessions_dir(self) -> Path:
        return self.state_dir / "sessions"

    @property
    def input_history_file(self) -> Path:
        return self.state_dir / "input_history"

    @property
    def spill_dir(self) -> Path:
        return self.state_dir / "spills"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"


@attrs.frozen
class ProjectPaths:
    """The project a working directory belongs to."""

    root: Path

    @property
    def agent_dir(self) -> Path:
        return self.root / PROJECT_DIR_NAME

    @property
    def config_file(self) -> Path:
        return self.agent_dir / CONFIG_FILE_NAME

    @property
    def local_config_file(self) -> Path:
        """Personal overrides (not meant for version control), e.g. remembered permissions."""
        return self.agent_dir / LOCAL_CONFIG_FILE_NAME

    @property
    def profiles_dir(self) -> Path:
        return self.agent_dir / PROFILES_DIR_NAME


def shipped_profiles_dir() -> Path:
    """The ``profiles/`` folder, installed as ``agentcore.shipped_profiles``.

    Falls back to the ``profiles/`` folder beside the ``agentcore`` package, which
    is where it sits in a source checkout whose install does not list it.
    """
    from importlib.resources import files  # lazy: only needed when profiles are looked up

    try:
        return Path(str(files("agentcore.shipped_profiles")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / PROFILES_DIR_NAME


def resolve_paths(
    env: Mapping[str, str],
    *,
    user_config_dir: Path | None = None,
    state_dir: Path | None = None,
    profiles_dir: Path | None = None,
) -> AgentPaths:
    """Resolve the process-wide locations.

    Precedence for each directory: the explicit argument, then ``AGENTCORE_HOME``
    (``$AGENTCORE_HOME`` for config, ``$AGENTCORE_HOME/state`` for state), then
    the platform default for the app ``agentcore``.
    """
    home_value = env.get(HOME_ENV, "").strip()
    home = Path(home_value).expanduser() if home_value else None
    if user_config_dir is None:
        user_config_dir = home if home is not None else _platform_config_dir()
    if state_dir is None:
        state_dir = home / STATE_DIR_NAME if home is not None else _platform_state_dir()
    if profiles_dir is None:
        profiles_dir = shipped_profiles_dir()
    return AgentPaths(config_dir=user_config_dir, state_dir=state_dir, shipped_profiles_dir=profiles_dir)


def find_project(cwd: Path) -> ProjectPaths:
    """The nearest ancestor of ``cwd`` (itself included) holding ``.agent/`` or ``.git``.

    Falls back to ``cwd`` itself, so ``agent config set --project`` in a fresh
    directory creates ``./.agent/config.toml`` there.
    """
    start = cwd.resolve()
    return ProjectPaths(root=nearest_ancestor_with(start, PROJECT_MARKERS) or start)


def nearest_ancestor_with(start: Path, markers: Sequence[str]) -> Path | None:
    """``start`` or its nearest ancestor holding an entry named like one of
    ``markers`` (walking up lexically from ``start`` as given); None at the top."""
    for candidate in (start, *start.parents):
        if any((candidate / marker).exists() for marker in markers):
            return candidate
    return None


def _platform_config_dir() -> Path:
    import platformdirs  # lazy: AGENTCORE_HOME users and tests never pay for it

    return platformdirs.user_config_path(APP_NAME)


def _platform_state_dir() -> Path:
    import platformdirs

    return platformdirs.user_state_path(APP_NAME)
