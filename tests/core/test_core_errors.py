"""One error root: every exception agentcore defines is an AgentcoreError, so a
frontend can catch known conditions by type (never by message text)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import agentcore
from agentcore.errors import AgentcoreError, ConfigError, InputError, SessionError

# Modules that need an optional extra (a sound device) to import at all.
OPTIONAL = frozenset({"agentcore.live.devices"})


def _agentcore_exceptions() -> list[type[BaseException]]:
    """Every exception class of the installed packages: agentcore and the
    frontends installed under it (``agentcore.acp``, ``agentcore.cli``)."""
    import agentcore.acp
    import agentcore.cli

    found = []
    infos = [
        info
        for package in (agentcore, agentcore.acp, agentcore.cli)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    ]
    for info in infos:
        if info.name in OPTIONAL or info.name.endswith(".__main__"):  # __main__ runs the program
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == info.name:
                found.append(value)
    return found


def test_every_agentcore_exception_is_an_agentcore_error() -> None:
    classes = _agentcore_exceptions()
    assert len(classes) > 40  # the walk really found the tree
    strays = sorted(f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, AgentcoreError))
    assert strays == []


def test_families_keep_their_older_bases_for_existing_except_clauses() -> None:
    from agentcore.session import SessionNotFound
    from agentcore.turn import TurnAbortedError

    assert issubclass(ConfigError, ValueError) and issubclass(InputError, ValueError)
    assert issubclass(SessionNotFound, SessionError) and issubclass(SessionNotFound, LookupError)
    assert issubclass(TurnAbortedError, SessionError) and issubclass(TurnAbortedError, RuntimeError)
    error = ConfigError("bad value", source="config.toml", key="model", allowed="a model id")
    assert str(error) == "config.toml: model: bad value (allowed: a model id)"
