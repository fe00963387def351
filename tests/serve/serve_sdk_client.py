"""An ACP client on the official Python SDK (asyncio), talking to ``agent serve``
over WebSocket (``create_websocket_stream``) or Streamable HTTP (``create_http_stream``).

Runs in its own process (the SDK is asyncio; the tests are trio).
Usage: python serve_sdk_client.py CONFIG_JSON with keys ``transport`` ("ws" or
"http"), ``url`` (http://.../acp), ``token``, ``cwd``, ``scenario``,
``transcript`` (a file: every message both ways, as JSON lines) and, per
scenario, ``prompt`` or ``sessionId``.

Prints one JSON object per line; the last is {"done": true} or {"error": ...}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from acp import PROTOCOL_VERSION, connect_to_agent, text_block
from acp.schema import AllowedOutcome, RequestPermissionResponse

config = json.loads(sys.argv[1])


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, default=str), flush=True)


def record(direction: str, message: dict[str, Any]) -> None:
    with open(config["transcript"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"dir": direction, "line": json.dumps(message)}) + "\n")


class Recording:
    """The SDK's transport, with every message written to the transcript."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def send(self, message: dict[str, Any]) -> None:
        record("in", message)
        await self._inner.send(message)

    async def receive(self) -> dict[str, Any] | None:
        message = await self._inner.receive()
        if message is not None:
            record("out", message)
        return message

    async def close(self) -> None:
        await self._inner.close()


class Client:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.update_seen = asyncio.Event()
        self.permission_requests: list[str] = []

    def on_connect(self, conn: Any) -> None:
        pass

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update.model_dump(by_alias=True, exclude_none=True))
        self.update_seen.set()

    async def request_permission(self, options: Any, session_id: str, tool_call: Any, **kwargs: Any) -> Any:
        self.permission_requests.append(tool_call.tool_call_id)
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id="allow_once"))

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        return None

    def text(self) -> str:
        return "".join(u["content"]["text"] for u in self.updates if u.get("sessionUpdate") == "agent_message_chunk")

    async def wait_for_text(self) -> None:
        while not self.text():
            self.update_seen.clear()
            await self.update_seen.wait()


async def open_transport() -> Any:
    headers = {"Authorization": f"Bearer {config['token']}"}
    if config["transport"] == "ws":
        from acp.ws import create_websocket_stream

        return await create_websocket_stream(config["url"].replace("http://", "ws://", 1), headers=headers)
    from acp.http import create_http_stream

    return create_http_stream(config["url"], headers=headers)


async def scenario(conn: Any, client: Client) -> None:
    init = await conn.initialize(protocol_version=PROTOCOL_VERSION)
    emit({"step": "initialize", "protocolVersion": init.protocol_version, "loadSession": init.agent_capabilities.load_session})
    name = config["scenario"]
    if name == "load":
        await conn.load_session(cwd=config["cwd"], session_id=config["sessionId"], mcp_servers=[])
        emit({"step": "load", "updates": client.updates, "text": client.text()})
        return
    session = await conn.new_session(cwd=config["cwd"], mcp_servers=[])
    emit({"step": "session", "sessionId": session.session_id})
    prompt = [text_block(config.get("prompt", "hello"))]
    if name == "prompt":
        response = await conn.prompt(session_id=session.session_id, prompt=prompt)
        emit({"step": "prompt", "stopReason": response.stop_reason, "text": client.text(), "updates": client.updates,
              "permissionRequests": client.permission_requests})
    elif name == "streaming":  # the test stops the server while the reply streams
        task = asyncio.ensure_future(conn.prompt(session_id=session.session_id, prompt=prompt))
        await client.wait_for_text()
        emit({"step": "streaming", "text": client.text()})
        try:
            response = await task
            emit({"step": "prompt", "stopReason": response.stop_reason, "text": client.text()})
        except Exception as exc:  # the server went away before answering
            emit({"step": "prompt", "lost": repr(exc)})
    elif name == "reattach":  # as streaming; then, given another server ({"url", "token"}) on stdin, load it there and prompt
        task = asyncio.ensure_future(conn.prompt(session_id=session.session_id, prompt=prompt))
        await client.wait_for_text()
        emit({"step": "streaming", "text": client.text()})
        config.update(json.loads(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)))
        task.cancel()
        again = Client()
        conn = connect_to_agent(again, Recording(await open_transport()))
        await conn.initialize(protocol_version=PROTOCOL_VERSION)
        await conn.load_session(cwd=config["cwd"], session_id=session.session_id, mcp_servers=[])
        emit({"step": "load", "updates": again.updates, "text": again.text()})
        response = await conn.prompt(session_id=session.session_id, prompt=[text_block(config["prompt2"])])
        emit({"step": "prompt", "stopReason": response.stop_reason, "text": again.text(),
              "permissionRequests": again.permission_requests})
        await asyncio.wait_for(conn.close(), 5)
    else:
        raise ValueError(f"unknown scenario {name}")


async def main() -> None:
    client = Client()
    transport = Recording(await open_transport())
    conn = connect_to_agent(client, transport)
    try:
        await asyncio.wait_for(scenario(conn, client), config.get("timeout", 60))
        emit({"done": True})
    except Exception as exc:  # report, don't hide: the pytest side prints this
        emit({"error": repr(exc)})
    finally:
        try:
            await asyncio.wait_for(conn.close(), 5)
        except Exception:
            pass


asyncio.run(main())
