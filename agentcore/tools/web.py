"""``fetch``: read a web page as Markdown, plain text or raw.

Safe by construction: only http and https; every redirect hop is checked
again; the host is resolved here and *every* address it resolves to must be a
public one (no loopback, private, link-local, shared or reserved ranges), and
the connection then goes to the address that was checked, so a DNS answer
that changes between the check and the connect cannot redirect it inside the
network (TLS still verifies the certificate for the original host name).
``allow_private`` switches the address check off (trusted setups, tests).
"""

from __future__ import annotations

import base64
import codecs
import ipaddress
import socket
from collections.abc import Callable, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import trio

from agentcore.errors import ToolError
from agentcore.messages import ImageBlock, TextBlock, freeze_json
from agentcore.tools.base import Safety, ToolContext, ToolKind, ToolResult
from agentcore.tools.common import BuiltinTool
from agentcore.tools.html_text import html_to_text
from agentcore.tools.spill import cut_head_tail

if TYPE_CHECKING:  # httpx costs ~100 ms to import: loaded on the first fetch
    import httpx

FETCH_MAX_REDIRECTS = 5  # hops followed, each checked like the first
FETCH_MAX_BYTES = 5 * 1024 * 1024  # body bytes read; the rest of a bigger body is not downloaded
FETCH_TIMEOUT_S = 30.0  # the whole fetch, redirects included
FETCH_OUTPUT_CHARS = 50_000  # text returned to the model; the full text is spilled to a file
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/x-yaml", "application/yaml"}
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
USER_AGENT = "Mozilla/5.0 (compatible; agentcore-fetch/0.1)"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class FetchRefused(ToolError):
    """The URL may not be fetched (scheme, address); the message says why."""


DESCRIPTION = f"""\
Fetch a URL and return its content: HTML pages converted to readable Markdown (default), plain \
text, or the raw body. Images (PNG, JPEG, GIF, WebP) are returned as images.

Usage:
- Use it to read documentation, issues, API references or any page the user points to.
- Only http:// and https:// URLs of public hosts; local and private network addresses are refused.
- `format`: `markdown` keeps headings, links, lists and code blocks; `text` is plain text; `raw` \
returns the body unchanged (use it for JSON, source files, or when the conversion loses something).
- Redirects are followed (at most {FETCH_MAX_REDIRECTS}); the final URL is shown. At most \
{FETCH_MAX_BYTES // (1024 * 1024)} MiB are downloaded and the request times out after {FETCH_TIMEOUT_S:.0f} s.
- Long results are cut to their beginning and end; the full text is saved to a file you can \
page through with `read_file`.
- Pages that need JavaScript or a login may come back empty or as a login page; say so rather \
than guessing their content. Don't fetch URLs you invented: use ones the user gave or that \
appear in documents you read.
"""


def check_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise FetchRefused(
            f"{ip} is a loopback, private, link-local or reserved address; fetch only reaches public hosts"
        )


AddressCheck = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], None]


