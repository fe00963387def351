// An ACP client on the official TypeScript SDK, over `agent serve`'s WebSocket
// transport (@agentclientprotocol/sdk/experimental/ws-client).
//
// Usage: node --experimental-websocket acp_ws_client.mjs CONFIG_JSON
//   CONFIG_JSON: {"url": "http://127.0.0.1:PORT/acp", "token": "...", "cwd": "...",
//                 "prompt": "...", "transcript": "/path/file.jsonl"}
//
// Node's built-in WebSocket (a browser's) cannot send headers, so the token goes
// as the `agentcore.bearer.<token>` subprotocol, as a browser page would send it.
// Every frame in both directions is appended to the transcript so the Python
// side can check each agent message against the official schema. Prints one
// JSON object per line; the last is {"done": true} or {"error": "..."}.

import { appendFileSync } from "node:fs";
import { client, methods } from "@agentclientprotocol/sdk";
import { createWebSocketStream } from "@agentclientprotocol/sdk/experimental/ws-client";

const config = JSON.parse(process.argv[2]);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const record = (dir, line) => appendFileSync(config.transcript, JSON.stringify({ dir, line }) + "\n");

// A WebSocket that records every frame before the SDK sees it (or after it sent it).
function TappedWebSocket(url, protocols) {
  const socket = new globalThis.WebSocket(url, protocols);
  socket.addEventListener("message", (event) => record("out", String(event.data)));
  const send = socket.send.bind(socket);
  socket.send = (data) => {
    record("in", String(data));
    send(data);
  };
  return socket;
}

const updates = [];
const app = client({ name: "agentcore-ws-interop" })
  .onNotification(methods.client.session.update, (ctx) => updates.push(ctx.params.update))
  .onRequest(methods.client.session.requestPermission, async () => ({ outcome: { outcome: "selected", optionId: "allow_once" } }));

const wsUrl = config.url.replace(/^http/, "ws");
const stream = createWebSocketStream(wsUrl, {
  protocols: ["acp", `agentcore.bearer.${config.token}`],
  WebSocket: TappedWebSocket,
});

try {
  await app.connectWith(stream, async (ctx) => {
    const init = await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: {} });
    emit({ step: "initialize", loadSession: init.agentCapabilities.loadSession, attach: init.agentCapabilities._meta?.agentcore?.attach ?? null });
    const session = await ctx.request(methods.agent.session.new, { cwd: config.cwd, mcpServers: [] });
    const response = await ctx.request(methods.agent.session.prompt, {
      sessionId: session.sessionId,
      prompt: [{ type: "text", text: config.prompt }],
    });
    const text = updates.filter((u) => u.sessionUpdate === "agent_message_chunk").map((u) => u.content.text).join("");
    emit({ step: "prompt", sessionId: session.sessionId, stopReason: response.stopReason, text });
  });
  emit({ done: true });
} catch (err) {
  emit({ error: String(err?.stack ?? err) });
}
process.exit(0);
