// An ACP client built on the official TypeScript SDK (@agentclientprotocol/sdk).
//
// Usage: node acp_client.mjs CONFIG_JSON
//   CONFIG_JSON: {"scenario": "...", "command": [...], "cwd": "...", "env": {...},
//                 "transcript": "/path/file.jsonl", ...scenario options}
//
// It spawns the agent, runs one scenario, and prints one JSON object per line
// on stdout ({"step": ..., ...}); the last line is {"done": true} or
// {"error": "..."}. Every raw line on the wire is appended to the transcript as
// {"dir": "in"|"out", "line": "..."} ("out" = written by the agent) so the
// Python side can validate each agent message against the official schema.

import { spawn, execFile } from "node:child_process";
import { appendFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import { client, ndJsonStream, methods } from "@agentclientprotocol/sdk";

const config = JSON.parse(process.argv[2]);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const record = (dir, line) => appendFileSync(config.transcript, JSON.stringify({ dir, line }) + "\n");

const agent = spawn(config.command[0], config.command.slice(1), {
  cwd: config.cwd,
  env: config.env,
  stdio: ["pipe", "pipe", "pipe"],
});
let stderr = "";
agent.stderr.on("data", (d) => (stderr += d.toString()));

// Record raw lines in both directions, byte for byte, before the SDK sees them.
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
const tapOut = tap("out");
agent.stdout.on("data", tapOut);
const rawWrite = (text) => {
  tapIn(text);
  agent.stdin.write(text);
};
const output = new WritableStream({
  write(chunk) {
    tapIn(chunk);
    return new Promise((resolve, reject) => agent.stdin.write(chunk, (err) => (err ? reject(err) : resolve())));
  },
  close() {
    agent.stdin.end();
  },
});
const input = Readable.toWeb(agent.stdout);

const updates = [];
const waiters = [];
function onUpdate(update) {
  updates.push(update);
  for (const w of [...waiters]) {
    if (w.pred(update)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(update);
    }
  }
}
const waitForUpdate = (pred) =>
  new Promise((resolve) => {
    const found = updates.find(pred);
    if (found) return resolve(found);
    waiters.push({ pred, resolve });
  });

const clientCaps = config.clientCapabilities ?? {};
const files = new Map(Object.entries(config.buffers ?? {}));
const written = {};
const terminals = new Map();
const calls = [];

const app = client({ name: "agentcore-interop" })
  .onNotification(methods.client.session.update, (ctx) => onUpdate(ctx.params.update))
  .onRequest(methods.client.session.requestPermission, async (ctx) => {
    calls.push("session/request_permission");
    emit({ step: "permission_request", toolCall: ctx.params.toolCall, options: ctx.params.options.map((o) => o.kind) });
    if (config.permission === "cancel-later") {
      // Wait until the agent gives up on the request (it cancels it after session/cancel).
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      return { outcome: { outcome: "cancelled" } };
    }
    return { outcome: { outcome: "selected", optionId: config.permission ?? "allow_once" } };
  })
  .onRequest(methods.client.elicitation.create, async (ctx) => {
    calls.push("elicitation/create");
    emit({ step: "elicitation", params: ctx.params });
    return config.elicitationAnswer ?? { action: "decline" };
  })
  .onRequest(methods.client.fs.readTextFile, async (ctx) => {
    calls.push("fs/read_text_file");
    if (files.has(ctx.params.path)) return { content: files.get(ctx.params.path) };
    const { readFileSync } = await import("node:fs");
    return { content: readFileSync(ctx.params.path, "utf8") };
  })
  .onRequest(methods.client.fs.writeTextFile, async (ctx) => {
    calls.push("fs/write_text_file");
    written[ctx.params.path] = ctx.params.content;
    return {};
  })
  .onRequest(methods.client.terminal.create, async (ctx) => {
    calls.push("terminal/create");
    const id = `term-${terminals.size + 1}`;
    const env = { ...process.env };
    for (const { name, value } of ctx.params.env ?? []) env[name] = value;
    const state = { output: "", exit: null };
    state.done = new Promise((resolve) => {
      const child = execFile(ctx.params.command, ctx.params.args ?? [], { cwd: ctx.params.cwd ?? config.cwd, env }, (err, out, errOut) => {
        state.output = out + errOut;
        state.exit = { exitCode: child.exitCode, signal: child.signalCode };
        resolve();
      });
      state.child = child;
    });
    terminals.set(id, state);
    return { terminalId: id };
  })
  .onRequest(methods.client.terminal.waitForExit, async (ctx) => {
    calls.push("terminal/wait_for_exit");
    const state = terminals.get(ctx.params.terminalId);
    await state.done;
    return state.exit;
  })
  .onRequest(methods.client.terminal.output, async (ctx) => {
    calls.push("terminal/output");
    const state = terminals.get(ctx.params.terminalId);
    return { output: state.output, truncated: false, exitStatus: state.exit };
  })
  .onRequest(methods.client.terminal.kill, async (ctx) => {
    calls.push("terminal/kill");
    terminals.get(ctx.params.terminalId).child.kill();
    return {};
  })
  .onRequest(methods.client.terminal.release, async (ctx) => {
    calls.push("terminal/release");
    terminals.delete(ctx.params.terminalId);
    return {};
  });

const text = (kind = "agent_message_chunk") =>
  updates.filter((u) => u.sessionUpdate === kind).map((u) => u.content.text).join("");
const kinds = () => updates.map((u) => u.sessionUpdate);

async function newSession(ctx) {
  const session = await ctx.request(methods.agent.session.new, { cwd: config.cwd, mcpServers: [] });
  await waitForUpdate((u) => u.sessionUpdate === "available_commands_update");
  return session;
}

const scenarios = {
  async handshake(ctx) {
    const init = await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    emit({ step: "initialize", result: init });
    const session = await newSession(ctx);
    emit({ step: "session", sessionId: session.sessionId, modes: session.modes, configOptions: session.configOptions, kinds: kinds() });
  },
  async prompt(ctx) {
    await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    const session = await newSession(ctx);
    updates.length = 0;
    const response = await ctx.request(methods.agent.session.prompt, { sessionId: session.sessionId, prompt: [{ type: "text", text: config.prompt }] });
    emit({ step: "prompt", sessionId: session.sessionId, stopReason: response.stopReason, text: text(), kinds: kinds(), updates, calls, written });
  },
  async cancel(ctx) {
    await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    const session = await newSession(ctx);
    updates.length = 0;
    const pending = ctx.request(methods.agent.session.prompt, { sessionId: session.sessionId, prompt: [{ type: "text", text: config.prompt }] });
    await waitForUpdate((u) => u.sessionUpdate === (config.cancelAfter ?? "agent_message_chunk"));
    const started = performance.now();
    await ctx.notify(methods.agent.session.cancel, { sessionId: session.sessionId });
    const response = await pending;
    emit({ step: "cancel", stopReason: response.stopReason, elapsedMs: performance.now() - started, kinds: kinds(), calls });
  },
  async load(ctx) {
    const init = await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    const response = await ctx.request(methods.agent.session.load, { sessionId: config.sessionId, cwd: config.cwd, mcpServers: [] });
    emit({ step: "load", loadSession: init.agentCapabilities.loadSession, modes: response.modes, kinds: kinds(), updates });
  },
  async logout(ctx) {
    const init = await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    await ctx.request(methods.agent.logout, {});
    let refused;
    try {
      await ctx.request(methods.agent.session.new, { cwd: config.cwd, mcpServers: [] });
    } catch (err) {
      refused = { code: err.code, message: err.message };
    }
    await ctx.request(methods.agent.authenticate, { methodId: "env-api-key" });
    const session = await newSession(ctx);
    emit({ step: "logout", auth: init.agentCapabilities.auth, refused, sessionId: session.sessionId });
  },
  async cancelRequest(ctx) {
    await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    const session = await newSession(ctx);
    updates.length = 0;
    const controller = new AbortController();
    const prompt = { sessionId: session.sessionId, prompt: [{ type: "text", text: config.prompt }] };
    const pending = ctx.request(methods.agent.session.prompt, prompt, { cancellationSignal: controller.signal });
    await waitForUpdate((u) => u.sessionUpdate === "agent_message_chunk");
    controller.abort(); // the SDK sends $/cancel_request for the prompt's id
    let outcome;
    try {
      outcome = { stopReason: (await pending).stopReason };
    } catch (err) {
      outcome = { code: err.code, message: err.message };
    }
    const messageIds = updates.filter((u) => u.sessionUpdate === "agent_message_chunk").map((u) => u.messageId);
    updates.length = 0;
    const again = await ctx.request(methods.agent.session.prompt, { ...prompt, prompt: [{ type: "text", text: "again" }] });
    emit({ step: "cancel_request", outcome, messageIds, again: again.stopReason, againText: text() });
  },
  async additionalDirs(ctx) {
    await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    let refused;
    try {
      await ctx.request(methods.agent.session.new, { cwd: config.cwd, mcpServers: [], additionalDirectories: [config.protectedDir] });
    } catch (err) {
      refused = { code: err.code, message: err.message };
    }
    const session = await ctx.request(methods.agent.session.new, { cwd: config.cwd, mcpServers: [], additionalDirectories: [config.extraDir] });
    await waitForUpdate((u) => u.sessionUpdate === "available_commands_update");
    updates.length = 0;
    const response = await ctx.request(methods.agent.session.prompt, { sessionId: session.sessionId, prompt: [{ type: "text", text: config.prompt }] });
    const results = updates.filter((u) => u.sessionUpdate === "tool_call_update" && u.status).map((u) => ({ status: u.status, content: u.content }));
    emit({ step: "additional_dirs", refused, stopReason: response.stopReason, results, calls });
  },
  async fork(ctx) {
    const init = await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    const source = await newSession(ctx);
    const first = await ctx.request(methods.agent.session.prompt, { sessionId: source.sessionId, prompt: [{ type: "text", text: "remember 42" }] });
    // session/fork is unstable: the stable client names no helper for it, so the method is spelled out.
    const forked = await ctx.request("session/fork", { sessionId: source.sessionId, cwd: config.cwd, mcpServers: [] });
    updates.length = 0;
    const inFork = await ctx.request(methods.agent.session.prompt, { sessionId: forked.sessionId, prompt: [{ type: "text", text: "what was it?" }] });
    emit({
      step: "fork",
      advertised: init.agentCapabilities.sessionCapabilities?.fork,
      source: source.sessionId,
      forked: forked.sessionId,
      firstUsage: first.usage ?? null,
      stopReason: inFork.stopReason,
      text: text(),
    });
  },
  async mcpPrompt(ctx) {
    await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    const session = await ctx.request(methods.agent.session.new, { cwd: config.cwd, mcpServers: config.mcpServers });
    updates.length = 0;
    const response = await ctx.request(methods.agent.session.prompt, { sessionId: session.sessionId, prompt: [{ type: "text", text: config.prompt }] });
    const results = updates.filter((u) => u.sessionUpdate === "tool_call_update" && u.status === "completed");
    emit({ step: "mcp_prompt", stopReason: response.stopReason, results, calls });
  },
  async malformed(ctx) {
    await ctx.request(methods.agent.initialize, { protocolVersion: 1, clientCapabilities: clientCaps });
    rawWrite("{this is not json\n");
    rawWrite('{"jsonrpc":"2.0","id":"raw-1","method":"session/nope","params":{}}\n');
    let unknown;
    try {
      await ctx.request("_agentcore_test/unknown", {});
    } catch (err) {
      unknown = { code: err.code, message: err.message };
    }
    const session = await newSession(ctx);
    updates.length = 0;
    const response = await ctx.request(methods.agent.session.prompt, { sessionId: session.sessionId, prompt: [{ type: "text", text: config.prompt }] });
    emit({ step: "malformed", unknown, stopReason: response.stopReason, text: text() });
  },
};

try {
  await app.connectWith(ndJsonStream(output, input), async (ctx) => {
    await scenarios[config.scenario](ctx);
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
