"""What a model says can never run in the page, and the page's door: a reply
full of script (an ``onerror`` image, a ``<script>``, ``javascript:`` links, a
Markdown link to a data URL) executes nothing (a page-side flag stays unset)
and shows the markup as text; the login trades the token for an HttpOnly,
SameSite=Strict cookie and is refused without the server's own Origin; every
page response carries a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import web_support as w
from trio_websocket import ConnectionRejected, open_websocket_url

s = w.serve

HOSTILE = (
    'Look: <img src=x onerror="window.__pwned = 1"> and <script>window.__pwned = 2</script>\n\n'
    "[click me](javascript:window.__pwned=3) and [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n"
    '<a href="javascript:window.__pwned=4">raw link</a> <svg onload="window.__pwned=5"></svg>\n\n'
    '<iframe src="javascript:window.__pwned=6"></iframe>\n\n'
    "![pic](https://example.invalid/x.png) and [fine](https://example.invalid/docs)\n"
)


async def test_a_hostile_reply_runs_nothing_and_shows_its_markup_as_text(web_dirs: dict[str, Path], browser: w.Browser) -> None:
    async with s.llm_server.open_fake_server() as llm:
        llm.enqueue(s.text_reply(HOSTILE))
        async with w.running_server(web_dirs, llm.url) as server:

            def scenario() -> dict[str, Any]:
                page = browser.new_page()
                w.log_in(page, server.base, server.token)
                page.evaluate("() => { window.__pwned = 0; }")
                w.new_session(page, web_dirs["work"])
                w.send_prompt(page, "say something nasty")
                w.wait_text(page, ".msg.agent", "raw link")
                w.wait_idle(page)
                for link in page.query_selector_all(".msg.agent a"):
                    link.click(modifiers=["Control"])  # a click that would run a javascript: URL, in this tab's context
                return page.evaluate("""() => {
                    const body = document.querySelector('.msg.agent');
                    return {
                        pwned: window.__pwned,
                        text: body.textContent,
                        dangerous: body.querySelectorAll('script, img, svg, iframe, [onerror], [onload]').length,
                        hrefs: [...body.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
                        rels: [...body.querySelectorAll('a[href]')].map(a => a.rel),
                    };
                }""")

            seen = await browser.run(scenario)
    assert seen["pwned"] == 0
    assert seen["dangerous"] == 0
    assert '<img src=x onerror="window.__pwned = 1">' in seen["text"]
    assert "<script>window.__pwned = 2</script>" in seen["text"]
    assert seen["hrefs"] == ["https://example.invalid/docs"]  # javascript: and data: links lost their href
    assert seen["rels"] == ["noopener noreferrer nofollow"]


async def test_the_login_cookie_and_the_headers(web_dirs: dict[str, Path]) -> None:
    async with w.running_server(web_dirs, None) as server:
        origin = server.base
        async with httpx.AsyncClient(base_url=server.base) as http:
            page = await http.get("/")
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
            assert "frame-ancestors 'none'" in csp
            assert page.headers["x-content-type-options"] == "nosniff"
            script = await http.get("/static/js/main.js")
            assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
            assert "content-security-policy" in script.headers
            assert (await http.get("/static/nope.js")).status_code == 404  # only the shipped files, from a table

            assert (await http.post("/auth", json={"token": server.token})).status_code == 403  # no Origin: not a browser
            wrong = await http.post("/auth", json={"token": "x" * 64}, headers={"Origin": origin})
            assert wrong.status_code == 401 and wrong.json() == {"error": "unauthorized"}
            foreign = await http.post("/auth", json={"token": server.token}, headers={"Origin": "http://evil.example"})
            assert foreign.status_code == 403
            assert (await http.get("/auth", params={"token": server.token})).status_code == 400  # never in a URL

            login = await http.post("/auth", json={"token": server.token}, headers={"Origin": origin})
            assert login.status_code == 200
            cookie = login.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and server.token not in cookie
            value = cookie.split(";")[0]
            assert (await http.get("/auth", headers={"Origin": origin, "Cookie": value})).json() == {"loggedIn": True}

            ws_url = server.ws_url
            async with open_websocket_url(ws_url, extra_headers=[("Origin", origin), ("Cookie", value)]) as ws:
                await ws.send_message('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}')
                assert '"protocolVersion"' in await ws.get_message()
            for headers in ([("Cookie", value)], [("Origin", "http://evil.example"), ("Cookie", value)]):
                with pytest.raises(ConnectionRejected):  # the cookie counts only with the server's own Origin
                    async with open_websocket_url(ws_url, extra_headers=headers):
                        pass

            out = await http.delete("/auth", headers={"Origin": origin, "Cookie": value})
            assert out.status_code == 200 and "Max-Age=0" in out.headers["set-cookie"]
            assert (await http.get("/auth", headers={"Origin": origin, "Cookie": value})).json() == {"loggedIn": False}
            with pytest.raises(ConnectionRejected):
                async with open_websocket_url(ws_url, extra_headers=[("Origin", origin), ("Cookie", value)]):
                    pass
        assert server.token not in server.stderr