async def resolve_checked(host: str, port: int, check: AddressCheck = check_address) -> str:
    """The address to connect to, after checking every address ``host`` has."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        check(literal)
        return str(literal)
    try:
        infos = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchRefused(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchRefused(f"{host} has no addresses")
    for address in addresses:
        check(ipaddress.ip_address(address.split("%")[0]))
    return addresses[0]


class FetchTool(BuiltinTool):
    name = "fetch"
    description = DESCRIPTION
    safety = Safety.NETWORK
    kind = ToolKind.FETCH
    parameters = freeze_json(
        {
            "type": "object",
            "properties": {
                "url": {"type": "string", "minLength": 1, "description": "The http(s) URL to fetch."},
                "format": {
                    "type": "string",
                    "enum": ["markdown", "text", "raw"],
                    "description": "How to return HTML: markdown (default), text, or raw.",
                },
            },
            "required": ["url"],
            "additionalProperties": False,
        }
    )

    def __init__(
        self,
        *,
        allow_private: bool = False,
        max_bytes: int = FETCH_MAX_BYTES,
        timeout_s: float = FETCH_TIMEOUT_S,
        max_redirects: int = FETCH_MAX_REDIRECTS,
        output_chars: int = FETCH_OUTPUT_CHARS,
        address_check: AddressCheck = check_address,
    ) -> None:
        self._allow_private = allow_private
        self._address_check = address_check
        self._max_bytes = max_bytes
        self._timeout = timeout_s
        self._max_redirects = max_redirects
        self._output_chars = output_chars

    def permission_subject(self, args: Mapping[str, Any]) -> str | None:
        url = args.get("url")
        return url.strip() if isinstance(url, str) and url.strip() else None

    def title(self, args: Mapping[str, Any]) -> str:
        return f"Fetch {self.permission_subject(args) or 'URL'}"

    async def run(self, args: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        import httpx

        fmt = args.get("format", "markdown")
        try:
            with trio.fail_after(self._timeout):
                response, body, cut = await self._get(args["url"].strip())
        except trio.TooSlowError:
            return ToolResult.error(f"Fetching {args['url']} timed out after {self._timeout:g} s.")
        except FetchRefused as exc:
            return ToolResult.error(f"Refused to fetch {args['url']}: {exc}")
        except httpx.HTTPError as exc:
            return ToolResult.error(f"Fetching {args['url']} failed: {type(exc).__name__}: {exc}")
        return self._render(response, body, cut, fmt, ctx)

    async def _get(self, url: str) -> tuple[httpx.Response, bytes, bool]:
        import httpx

        timeout = httpx.Timeout(self._timeout)
        # trust_env=False: no proxies or netrc from the environment; the address
        # check must see the real destination.
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            for _hop in range(self._max_redirects + 1):
                request = await self._request(client, url)
                response = await client.send(request, stream=True)
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_CODES and location:
                        url = str(httpx.URL(url).join(location))
                        continue
                    body, cut = await self._read(response)
                    response.request = httpx.Request("GET", url)
                    return response, body, cut
                finally:
                    await response.aclose()
        raise FetchRefused(f"more than {self._max_redirects} redirects")

    async def _request(self, client: httpx.AsyncClient, url: str) -> httpx.Request:
        import httpx

        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchRefused(f"not a valid URL ({exc})") from None
        if parsed.scheme not in ("http", "https"):
            raise FetchRefused(f"only http and https URLs can be fetched, not {parsed.scheme or 'a relative URL'}")
        if not parsed.host:
            raise FetchRefused("the URL has no host")
        headers = {"User-Agent": USER_AGENT, "Accept": "text/markdown, text/html;q=0.9, */*;q=0.8"}
        if self._allow_private:
            return client.build_request("GET", parsed, headers=headers)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        address = await resolve_checked(parsed.host, port, self._address_check)
        # Connect to the checked address; Host header and TLS name stay the original.
        pinned = parsed.copy_with(host=address)
        headers["Host"] = parsed.netloc.decode("ascii")
        return client.build_request("GET", pinned, headers=headers, extensions={"sni_hostname": parsed.host})

    async def _read(self, response: httpx.Response) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        async with aclosing(response.aiter_bytes()) as stream:
            async for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                if size > self._max_bytes:
                    return b"".join(chunks)[: self._max_bytes], True
        return b"".join(chunks), False

    def _render(self, response: httpx.Response, body: bytes, cut: bool, fmt: str, ctx: ToolContext) -> ToolResult:
        url = str(response.request.url)
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        status = response.status_code
        header = f"URL: {url}\nStatus: {status}\nContent-Type: {media_type or 'unknown'}"
        failed = status >= 400
        if media_type in IMAGE_TYPES and not cut:
            return ToolResult(
                content=(TextBlock(header), ImageBlock(media_type, base64.b64encode(body).decode("ascii"))),
                is_error=failed,
                raw_output={"url": url, "status": status, "content_type": media_type},
            )
        is_text = (
            not media_type
            or media_type.startswith("text/")
            or media_type in TEXT_TYPES
            or media_type.endswith(("+json", "+xml"))
        )
        if not is_text and media_type not in HTML_TYPES:
            return ToolResult.error(
                f"{header}\n\nThe response is {media_type} ({len(body):,} bytes{'+' if cut else ''}), "
                "which fetch cannot show as text.",
                raw_output={"url": url, "status": status, "content_type": media_type},
            )
        text = body.decode(_codec(response.charset_encoding), errors="replace")
        if media_type in HTML_TYPES and fmt != "raw":
            title, text = html_to_text(text, url, markdown=fmt == "markdown")
            if title:
                header += f"\nTitle: {title}"
        if cut:
            header += f"\n[Only the first {self._max_bytes // (1024 * 1024)} MiB of the body were downloaded.]"
        output = cut_head_tail(text, self._output_chars, spill_dir=ctx.spill_dir, label="page")
        return ToolResult.text(
            f"{header}\n\n{output.text}",
            is_error=failed,
            raw_output={"url": url, "status": status, "content_type": media_type, "bytes": len(body)},
        )


def _codec(charset: str | None) -> str:
    """The declared charset when Python knows it, else UTF-8."""
    if charset:
        try:
            return codecs.lookup(charset).name
        except LookupError:
            pass
    return "utf-8"
