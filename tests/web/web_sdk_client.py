"""The official Python ACP SDK attached to a session the web page opened:
``_agentcore/session/attach`` as controller over the server's WebSocket.

Usage: python web_sdk_client.py CONFIG_JSON with ``url``, ``token``,
``sessionId``, ``answer`` (how many permission requests to answer, at once,
with allow_once; later ones are left for another client) and ``until`` (text
of the agent's reply that ends the run). Prints one JSON object per line; the
last is {"done": true} or {"error": ...}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from acp import PROTOCOL_VERSION, connect_to_agent
from acp.schema import AllowedOutcome, RequestPermissionResponse
from acp.ws import create_websocket_stream

config = json.loads(sys.argv[1])


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, default=str), flush=True)


class Client:
    def __init__(self) -> None:
        self.text = ""
        self.changed = asyncio.Event()
        self.asked = 0
        self.never = asyncio.Event()

    def on_connect(self, conn: Any) -> None:
        pass

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        data = update.model_dump(by_alias=True, exclude_none=True)
        if data.get("sessionUpdate") == "agent_message_chunk":
            self.text += data["content"].get("text", "")
        if data.get("sessionUpdate") == "tool_call_update" and data.get("status"):
            emit({"step": "tool_status", "toolCallId": data["toolCallId"], "status": data["status"]})
        self.changed.set()

    async def request_permission(self, options: Any, session_id: str, tool_call: Any, **kwargs: Any) -> Any:
        self.asked += 1
        emit({"step": "permission", "toolCallId": tool_call.tool_call_id, "answering": self.asked <= config["answer"]})
        if self.asked > config["answer"]:
            await self.never.wait()  # another client answers this one
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id="allow_once"))

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        return None


async def scenario(conn: Any, client: Client) -> None:
    await conn.initialize(protocol_version=PROTOCOL_VERSION)
    answer = await conn.ext_method("agentcore/session/attach", {"sessionId": config["sessionId"], "role": "controller",
                                                                "historyPolicy": "none"})  # fmt: skip
    emit({"step": "attached", "role": answer["role"]})
    while config["until"] not in client.text:
        client.changed.clear()
        await client.changed.wait()
    emit({"step": "reply", "text": client.text})


async def main() -> None:
    client = Client()
    stream = await create_websocket_stream(config["url"].replace("http://", "ws://", 1),
                                           headers={"Authorization": f"Bearer {config['token']}"})  # fmt: skip
    conn = connect_to_agent(client, stream)
    try:
        await asyncio.wait_for(scenario(conn, client), config.get("timeout", 60))
        emit({"done": True})
    except Exception as exc:  # reported to the test, which prints it
        emit({"error": repr(exc)})
    finally:
        try:
            await asyncio.wait_for(conn.close(), 5)
        except Exception:
            pass


asyncio.run(main())
