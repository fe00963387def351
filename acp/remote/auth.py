"""Whether an HTTP or WebSocket request may be processed at all.

:func:`check_request` is a pure function of the request head and the server's
secrets. It runs before anything else looks at a request, in this order:

1. a credential in the query string (which lands in logs and browser history)
   is refused with 400, whatever the path;
2. an ``Origin`` that is not the server's own is refused with 403: a web page
   on another site (or one that rebinds its DNS name to 127.0.0.1) must not
   drive the agent; the server's own origins come from its listen address,
   never from the request's ``Host`` header;
3. every path but ``/health`` needs the token, as ``Authorization: Bearer``
   or, for browsers that cannot set headers on a WebSocket, the subprotocol
   ``agentcore.bearer.<token>``; compared in constant time; 401 otherwise.

Invariant: a refusal's body is one of a few fixed texts; it never depends on
sessions, connections or how close a wrong token was.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl

import attrs

HEALTH_PATH = "/health"
BEARER_PREFIX = "bearer "  # compared case-insensitively, as RFC 6750 allows
SUBPROTOCOL_TOKEN_PREFIX = "agentcore.bearer."
# Query parameter names that carry credentials in other servers' URLs.
CREDENTIAL_PARAMS = frozenset({"token", "access_token", "auth", "authorization", "bearer", "api_key", "apikey", "key"})

Headers = Sequence[tuple[bytes, bytes]]


@attrs.frozen
class Refusal:
    status: int
    body: bytes  # a fixed JSON text
    headers: tuple[tuple[bytes, bytes], ...] = ()


QUERY_TOKEN = Refusal(400, b'{"error":"credentials in the URL are refused; send Authorization: Bearer"}')
FOREIGN_ORIGIN = Refusal(403, b'{"error":"forbidden origin"}')
UNAUTHORIZED = Refusal(401, b'{"error":"unauthorized"}', ((b"www-authenticate", b"Bearer"),))


def header(headers: Headers, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), decoded as Latin-1."""
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def own_origins(host: str, port: int, *, loopback: bool) -> frozenset[str]:
    """The ``Origin`` values of pages the server itself serves (``http`` only: no TLS here)."""
    names = {host if ":" not in host else f"[{host}]"}
    if loopback:
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return frozenset(f"http://{name}:{port}" for name in names)


def offered_subprotocols(headers: Headers) -> list[str]:
    value = header(headers, b"sec-websocket-protocol") or ""
    return [item.strip() for item in value.split(",") if item.strip()]


def _query_carries_credentials(query_string: bytes, token: str) -> bool:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    for name, value in pairs:
        if name.lower() in CREDENTIAL_PARAMS:
            return True
        if any(hmac.compare_digest(part.encode(), token.encode()) for part in (name, value)):
            return True  # the token itself, under any name or as a bare ?TOKEN
    return False


def _presented_tokens(headers: Headers, subprotocols: Iterable[str]) -> list[str]:
    tokens = []
    authorization = header(headers, b"authorization")
    if authorization is not None and authorization[: len(BEARER_PREFIX)].lower() == BEARER_PREFIX:
        tokens.append(authorization[len(BEARER_PREFIX) :].strip())
    tokens += [p[len(SUBPROTOCOL_TOKEN_PREFIX) :] for p in subprotocols if p.startswith(SUBPROTOCOL_TOKEN_PREFIX)]
    return tokens


def check_request(
    *, path: str, query_string: bytes, headers: Headers, token: str, origins: frozenset[str]
) -> Refusal | None:
    """None when the request may go on; else the answer to send instead."""
    if query_string and _query_carries_credentials(query_string, token):
        return QUERY_TOKEN
    origin = header(headers, b"origin")
    if origin is not None and origin.rstrip("/") not in origins:
        return FOREIGN_ORIGIN
    if path == HEALTH_PATH:
        return None
    expected = token.encode()
    # Every presented token is compared (no early exit), so timing says nothing about which one matched.
    matches = [hmac.compare_digest(given.encode(), expected) for given in _presented_tokens(headers, offered_subprotocols(headers))]
    if not any(matches):
        return UNAUTHORIZED
    return None
