// The conversation: session/update notifications become items in a log.
// Text is re-rendered at most once per animation frame, and only items in or
// near the viewport are in the DOM at all (a virtualized list): a session of
// 10,000 messages scrolls like one of ten. Replays rebuild it from
// scratch (clear + the server's replay), which is how a reconnect shows every
// message exactly once.

import { renderMarkdown, highlightWithin } from './markdown.js';
import { renderDiff } from './diff.js';

const OUTPUT_TAIL_CHARS = 4000; // of a shell command's output shown under its call
const STATUS_ICON = { pending: '…', in_progress: '⏳', completed: '✓', failed: '✗' };
const STICK_PX = 48; // within this of the bottom, new content keeps the view at the bottom
const ANNOUNCE_CHARS = 300;
const ESTIMATED_ITEM_PX = 64; // height of an item not measured yet
const OVERSCAN_PX = 600; // rendered beyond the viewport, above and below
const ITEM_GAP_PX = 10; // the margin under each item (app.css)

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function blockText(content) {
  if (!content) return '';
  if (content.type === 'text') return content.text || '';
  if (content.type === 'resource_link') return `[${content.name || content.uri}]`;
  if (content.type === 'image') return '[image]';
  return '';
}

export class Transcript {
  constructor(root, { announce, onPlan }) {
    this.root = root;
    this.announce = announce;
    this.onPlan = onPlan;
    this.items = [];
    this.tools = new Map();
    this.tail = null;
    this.dirty = new Set();
    this.frame = 0;
    this.stick = true;
    this.top = el('div', 'spacer');
    this.bottom = el('div', 'spacer');
    this.shown = []; // the items in the DOM now, in order
    this.first = 0;
    root.replaceChildren(this.top, this.bottom);
    root.addEventListener('scroll', () => {
      this.stick = root.scrollHeight - root.scrollTop - root.clientHeight < STICK_PX;
      this.schedule(null);
    }, { passive: true });
  }

  get count() {
    return this.items.length;
  }

  clear() {
    this.items = [];
    this.shown = [];
    this.first = 0;
    this.tools.clear();
    this.tail = null;
    this.dirty.clear();
    this.stick = true;
    this.top.style.height = '0px';
    this.bottom.style.height = '0px';
    this.root.replaceChildren(this.top, this.bottom);
  }

  add(item) {
    item.node.classList.add('item');
    item.height = ESTIMATED_ITEM_PX;
    item.stale = true;
    this.items.push(item);
    this.tail = item;
    this.schedule(item);
    return item;
  }

  follow() {
    this.schedule(null);
  }

  schedule(item) {
    if (item) { item.stale = true; this.dirty.add(item); }
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  // Once per frame: only the items in (or near) the viewport are in the DOM; the
  // rest are two spacers of their measured (or estimated) heights. A session of
  // any length costs the same to scroll.
  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.dirty.clear();
    const heights = this.items.map((item) => item.height);
    const total = heights.reduce((a, b) => a + b, 0);
    const view = this.root.clientHeight || 800;
    let first, last;
    if (this.stick) {
      last = this.items.length - 1;
      first = last;
      for (let room = view + OVERSCAN_PX; first > 0 && room > 0; first--) room -= heights[first];
    } else {
      const from = Math.max(0, this.root.scrollTop - this.top.offsetTop - OVERSCAN_PX);
      let y = 0;
      first = 0;
      while (first < this.items.length - 1 && y + heights[first] < from) y += heights[first++];
      last = first;
      for (let room = view + 2 * OVERSCAN_PX; last < this.items.length - 1 && room > 0; last++) room -= heights[last];
    }
    const wanted = this.items.slice(first, last + 1);
    for (const item of wanted) if (item.stale) { item.stale = false; item.render(); }
    if (wanted.length !== this.shown.length || wanted.some((item, i) => item !== this.shown[i])) {
      const keep = new Set(wanted);
      for (const item of this.shown) if (!keep.has(item)) item.node.remove();
      let anchor = this.bottom;
      for (let i = wanted.length - 1; i >= 0; i--) {
        const node = wanted[i].node;
        if (node.nextSibling !== anchor || node.parentNode !== this.root) this.root.insertBefore(node, anchor);
        anchor = node;
      }
      this.shown = wanted;
      this.first = first;
    }
    let above = 0;
    for (let i = 0; i < first; i++) above += heights[i];
    let shownHeight = 0;
    for (const item of wanted) {
      item.height = item.node.offsetHeight + ITEM_GAP_PX || item.height; // measured, for the spacers
      shownHeight += item.height;
    }
    let below = 0;
    for (let i = last + 1; i < this.items.length; i++) below += heights[i];
    this.top.style.height = `${above}px`;
    this.bottom.style.height = `${below}px`;
    if (this.stick) this.root.scrollTop = this.root.scrollHeight;
    void total; void shownHeight;
  }

