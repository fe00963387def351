"""The web client of ``agent serve``: a page at ``/`` that speaks ACP over the
server's own WebSocket (``/acp``) and talks over ``/voice`` (docs/web.md).

- ``static/``: the page (HTML, CSS, ES modules, the microphone AudioWorklet)
  and ``static/vendor/`` (marked, DOMPurify, highlight.js builds, with their
  licences; ``vendor-src/rebuild.sh`` refreshes them from the npm lockfile).
- :mod:`~agentcore.acp.web.routes`: the HTTP side: the static files with a
  strict Content-Security-Policy and the token-for-cookie exchange at ``/auth``.

Invariant: the page is one more ACP client; nothing here answers a method of
its own. Whatever the page can do, any ACP client of the server can do too.
"""
