"""``/``, ``/static/...`` and ``/auth``: the web page's files and its login.

* The files are read once from the package (``static/``) and served with a
  strict Content-Security-Policy (scripts and styles from the server's own
  origin only: no inline script, no ``eval``; no images, frames or objects from
  elsewhere), ``nosniff``, no referrer and no framing.
* ``POST /auth`` with ``{"token": ...}`` in the body (never in the URL) from the
  server's own origin answers with an ``HttpOnly; SameSite=Strict`` cookie
  holding a fresh login secret (:class:`~agentcore.acp.remote.auth.WebLogins`);
  ``GET /auth`` says whether the browser is logged in; ``DELETE /auth`` logs out.

Invariant: a request without the server's own ``Origin`` never gets a login,
and a wrong token gets the same fixed 401 as anywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from importlib import resources
from typing import Any

import attrs

from agentcore.acp.remote import auth

STATIC_PACKAGE = "agentcore.acp.web"
INDEX_FILE = "index.html"
MAX_LOGIN_BODY_BYTES = 4_096  # {"token": "<64 hex>"} and then some
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; media-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()"),
)
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".svg": "image/svg+xml", ".md": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".json": "application/json"}  # fmt: skip
SERVED_SUFFIXES = frozenset(TYPES)  # LICENCE files without a suffix are served as text too

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@attrs.frozen
class Asset:
    body: bytes
    content_type: str
    etag: bytes


@cache
def assets() -> dict[str, Asset]:
    """Every shipped file by URL path (``/`` is the page), read once."""
    found: dict[str, Asset] = {}
    root = resources.files(STATIC_PACKAGE) / "static"

    def walk(folder: Any, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
                continue
            suffix = "." + entry.name.rpartition(".")[2] if "." in entry.name else ""
            kind = TYPES.get(suffix) or ("text/plain; charset=utf-8" if "LICENSE" in entry.name else None)
            if kind is None:
                kind = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            body = entry.read_bytes()
            etag = b'"' + hashlib.sha256(body).hexdigest()[:20].encode() + b'"'
            found[f"{auth.STATIC_PREFIX}{prefix}{entry.name}"] = Asset(body, kind, etag)

    walk(root, "")
    found["/"] = found.pop(f"{auth.STATIC_PREFIX}{INDEX_FILE}")
    return found


def is_web_path(path: str) -> bool:
    return path == "/" or path == auth.AUTH_PATH or path.startswith(auth.STATIC_PREFIX)


async def serve(scope: Scope, receive: Receive, send: Send, *, token: str, logins: auth.WebLogins) -> None:
    """One HTTP request to a path :func:`is_web_path` accepts (auth checks passed)."""
    path, method = scope["path"], scope["method"]
    if path == auth.AUTH_PATH:
        await _auth(scope, receive, send, token=token, logins=logins)
        return
    asset = assets().get(path)
    if asset is None:
        await _respond(send, 404, b'{"error":"not found"}', "application/json")
        return
    if method not in ("GET", "HEAD"):
        await _respond(send, 405, b'{"error":"method not allowed"}', "application/json", ((b"allow", b"GET"),))
        return
    if auth.header(scope["headers"], b"if-none-match") == asset.etag.decode():
        await _respond(send, 304, b"", asset.content_type, ((b"etag", asset.etag),))
        return
    body = asset.body if method == "GET" else b""
    await _respond(send, 200, body, asset.content_type, ((b"etag", asset.etag), (b"cache-control", b"no-cache")),
                   length=len(asset.body))  # fmt: skip


async def _auth(scope: Scope, receive: Receive, send: Send, *, token: str, logins: auth.WebLogins) -> None:
    headers = scope["headers"]
    origin = auth.header(headers, b"origin")
    current = auth.cookie(headers, auth.LOGIN_COOKIE)
    match scope["method"]:
        case "GET":
            # A same-origin GET carries no Origin; the answer is one boolean about the caller's own cookie.
            logged_in = current is not None and logins.valid(current)
            await _json(send, 200, {"loggedIn": logged_in})
        case "DELETE":
            if origin is None:
                await _respond(send, *_refusal(auth.FOREIGN_ORIGIN))
                return
            if current is not None:
                logins.revoke(current)
            await _json(send, 200, {"loggedIn": False}, ((b"set-cookie", _cookie("", 0, origin)),))
        case "POST":
            if origin is None:  # a browser always says where it is; a login is only for one
                await _respond(send, *_refusal(auth.FOREIGN_ORIGIN))
                return
            given = await _login_token(receive)
            if given is None or not hmac.compare_digest(given.encode(), token.encode()):
                await _respond(send, *_refusal(auth.UNAUTHORIZED))
                return
            secret = logins.issue()
            await _json(send, 200, {"loggedIn": True}, ((b"set-cookie", _cookie(secret, int(logins.ttl_s), origin)),))
        case _:
            await _respond(send, 405, b'{"error":"method not allowed"}', "application/json", ((b"allow", b"GET, POST, DELETE"),))


def _refusal(refusal: auth.Refusal) -> tuple[int, bytes, str, tuple[tuple[bytes, bytes], ...]]:
    return refusal.status, refusal.body, "application/json", refusal.headers


def _cookie(value: str, max_age: int, origin: str) -> bytes:
    secure = "; Secure" if origin.startswith("https://") else ""  # behind a TLS proxy
    return f"{auth.LOGIN_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}".encode()


async def _login_token(receive: Receive) -> str | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_LOGIN_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    try:
        value = json.loads(b"".join(chunks))
    except ValueError:
        return None
    given = value.get("token") if isinstance(value, dict) else None
    return given.strip() if isinstance(given, str) else None


async def _json(send: Send, status: int, value: Any, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    await _respond(send, status, json.dumps(value).encode(), "application/json", ((b"cache-control", b"no-store"), *headers))


async def _respond(
    send: Send, status: int, body: bytes, content_type: str, headers: tuple[tuple[bytes, bytes], ...] = (),
    *, length: int | None = None,
) -> None:
    head = [(b"content-type", content_type.encode()), (b"content-length", str(len(body) if length is None else length).encode()),
            *SECURITY_HEADERS, *headers]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body, "more_body": False})
