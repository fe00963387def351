// An ACP client on the official TypeScript SDK that hosts an MCP server over
// ACP itself (McpOverAcpProvider, "@agentclientprotocol/sdk/unstable").
//
// Usage: node mcp_over_acp_client.mjs CONFIG_JSON
//   CONFIG_JSON: {"command": [...], "cwd": "...", "env": {...}, "transcript": "...", "prompt": "..."}
//
// Prints one JSON object per line: {"step": "prompt", ...} then {"done": true},
// or {"error": "..."}. Raw wire lines go to the transcript as in acp_client.mjs.

import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { Readable } from "node:stream";
import { client, ndJsonStream, methods, McpOverAcpProvider, McpProtocolError } from "@agentclientprotocol/sdk/unstable";

const config = JSON.parse(process.argv[2]);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const record = (dir, line) => appendFileSync(config.transcript, JSON.stringify({ dir, line }) + "\n");

const agent = spawn(config.command[0], config.command.slice(1), { cwd: config.cwd, env: config.env, stdio: ["pipe", "pipe", "pipe"] });
let stderr = "";
agent.stderr.on("data", (d) => (stderr += d.toString()));
function tap(dir) {
  let pending = "";
  return (chunk) => {
    pending += Buffer.from(chunk).toString("utf8");
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      record(dir, pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  };
}
const tapIn = tap("in");
agent.stdout.on("data", tap("out"));
const output = new WritableStream({
  write(chunk) {
    tapIn(chunk);
    return new Promise((resolve, reject) => agent.stdin.write(chunk, (err) => (err ? reject(err) : resolve())));
  },
  close() {
    agent.stdin.end();
  },
});

const order = [];
const toolCalls = [];
const LOOKUP_SCHEMA = { type: "object", properties: { q: { type: "string" } }, required: ["q"] };

// The editor's MCP server (MCP 2026-07-28: every request stands alone).
async function editorTools(ctx) {
  order.push(ctx.method);
  switch (ctx.method) {
    case "server/discover":
      return { result: { supportedVersions: [ctx.protocolVersion], capabilities: { tools: {} }, serverInfo: { name: "editor", version: "1" } } };
    case "tools/list":
      // A 2026-07-28 listing is cacheable: it states its TTL and scope.
      return { result: { resultType: "complete", ttlMs: 0, cacheScope: "private", tools: [{ name: "lookup", description: "Look a widget up in the editor.", inputSchema: LOOKUP_SCHEMA }] } };
    case "tools/call":
      toolCalls.push(ctx.params);
      return { result: { resultType: "complete", content: [{ type: "text", text: `found ${ctx.params.arguments.q} in the open buffers` }] } };
    default:
      throw new McpProtocolError(-32601, `Method not found: ${ctx.method}`);
  }
}

const mcp = new McpOverAcpProvider();
const app = client({ name: "agentcore-interop-mcp" })
  .onNotification(methods.client.session.update, () => {})
  .onRequest(methods.client.mcp.message, mcp.handleRequest)
  .onRequest(methods.client.session.requestPermission, async (ctx) => {
    order.push("permission");
    return { outcome: { outcome: "selected", optionId: "allow_once" } };
  });

try {
  await app.connectWith(ndJsonStream(output, Readable.toWeb(agent.stdout)), async (ctx) => {
    const tools = mcp.registerServer(ctx, { name: "editor", handler: editorTools });
    const init = await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: {} });
    const session = await ctx.request(methods.agent.session.new, { cwd: config.cwd, mcpServers: [tools.declaration] });
    order.push("session/new answered");
    const response = await ctx.request(methods.agent.session.prompt, { sessionId: session.sessionId, prompt: [{ type: "text", text: config.prompt }] });
    emit({ step: "prompt", acp: init.agentCapabilities.mcpCapabilities.acp, stopReason: response.stopReason, order, toolCalls, serverId: tools.serverId });
  });
  emit({ done: true });
} catch (err) {
  emit({ error: String(err?.stack ?? err), stderr: stderr.slice(-4000) });
} finally {
  agent.stdin.end();
  const exited = new Promise((resolve) => agent.on("exit", resolve));
  const timer = setTimeout(() => agent.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}
