"""fetch against a real HTTP server on 127.0.0.1, and the address checks that
keep it off loopback and private networks by default."""

from __future__ import annotations

import base64
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agentcore.messages import ImageBlock
from agentcore.tools.web import FetchRefused, FetchTool, check_address

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SHUTDOWN_POLL_S = 0.05  # how quickly serve_forever notices shutdown at the end of the module
PAGE = b"""<!doctype html><html><head><title>Test Page</title><script>var x = 1;</script></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<h1>Welcome</h1><p>Read the <a href="/docs">docs</a> first.</p>
<pre>code  block</pre></body></html>"""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        match self.path:
            case "/page":
                self.send(200, PAGE, "text/html; charset=utf-8")
            case "/host":
                self.send(200, f"host={self.headers['Host']}".encode(), "text/plain")
            case "/redirect":
                self.send(302, b"", "text/plain", {"Location": "/page"})
            case "/loop":
                self.send(302, b"", "text/plain", {"Location": "/loop"})
            case "/to-file":
                self.send(302, b"", "text/plain", {"Location": "file:///etc/passwd"})
            case "/big":
                self.send(200, b"a" * (6 * 1024 * 1024), "text/plain")
            case "/image.png":
                self.send(200, PNG_1PX, "image/png")
            case "/binary":
                self.send(200, b"\x00\x01\x02", "application/octet-stream")
            case "/latin":
                self.send(200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1")
            case _:
                self.send(404, b"<h1>Not found</h1>", "text/html")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that stop reading early (the size cap) reset the connection


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """One loopback server for the module: handlers are stateless."""
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


LOCAL = FetchTool(allow_private=True)


async def test_html_becomes_markdown(server, ctx):
    result = await LOCAL.execute({"url": f"{server}/page"}, ctx)
    text = result.text_content
    assert not result.is_error
    assert "Title: Test Page" in text and "# Welcome" in text
    assert f"[docs]({server}/docs)" in text and "```\ncode  block\n```" in text
    assert "var x" not in text and "About" not in text  # script and nav dropped


async def test_text_and_raw_formats(server, ctx):
    text = (await LOCAL.execute({"url": f"{server}/page", "format": "text"}, ctx)).text_content
    assert "Welcome" in text and "# Welcome" not in text and "[docs]" not in text
    raw = (await LOCAL.execute({"url": f"{server}/page", "format": "raw"}, ctx)).text_content
    assert "<h1>Welcome</h1>" in raw


async def test_redirects_are_followed_and_limited(server, ctx):
    result = await LOCAL.execute({"url": f"{server}/redirect"}, ctx)
    assert f"URL: {server}/page" in result.text_content and "# Welcome" in result.text_content
    looping = await LOCAL.execute({"url": f"{server}/loop"}, ctx)
    assert looping.is_error and "more than 5 redirects" in looping.text_content


async def test_redirect_to_other_scheme_is_rechecked(server, ctx):
    result = await LOCAL.execute({"url": f"{server}/to-file"}, ctx)
    assert result.is_error and "only http and https" in result.text_content


async def test_size_cap(server, ctx):
    tool = FetchTool(allow_private=True, max_bytes=1024 * 1024, output_chars=10_000_000)
    result = await tool.execute({"url": f"{server}/big"}, ctx)
    assert "Only the first 1 MiB" in result.text_content
    assert result.text_content.count("a") < 1024 * 1024 + 100


async def test_long_page_is_spilled(server, ctx):
    tool = FetchTool(allow_private=True, output_chars=5000)
    result = await tool.execute({"url": f"{server}/big"}, ctx)
    assert len(result.text_content) < 6000 and "saved to" in result.text_content


async def test_image_and_binary_and_404(server, ctx):
    image = await LOCAL.execute({"url": f"{server}/image.png"}, ctx)
    blocks = [b for b in image.content if isinstance(b, ImageBlock)]
    assert blocks and base64.b64decode(blocks[0].data) == PNG_1PX
    binary = await LOCAL.execute({"url": f"{server}/binary"}, ctx)
    assert binary.is_error and "application/octet-stream" in binary.text_content
    missing = await LOCAL.execute({"url": f"{server}/nope"}, ctx)
    assert missing.is_error and "Status: 404" in missing.text_content and "# Not found" in missing.text_content


async def test_declared_charset_is_used(server, ctx):
    result = await LOCAL.execute({"url": f"{server}/latin"}, ctx)
    assert "café" in result.text_content


async def test_private_addresses_refused_by_default(server, ctx):
    tool = FetchTool()
    port = server.rsplit(":", 1)[1]
    for url in (
        f"{server}/page",
        f"http://localhost:{port}/page",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
    ):
        result = await tool.execute({"url": url}, ctx)
        assert result.is_error and "Refused" in result.text_content, url


async def test_checked_address_is_the_one_connected_to(server, ctx):
    # A permissive check exercises the pinned-address path: the connection goes
    # to the resolved IP while the Host header keeps the name.
    tool = FetchTool(address_check=lambda ip: None)
    port = server.rsplit(":", 1)[1]
    result = await tool.execute({"url": f"http://localhost:{port}/host"}, ctx)
    assert not result.is_error, result.text_content
    assert f"host=localhost:{port}" in result.text_content
    assert f"URL: http://localhost:{port}/host" in result.text_content


async def test_bad_urls(ctx):
    tool = FetchTool()
    assert "only http and https" in (await tool.execute({"url": "ftp://example.com/x"}, ctx)).text_content
    assert (await tool.execute({"url": "not a url"}, ctx)).is_error


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2606:4700::1111", True), ("127.0.0.1", False), ("192.168.1.1", False),
     ("100.64.0.1", False), ("fe80::1", False), ("::ffff:10.0.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False)],
)  # fmt: skip
def test_check_address(address, public):
    ip = ipaddress.ip_address(address)
    if public:
        check_address(ip)
    else:
        with pytest.raises(FetchRefused):
            check_address(ip)
