"""Whether an HTTP or WebSocket request may be processed at all.

:func:`check_request` is a pure function of the request head and the server's
secrets. It runs before anything else looks at a request, in this order:

1. a credential in the query string (which lands in logs and browser history)
   is refused with 400, whatever the path;
2. an ``Origin`` that is not the server's own is refused with 403: a web page
   on another site (or one that rebinds its DNS name to 127.0.0.1) must not
   drive the agent; the server's own origins come from its listen address,
   never from the request's ``Host`` header;
3. every path but ``/health`` and the web page's public files (``/``,
   ``/static/...``, ``/auth``, which hold no secret) needs the token, as
   ``Authorization: Bearer`` or, for browsers that cannot set headers on a
   WebSocket, the subprotocol ``agentcore.bearer.<token>``; compared in
   constant time; or a web login cookie (:class:`WebLogins`) on a request
   that carries the server's own ``Origin`` (a browser's, never a program's);
   401 otherwise.

The web page trades the token once (``POST /auth``, the token in the body)
for a random login secret in an ``HttpOnly; SameSite=Strict`` cookie: the
token never travels in a URL, and script on the page never holds a credential
it could leak after the exchange.

Invariant: a refusal's body is one of a few fixed texts; it never depends on
sessions, connections or how close a wrong token was.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import parse_qsl

import attrs

HEALTH_PATH = "/health"
AUTH_PATH = "/auth"  # the web page's token-for-cookie exchange (acp/web)
STATIC_PREFIX = "/static/"
PUBLIC_PATHS = frozenset({HEALTH_PATH, "/", AUTH_PATH})  # need no credential (the page and its files hold none)
LOGIN_COOKIE = "agentcore_login"
LOGIN_BYTES = 32  # random bytes of a login secret
LOGIN_TTL_S = 12 * 3600.0  # a login cookie lasts a working day
MAX_LOGINS = 256  # live logins kept; the oldest goes first
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


class WebLogins:
    """Login secrets handed to browsers (as a cookie) in exchange for the token.

    Only a hash of each secret is kept, with its expiry; a restart of the
    server logs every browser out. ``clock`` is injectable for tests."""

    def __init__(self, *, ttl_s: float = LOGIN_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._expiry: dict[bytes, float] = {}

    def issue(self) -> str:
        secret = secrets.token_urlsafe(LOGIN_BYTES)
        now = self._clock()
        self._expiry = {k: t for k, t in self._expiry.items() if t > now}
        while len(self._expiry) >= MAX_LOGINS:
            del self._expiry[next(iter(self._expiry))]
        self._expiry[_digest(secret)] = now + self._ttl_s
        return secret

    def valid(self, secret: str) -> bool:
        expiry = self._expiry.get(_digest(secret))  # a hash lookup: timing says nothing about the secret
        return expiry is not None and expiry > self._clock()

    def revoke(self, secret: str) -> None:
        self._expiry.pop(_digest(secret), None)

    @property
    def ttl_s(self) -> float:
        return self._ttl_s


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "replace")).digest()


def cookie(headers: Headers, name: str) -> str | None:
    """The value of cookie ``name`` in the request's ``Cookie`` header(s)."""
    for key, value in headers:
        if key.lower() != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key_text, sep, val = part.strip().partition("=")
            if sep and key_text == name:
                return val
    return None


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(STATIC_PREFIX)


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
    *,
    path: str,
    query_string: bytes,
    headers: Headers,
    token: str,
    origins: frozenset[str],
    logins: WebLogins | None = None,
) -> Refusal | None:
    """None when the request may go on; else the answer to send instead."""
    if query_string and _query_carries_credentials(query_string, token):
        return QUERY_TOKEN
    origin = header(headers, b"origin")
    if origin is not None and origin.rstrip("/") not in origins:
        return FOREIGN_ORIGIN
    if is_public(path):
        return None
    login = cookie(headers, LOGIN_COOKIE) if logins is not None and origin is not None else None
    if login is not None and logins is not None and logins.valid(login):
        return None  # a browser of the server's own origin, logged in through /auth
    expected = token.encode()
    # Every presented token is compared (no early exit), so timing says nothing about which one matched.
    matches = [hmac.compare_digest(given.encode(), expected) for given in _presented_tokens(headers, offered_subprotocols(headers))]
    if not any(matches):
        return UNAUTHORIZED
    return None