  // Finish what is streaming: the last message is announced to screen readers.
  settle() {
    this.flush();
    const tail = this.tail;
    if (tail && tail.kind === 'agent' && !tail.announced) {
      tail.announced = true;
      this.announce(`Agent: ${tail.text.slice(0, ANNOUNCE_CHARS)}`);
    }
  }

  apply(update) {
    switch (update.sessionUpdate) {
      case 'user_message_chunk': return this.text('user', update);
      case 'agent_message_chunk': return this.text('agent', update);
      case 'agent_thought_chunk': return this.text('thought', update);
      case 'tool_call': return this.toolCall(update);
      case 'tool_call_update': return this.toolUpdate(update);
      case 'plan': return this.onPlan(update.entries || []);
      case 'notice': return this.notice(update.severity || 'info', update.title || '', update.description);
      case 'compaction_update':
        if (update.status === 'completed') this.notice('info', 'The conversation was compacted');
        else this.notice('info', 'Compacting the conversation…');
        return undefined;
      default: return undefined;
    }
  }

  text(kind, update) {
    const text = blockText(update.content);
    const id = update.messageId || null;
    const tail = this.tail;
    if (tail && tail.kind === kind && tail.messageId === id) {
      tail.text += text;
      this.schedule(tail);
      return tail;
    }
    if (kind === 'agent' && tail && tail.kind === 'agent' && !tail.announced) {
      tail.announced = true;
      this.announce(`Agent: ${tail.text.slice(0, ANNOUNCE_CHARS)}`);
    }
    const item = kind === 'thought' ? new ThoughtItem(id, text) : new TextItem(kind, id, text);
    this.add(item);
    if (kind === 'user') this.announce(`You: ${text.slice(0, ANNOUNCE_CHARS)}`);
    return item;
  }

  toolCall(update) {
    let item = this.tools.get(update.toolCallId);
    if (!item) {
      item = new ToolItem(update.toolCallId);
      this.tools.set(update.toolCallId, item);
      this.add(item);
    }
    item.merge(update);
    this.schedule(item);
    return item;
  }

  toolUpdate(update) {
    const item = this.tools.get(update.toolCallId);
    if (!item) return this.toolCall(update);
    item.merge(update);
    this.schedule(item);
    return item;
  }

  notice(severity, title, description) {
    const node = el('div', `notice ${severity}`);
    node.setAttribute('role', severity === 'error' ? 'alert' : 'status');
    node.append(el('strong', '', title));
    if (description) node.append(el('span', 'notice-detail', ` ${description}`));
    this.add({ kind: 'notice', node, messageId: null, render() {} });
  }
}

class TextItem {
  constructor(kind, messageId, text) {
    this.kind = kind;
    this.messageId = messageId;
    this.text = text;
    this.node = el('article', `msg ${kind}`);
    this.node.setAttribute('aria-label', kind === 'user' ? 'You' : 'Agent');
    this.body = el('div', 'body');
    this.node.append(this.body);
  }

  render() {
    if (this.kind === 'user') {
      this.body.textContent = this.text; // typed text is shown as typed
      return;
    }
    renderMarkdown(this.body, this.text);
    highlightWithin(this.body);
  }
}

class ThoughtItem {
  constructor(messageId, text) {
    this.kind = 'thought';
    this.messageId = messageId;
    this.text = text;
    this.node = el('details', 'thought');
    this.node.append(el('summary', '', 'Thinking'));
    this.body = el('div', 'body');
    this.node.append(this.body);
  }

  render() {
    this.body.textContent = this.text;
  }
}

class ToolItem {
  constructor(id) {
    this.kind = 'tool';
    this.messageId = null;
    this.id = id;
    this.state = { title: '', status: 'pending', kind: '', rawInput: null, content: [] };
    this.node = el('div', 'tool');
    this.node.dataset.toolCallId = id;
  }

  merge(update) {
    for (const key of ['title', 'status', 'kind', 'rawInput', 'content', 'locations']) {
      if (update[key] !== undefined && update[key] !== null) this.state[key] = update[key];
    }
  }

  render() {
    const { title, status, kind, rawInput, content } = this.state;
    this.node.dataset.status = status;
    const head = el('div', 'tool-head');
    const icon = el('span', 'tool-status', STATUS_ICON[status] || '…');
    icon.setAttribute('aria-label', status.replace('_', ' '));
    head.append(icon, el('span', 'tool-title', title || kind || 'tool'), el('span', 'tool-kind', kind || ''));
    const parts = [head];
    const command = rawInput && typeof rawInput.command === 'string' ? rawInput.command : null;
    if (command && !(title || '').includes(command)) parts.push(el('pre', 'tool-command', command));
    for (const block of content || []) {
      if (block.type === 'diff') parts.push(renderDiff(block));
      else if (block.type === 'content') {
        const text = blockText(block.content);
        if (text) parts.push(el('pre', 'tool-output', text.length > OUTPUT_TAIL_CHARS ? `…${text.slice(-OUTPUT_TAIL_CHARS)}` : text));
      }
    }
    this.node.replaceChildren(...parts);
  }
}
