// ACP over the server's WebSocket (/acp): JSON-RPC 2.0, one message per text frame.
// Reconnects by itself with a capped backoff; requests in flight when the socket
// drops are rejected (the caller re-attaches and the server replays what it missed).

export const PROTOCOL_VERSION = 1;
const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 5000;

export class RpcError extends Error {
  constructor(error) {
    super(error.message || 'error');
    this.code = error.code;
    this.data = error.data;
  }
}

export class AcpConnection {
  constructor({ url, onRequest, onNotification, onCancelRequest, onUp, onDown }) {
    Object.assign(this, { url, onRequest, onNotification, onCancelRequest, onUp, onDown });
    this.socket = null;
    this.nextId = 0;
    this.pending = new Map();
    this.backoff = BACKOFF_FIRST_MS;
    this.stopped = false;
    this.initialized = null;
    this.connects = 0; // sockets opened so far (a reconnect makes it 2, 3, ...)
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000, 'bye');
  }

  open() {
    const socket = new WebSocket(this.url, ['acp']);
    this.socket = socket;
    socket.onopen = async () => {
      this.backoff = BACKOFF_FIRST_MS;
      this.connects += 1;
      try {
        this.initialized = await this.request('initialize', {
          protocolVersion: PROTOCOL_VERSION,
          clientCapabilities: {
            fs: { readTextFile: false, writeTextFile: false },
            terminal: false,
            session: { notices: {}, compaction: {} },
            _meta: { agentcore: { unstable: true, turnUpdates: true } }, // turnUpdates: turn started / ended
          },
          clientInfo: { name: 'agentcore-web', title: 'agentcore web', version: '1' },
        });
        await this.onUp(this.initialized);
      } catch (err) {
        console.warn('initialize failed', err);
      }
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.receive(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.lastClose = { code: event.code, reason: event.reason };
      for (const { reject } of this.pending.values()) reject(new RpcError({ code: -32099, message: 'connection lost' }));
      this.pending.clear();
      this.onDown(event);
      if (this.stopped) return;
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      setTimeout(() => { if (!this.stopped) this.open(); }, delay);
    };
  }

  get up() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  send(message) {
    if (!this.up) throw new RpcError({ code: -32099, message: 'not connected' });
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', ...message }));
  }

  request(method, params) {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.send({ id, method, params });
      } catch (err) {
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  notify(method, params) {
    this.send({ method, params });
  }

  receive(message) {
    if (typeof message.method === 'string') {
      if ('id' in message) {
        this.answer(message);
      } else if (message.method === '$/cancel_request') {
        this.onCancelRequest(message.params && message.params.requestId);
      } else {
        this.onNotification(message.method, message.params || {});
      }
      return;
    }
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (message.error) waiter.reject(new RpcError(message.error));
    else waiter.resolve(message.result);
  }

  async answer(message) {
    const socket = this.socket;
    let reply;
    try {
      const result = await this.onRequest(message.method, message.params || {}, message.id);
      reply = { id: message.id, result: result ?? null };
    } catch (err) {
      reply = { id: message.id, error: { code: err.code ?? -32603, message: String(err.message || err) } };
    }
    if (this.socket === socket && this.up) this.send(reply);
  }
}
