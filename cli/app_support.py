"""What ``agent chat`` and ``agent run`` share: the flags they pass to
:func:`~agentcore.app.build_app`, and the errors that end start-up with a
message instead of a traceback."""

from __future__ import annotations

import argparse
from typing import Any

from agentcore.app import AppContext
from agentcore.errors import AgentcoreError
from agentcore.session import Session

# Problems a person fixes by changing a flag, a key or a file: shown as one line.
# Every known condition is an AgentcoreError (see agentcore.errors for the tree).
STARTUP_ERRORS: tuple[type[BaseException], ...] = (AgentcoreError,)


def app_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The selection flags plus ``--trust`` (None when absent, so the user config still counts)."""
    return {name: getattr(args, name, None) for name in ("profile", "provider", "model", "mode", "trust")}


def latest_session_id(app: AppContext) -> str | None:
    """The most recent session in the app's directory, if a store keeps sessions."""
    store = app.store
    if store is None:
        return None
    latest = getattr(store, "latest_for_cwd", None)
    if latest is not None:
        return latest(app.cwd)
    rows = app.core.list_sessions(cwd=app.cwd)
    return rows[0].id if rows else None


def resolve_session_id(app: AppContext, id_or_prefix: str) -> str:
    """The id of the saved session ``id_or_prefix`` names (a unique prefix is
    enough). Raises :class:`~agentcore.session.SessionNotFound` with a message
    for the user (none, or which several it matches)."""
    resolve = getattr(app.store, "resolve", None)
    return resolve(id_or_prefix) if resolve is not None else id_or_prefix


def session_to_open(app: AppContext, *, continue_: bool, resume: str | None) -> tuple[str | None, str | None]:
    """(session id to reopen or None for a new session, a note for the user) for
    ``--continue`` / ``--resume [ID]`` (an empty ``resume`` means the latest here)."""
    if continue_ or resume == "":
        latest = latest_session_id(app)
        return latest, None if latest else "no earlier session in this directory; starting a new one"
    if resume:
        return resolve_session_id(app, resume), None
    return None, None


def selection_reason(session: Session) -> str:
    """Why the session's provider was picked ("OPENAI_API_KEY is set"); "" when unknown."""
    return session.selection.reason if session.selection is not None else ""


def selection_notice(session: Session) -> str:
    """``using openai/gpt-4o (OPENAI_API_KEY is set)``: every frontend says what it picked and why."""
    reason = selection_reason(session)
    text = f"using {session.provider_name}/{session.model}"
    return f"{text} ({reason})" if reason else text
