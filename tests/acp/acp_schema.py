"""Validate every agent->client ACP message against the official v1 schemas,
the stable ``schema.json`` and the ``schema.unstable.json`` beside it.

Each message is checked twice: the JSON-RPC envelope against the schema's
top-level ``Agent`` branch, and the payload against the *matching* definition
(the request's ``x-method`` for params, the answered request's method for a
result, ``Error`` for an error). The top-level union alone would accept a
``session/new`` result shaped like any other response, so it is not enough.

Used by the in-process tests and by the interop tests (which record the raw
lines on the wire). Kept free of pytest so both can import it by path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SCHEMA_DIR = Path(__file__).parent / "schema"
STABLE = "schema.json"
UNSTABLE = "schema.unstable.json"
SCHEMAS = (STABLE, UNSTABLE)  # every message must be valid under both
SCHEMA_PATH = SCHEMA_DIR / STABLE


class SchemaViolation(AssertionError):
    pass


@cache
def _schema(which: str = STABLE) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / which).read_text(encoding="utf-8"))


@cache
def _validator(name: str, which: str = STABLE) -> Draft202012Validator:
    defs = _schema(which)["$defs"]
    if name not in defs:
        raise KeyError(f"no definition {name!r} in the ACP schema {which}")
    return Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{name}"})


@cache
def _agent_envelope(which: str = STABLE) -> Draft202012Validator:
    schema = _schema(which)
    agent_branch = next(b for b in schema["anyOf"] if b.get("title") == "Agent")
    return Draft202012Validator({"$defs": schema["$defs"], **agent_branch})


@cache
def _method_defs(which: str = STABLE) -> dict[tuple[str, str], str]:
    """(method, role) -> definition name, role being request/response/notification."""
    table: dict[tuple[str, str], str] = {}
    for name, body in _schema(which)["$defs"].items():
        method = body.get("x-method")
        if method is None:
            continue
        if name.endswith("Request"):
            table[(method, "request")] = name
        elif name.endswith("Response"):
            table[(method, "response")] = name
        elif name.endswith("Notification"):
            table[(method, "notification")] = name
    return table


def validate_definition(name: str, instance: Any, which: str = STABLE) -> None:
    """Raise SchemaViolation when ``instance`` does not match ``$defs/name``."""
    errors = sorted(_validator(name, which).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        raise SchemaViolation(_describe(f"{name} ({which})", instance, errors))


def _describe(name: str, instance: Any, errors: list[ValidationError]) -> str:
    lines = [f"{name} violation: {json.dumps(instance)[:600]}"]
    for err in errors[:5]:
        best = err
        if err.context:
            best = min(err.context, key=lambda e: len(list(e.absolute_path)) * -1)
        lines.append(f"  at {list(best.absolute_path)}: {best.message[:300]}")
    return "\n".join(lines)


def definition_for(method: str, role: str, which: str = STABLE) -> str | None:
    return _method_defs(which).get((method, role))


def _unstable_only(method: str, role: str) -> bool:
    """A method only the unstable schema defines (``session/fork``): checked there alone."""
    return definition_for(method, role, STABLE) is None and definition_for(method, role, UNSTABLE) is not None


class AgentTranscriptChecker:
    """Checks the agent's side of one connection, message by message, against
    the stable and the unstable schema.

    ``client_sent`` must be fed every client->agent message (so responses can
    be matched to the method they answer); ``agent_sent`` validates.
    """

    def __init__(self) -> None:
        self._client_requests: dict[Any, str] = {}
        self.checked = 0

    def client_sent(self, message: Any) -> None:
        if isinstance(message, dict) and "method" in message and "id" in message:
            self._client_requests[_key(message["id"])] = message["method"]

    def agent_sent(self, message: Any) -> None:
        method = message.get("method") if "method" in message else self._client_requests.get(_key(message.get("id")))
        role = ("request" if "id" in message else "notification") if "method" in message else "response"
        for which in SCHEMAS:
            if which == STABLE and isinstance(method, str) and _unstable_only(method, role):
                continue
            self._check(message, which)
        self.checked += 1

    def _check(self, message: Any, which: str) -> None:
        envelope_errors = list(_agent_envelope(which).iter_errors(message))
        if envelope_errors:
            raise SchemaViolation(_describe(f"Agent message ({which})", message, envelope_errors))
        if "method" in message:
            self._check_outgoing(message, which)
        elif "error" in message:
            validate_definition("Error", message["error"], which)
        else:
            method = self._client_requests.get(_key(message["id"]))
            if method is None:
                raise SchemaViolation(f"agent answered id {message['id']!r}, which the client never sent: {message}")
            if not method.startswith("_"):
                name = definition_for(method, "response", which)
                if name is None:
                    raise SchemaViolation(f"agent returned a result for {method!r}, which has no response schema in {which}")
                validate_definition(name, message["result"], which)

    def _check_outgoing(self, message: Mapping[str, Any], which: str) -> None:
        method = message["method"]
        if method.startswith("_"):
            return  # extension methods are free-form
        role = "request" if "id" in message else "notification"
        name = definition_for(method, role, which)
        if name is None:
            raise SchemaViolation(f"agent sent {role} {method!r}, which the v1 schema ({which}) does not define")
        side = _schema(which)["$defs"][name].get("x-side")
        if side not in ("client", "protocol"):
            raise SchemaViolation(f"agent sent {method!r}, which is handled by the {side} side")
        validate_definition(name, message.get("params"), which)


def _key(request_id: Any) -> tuple[str, Any]:
    return (type(request_id).__name__, request_id)


def check_transcript(records: Iterable[tuple[str, Any]]) -> int:
    """Validate a recorded transcript of (direction, message) with direction
    ``"in"`` (client->agent) or ``"out"`` (agent->client). Returns messages checked."""
    checker = AgentTranscriptChecker()
    for direction, message in records:
        if direction == "in":
            checker.client_sent(message)
        elif direction == "out":
            checker.agent_sent(message)
        else:
            raise ValueError(f"unknown direction {direction!r}")
    return checker.checked
