// The page: log in (token for cookie), connect over ACP, list sessions, open or
// attach one, stream it, answer permission and approval requests, prompt.

import { AcpConnection } from './acp.js';
import { Transcript } from './transcript.js';
import { Voice } from './voice.js';
import { JobsView } from './jobs.js';

const $ = (id) => document.getElementById(id);
const ATTACH = '_agentcore/session/attach';
const LIVE = '_agentcore/sessions/live';
const APPROVE = '_agentcore/session/approve';
const DETACHED = '_agentcore/session/detached';
const VOICE_PREFIX = '_agentcore/voice/';

const state = {
  session: null, // {id, cwd, role, modes, configOptions, title}
  running: false,
  ownPrompt: false,
  commands: [],
  requests: new Map(), // JSON-RPC id -> card element
  turnBy: null, // the client id that started the running turn (null: this page or the agent itself)
  attaches: 0, // attach answers received (a reconnect re-attaches)
};

function announce(text) {
  const line = document.createElement('p');
  line.textContent = text;
  $('announcer').append(line);
  while ($('announcer').childElementCount > 5) $('announcer').firstElementChild.remove();
}

const transcript = new Transcript($('transcript'), { announce, onPlan: showPlan });
const acp = new AcpConnection({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/acp`,
  onRequest: handleRequest,
  onNotification: handleNotification,
  onCancelRequest: resolvedElsewhere,
  onUp: connected,
  onDown: disconnected,
});
const voice = new Voice({
  button: $('mic'), panel: $('voice-panel'), stateLabel: $('voice-state'), heard: $('voice-heard'), said: $('voice-said'), noticeLabel: $('voice-notice'),
  sessionId: () => state.session && state.session.id, announce,
});
const jobs = new JobsView({ acp, panel: $('jobs'), list: $('jobs-list'), notice: $('jobs-notice'), announce });
window.agentcore = { acp, transcript, voice, state, jobs }; // for the console (and the page's tests)
$('toggle-jobs').addEventListener('click', () => {
  if (jobs.open) jobs.hide();
  else jobs.show();
  $('toggle-jobs').setAttribute('aria-pressed', String(jobs.open));
});
$('jobs-refresh').addEventListener('click', () => jobs.refresh());

// ------------------------------------------------------------------ login

async function loggedIn() {
  const answer = await fetch('/auth', { credentials: 'same-origin', cache: 'no-store' });
  return answer.ok && (await answer.json()).loggedIn === true;
}

async function logIn(token) {
  const answer = await fetch('/auth', {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return answer.ok;
}

function showLogin(message) {
  acp.stop();
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login-token').focus();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const field = $('login-token');
  const ok = await logIn(field.value.trim());
  field.value = '';
  if (!ok) { $('login-error').textContent = 'That token was not accepted.'; return; }
  start();
});

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  acp.start();
}

async function boot() {
  // A token in the fragment (#token=...) never reaches the server's logs: trade it, then forget it.
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get('token');
  if (given) {
    history.replaceState(null, '', location.pathname);
    if (!(await logIn(given))) { showLogin('That token was not accepted.'); return; }
  }
  if (await loggedIn()) start();
  else showLogin();
}

// ------------------------------------------------------------- connection

async function connected() {
  if (window.agentcore.readyAt === undefined) window.agentcore.readyAt = performance.now(); // bench: load to interactive
  setConn('connected');
  document.body.dataset.conn = 'up';
  await refreshSessions();
  if (jobs.open) jobs.refresh();
  if (state.session) await attach(state.session.id, state.session.cwd, state.session.role, true);
}

async function disconnected() {
  setConn('reconnecting…');
  document.body.dataset.conn = 'down';
  for (const card of state.requests.values()) card.remove(); // asked again on re-attach
  state.requests.clear();
  if (!(await loggedIn().catch(() => true))) showLogin('Logged out.');
}

function setConn(text) {
  $('conn-state').textContent = text;
}

// --------------------------------------------------------------- sessions

async function refreshSessions() {
  const [stored, live] = await Promise.all([
    acp.request('session/list', {}).catch(() => ({ sessions: [] })),
    acp.request(LIVE, {}).catch(() => ({ sessions: [] })),
  ]);
  const rows = new Map();
  for (const row of stored.sessions || []) rows.set(row.sessionId, { ...row, live: false });
  for (const row of live.sessions || []) rows.set(row.sessionId, { ...rows.get(row.sessionId), ...row, live: true });
  const list = $('session-list');
  list.replaceChildren();
  const dirs = new Set();
  const sorted = [...rows.values()].sort((a, b) => (b.live - a.live) || String(b.updatedAt || '').localeCompare(String(a.updatedAt || '')));
  for (const row of sorted) {
    dirs.add(row.cwd);
    list.append(sessionRow(row));
  }
  $('known-dirs').replaceChildren(...[...dirs].map((d) => Object.assign(document.createElement('option'), { value: d })));
  if (!$('new-cwd').value && dirs.size) $('new-cwd').value = [...dirs][0];
}

function sessionRow(row) {
  const item = document.createElement('li');
  item.className = 'session-row';
  item.dataset.sessionId = row.sessionId;
  if (state.session && state.session.id === row.sessionId) item.setAttribute('aria-current', 'true');
  const open = document.createElement('button');
  open.className = 'session-open';
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = row.title || 'Untitled session';
  const meta = document.createElement('span');
  meta.className = 'meta';
  const cost = row._meta && row._meta.agentcore ? row._meta.agentcore.costUsd : null;
  const when = row.updatedAt ? new Date(row.updatedAt).toLocaleString() : '';
  meta.textContent = [row.cwd, when, cost ? `$${cost.toFixed(2)}` : ''].filter(Boolean).join(' · ');
  open.append(title, meta);
  if (row.live) {
    const badge = document.createElement('span');
    badge.className = 'live';
    badge.textContent = row.turnRunning ? '● running' : `● live (${row.clients})`;
    open.append(badge);
  }
  open.addEventListener('click', () => attach(row.sessionId, row.cwd, 'controller'));
  const watch = document.createElement('button');
  watch.className = 'link-button';
  watch.textContent = 'Watch';
  watch.title = 'Attach as an observer';
  watch.addEventListener('click', () => attach(row.sessionId, row.cwd, 'observer'));
  item.append(open, watch);
  return item;
}

async function attach(sessionId, cwd, role, again = false) {
  transcript.clear();
  showPlan([]);
  setSessionChrome({ id: sessionId, cwd, role });
  try {
    const answer = await acp.request(ATTACH, { sessionId, role, historyPolicy: 'full', cwd, mcpServers: [] });
    transcript.settle();
    openSession({ id: sessionId, cwd, role, modes: answer.modes, configOptions: answer.configOptions });
    setRunning(answer.turnRunning, false);
    state.attaches += 1;
    if (!again) announce(`Attached to the session as ${role}`);
  } catch (err) {
    transcript.notice('error', 'Could not attach', err.message);
  }
}

async function newSession(cwd) {
  transcript.clear();
  showPlan([]);
  try {
    const answer = await acp.request('session/new', { cwd, mcpServers: [] });
    openSession({ id: answer.sessionId, cwd, role: 'controller', modes: answer.modes, configOptions: answer.configOptions });
    setRunning(false, false);
    await refreshSessions();
  } catch (err) {
    transcript.notice('error', 'Could not start a session', err.message);
  }
}

function openSession(session) {
  state.session = { ...state.session, ...session };
  setSessionChrome(state.session);
  renderModes(session.modes);
  renderOptions(session.configOptions || []);
  for (const row of document.querySelectorAll('.session-row')) {
    row.toggleAttribute('aria-current', row.dataset.sessionId === session.id);
  }
  $('sidebar').classList.remove('open');
  $('toggle-sessions').setAttribute('aria-expanded', 'false');
  $('composer-input').focus();
}

function setSessionChrome(session) {
  state.session = { ...state.session, ...session };
  $('empty').hidden = true;
  $('session-bar').hidden = false;
  $('composer').hidden = false;
  $('session-cwd').textContent = session.cwd || '';
  $('session-role').textContent = session.role === 'observer' ? 'observing' : 'controlling';
  document.body.dataset.role = session.role;
  const observer = session.role === 'observer';
  for (const id of ['composer-input', 'send', 'mode-select', 'mic']) $(id).disabled = observer;
}

function renderModes(modes) {
  const select = $('mode-select');
  select.replaceChildren();
  if (!modes) return;
  for (const mode of modes.availableModes || []) {
    select.append(new Option(mode.name || mode.id, mode.id, false, mode.id === modes.currentModeId));
  }
}

function renderOptions(options) {
  const box = $('config-options');
  box.replaceChildren();
  for (const option of options) {
    if (option.id === 'mode' || option.type !== 'select') continue;
    const label = document.createElement('label');
    label.textContent = `${option.name} `;
    const select = document.createElement('select');
    select.dataset.configId = option.id;
    select.disabled = state.session && state.session.role === 'observer';
    for (const choice of flattenChoices(option.options || [])) {
      select.append(new Option(choice.name || choice.value, choice.value, false, choice.value === option.currentValue));
    }
    select.addEventListener('change', () => setOption(option.id, select.value));
    label.append(select);
    box.append(label);
  }
}

function flattenChoices(options) {
  return options.flatMap((o) => (Array.isArray(o.options) ? o.options : [o]));
}

async function setOption(configId, value) {
  try {
    const answer = await acp.request('session/set_config_option', { sessionId: state.session.id, configId, value });
    renderOptions(answer.configOptions || []);
  } catch (err) {
    transcript.notice('error', `Could not set ${configId}`, err.message);
  }
}

$('mode-select').addEventListener('change', async (event) => {
  try {
    await acp.request('session/set_mode', { sessionId: state.session.id, modeId: event.target.value });
  } catch (err) {
    transcript.notice('error', 'Could not change the mode', err.message);
  }
});

$('fork').addEventListener('click', async () => {
  const { id, cwd } = state.session;
  try {
    const answer = await acp.request('session/fork', { sessionId: id, cwd, mcpServers: [] });
    await attach(answer.sessionId, cwd, 'controller');
    await refreshSessions();
  } catch (err) {
    transcript.notice('error', 'Could not fork', err.message);
  }
});

$('delete').addEventListener('click', async () => {
  const { id } = state.session;
  if (!confirm('Delete this session and its journal?')) return;
  try {
    await acp.request('session/delete', { sessionId: id });
    state.session = null;
    transcript.clear();
    $('session-bar').hidden = true;
    $('composer').hidden = true;
    $('empty').hidden = false;
    await refreshSessions();
  } catch (err) {
    transcript.notice('error', 'Could not delete', err.message);
  }
});

$('new-session').addEventListener('submit', (event) => {
  event.preventDefault();
  newSession($('new-cwd').value.trim());
});
$('refresh').addEventListener('click', () => refreshSessions());
$('toggle-sessions').addEventListener('click', () => {
  const open = $('sidebar').classList.toggle('open');
  $('toggle-sessions').setAttribute('aria-expanded', String(open));
});

// ------------------------------------------------------------------ turns

function setRunning(running, own) {
  state.running = running;
  state.ownPrompt = running && own;
  $('cancel').hidden = !running || state.session?.role === 'observer';
  document.body.dataset.turn = running ? 'running' : 'idle';
}

// A turn started or ended (the server's turn updates: _meta.agentcore.turn on a
// session_info_update, sent because the page sets _meta.agentcore.turnUpdates).
function turnChanged(turn) {
  if (turn.state === 'running') {
    state.turnBy = turn.thisClient ? null : turn.startedBy;
    setRunning(true, Boolean(turn.thisClient));
    if (!turn.thisClient) announce(turn.startedBy ? 'Another client started a turn' : 'The agent started a turn');
  } else if (turn.state === 'ended') {
    const other = !turn.thisClient;
    state.turnBy = null;
    setRunning(false, false);
    transcript.settle();
    if (other) announce(`The other client's turn ended${turn.stopReason ? ` (${turn.stopReason.replace('_', ' ')})` : ''}`);
  }
}

async function prompt(text) {
  const sessionId = state.session.id;
  setRunning(true, true);
  try {
    const answer = await acp.request('session/prompt', { sessionId, prompt: [{ type: 'text', text }] });
    if (answer.stopReason === 'cancelled') transcript.notice('info', 'Stopped');
    setRunning(false, false);
  } catch (err) {
    if (err.code === -32099) return; // the connection dropped: the turn goes on in the server
    transcript.notice('error', 'The prompt failed', err.message);
    setRunning(false, false);
  } finally {
    transcript.settle();
  }
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('composer-input');
  const text = input.value.trim();
  if (!text || !state.session || !acp.up) return;
  input.value = '';
  hideCommands();
  prompt(text);
});

$('composer-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('composer').requestSubmit();
  } else if (event.key === 'Escape') {
    if (!$('commands').hidden) hideCommands();
    else if (state.running) cancel();
  }
});
$('composer-input').addEventListener('input', () => showCommands($('composer-input').value));

function cancel() {
  if (state.session) acp.notify('session/cancel', { sessionId: state.session.id });
}
$('cancel').addEventListener('click', cancel);

function showCommands(text) {
  const list = $('commands');
  if (!text.startsWith('/') || text.includes(' ')) { hideCommands(); return; }
  const matches = state.commands.filter((c) => `/${c.name}`.startsWith(text));
  list.replaceChildren(...matches.map((c) => {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `/${c.name}`;
    const about = document.createElement('span');
    about.textContent = ` ${c.description || ''}`;
    button.append(about);
    button.addEventListener('click', () => { $('composer-input').value = `/${c.name}`; hideCommands(); $('composer-input').focus(); });
    item.append(button);
    return item;
  }));
  list.hidden = matches.length === 0;
}

function hideCommands() {
  $('commands').hidden = true;
}

// ----------------------------------------------------------- notifications

function handleNotification(method, params) {
  if (method === 'session/update') {
    if (!state.session || params.sessionId !== state.session.id) return;
    const update = params.update || {};
    switch (update.sessionUpdate) {
      case 'usage_update': return showUsage(update);
      case 'session_info_update':
        if (update._meta && update._meta.agentcore && update._meta.agentcore.turn) turnChanged(update._meta.agentcore.turn);
        if (update.title) {
          state.session.title = update.title;
          $('session-title').textContent = update.title;
          const row = document.querySelector(`.session-row[data-session-id="${CSS.escape(state.session.id)}"] .title`);
          if (row) row.textContent = update.title;
        }
        return undefined;
      case 'current_mode_update':
        $('mode-select').value = update.currentModeId;
        return undefined;
      case 'config_option_update': return renderOptions(update.configOptions || []);
      case 'available_commands_update':
        state.commands = update.availableCommands || [];
        return undefined;
      default:
        transcript.apply(update);
        return undefined;
    }
  }
  if (method === DETACHED && state.session && params.sessionId === state.session.id) {
    attach(state.session.id, state.session.cwd, state.session.role, true);
    return undefined;
  }
  if (method.startsWith(VOICE_PREFIX)) voice.notification(method.slice(VOICE_PREFIX.length), params);
  return undefined;
}

function showUsage(update) {
  const used = update.used || 0, size = update.size || 0;
  $('context-meter').value = size ? used / size : 0;
  $('context-text').textContent = size ? `${Math.round((100 * used) / size)}% of ${Math.round(size / 1000)}k` : '–';
  if (update.cost) $('cost').textContent = `$${Number(update.cost.amount || 0).toFixed(4)}`;
}

function showPlan(entries) {
  const plan = $('plan');
  plan.hidden = entries.length === 0;
  const title = document.createElement('h2');
  title.textContent = 'Plan';
  const list = document.createElement('ol');
  for (const entry of entries) {
    const item = document.createElement('li');
    item.dataset.status = entry.status;
    item.textContent = entry.content;
    list.append(item);
  }
  plan.replaceChildren(title, list);
}

// ---------------------------------------------------------------- requests

function handleRequest(method, params, id) {
  if (method === 'session/request_permission') return askPermission(params, id);
  if (method === APPROVE) return askApproval(params, id);
  const error = new Error(`method not found: ${method}`);
  error.code = -32601;
  throw error;
}

function requestCard(id, heading) {
  const card = document.createElement('section');
  card.className = 'request card';
  card.setAttribute('role', 'alertdialog');
  card.setAttribute('aria-label', heading);
  card.dataset.requestId = String(id);
  const h = document.createElement('h2');
  h.textContent = heading;
  card.append(h);
  state.requests.set(id, card);
  return card;
}

function askPermission(params, id) {
  return new Promise((resolve) => {
    const call = params.toolCall || {};
    const card = requestCard(id, 'Permission requested');
    const title = document.createElement('p');
    title.className = 'request-title';
    title.textContent = call.title || 'A tool wants to run';
    card.append(title);
    const command = call.rawInput && typeof call.rawInput.command === 'string' ? call.rawInput.command : null;
    if (command) {
      const pre = document.createElement('pre');
      pre.className = 'request-command';
      pre.textContent = command;
      card.append(pre);
    }
    for (const block of call.content || []) {
      if (block.type === 'diff') import('./diff.js').then(({ renderDiff }) => card.insertBefore(renderDiff(block), buttons));
    }
    const buttons = document.createElement('div');
    buttons.className = 'request-buttons';
    for (const option of params.options || []) {
      const button = document.createElement('button');
      button.textContent = option.name;
      button.dataset.kind = option.kind;
      button.dataset.optionId = option.optionId;
      button.addEventListener('click', () => {
        card.remove();
        state.requests.delete(id);
        resolve({ outcome: { outcome: 'selected', optionId: option.optionId } });
      });
      buttons.append(button);
    }
    card.append(buttons);
    $('requests').append(card);
    announce(`Permission requested: ${call.title || ''}`);
    const first = buttons.querySelector('button');
    if (first && state.session && state.session.role !== 'observer') first.focus();
  });
}

function askApproval(params, id) {
  // The call this page is placing right now (the /voice socket is not tied to this ACP connection).
  if (params.action === 'talk by voice' && voice.awaitingApproval(params.sessionId)) return { approved: true };
  return new Promise((resolve) => {
    const card = requestCard(id, 'Another client asks');
    const text = document.createElement('p');
    text.textContent = `${params.action}: ${params.detail || ''}`;
    const buttons = document.createElement('div');
    buttons.className = 'request-buttons';
    for (const [label, approved] of [['Allow', true], ['Refuse', false]]) {
      const button = document.createElement('button');
      button.textContent = label;
      button.addEventListener('click', () => { card.remove(); state.requests.delete(id); resolve({ approved }); });
      buttons.append(button);
    }
    card.append(text, buttons);
    $('requests').append(card);
    announce(`Another client asks: ${params.action}`);
    buttons.querySelector('button').focus();
  });
}

function resolvedElsewhere(requestId) {
  const card = state.requests.get(requestId);
  if (!card) return;
  state.requests.delete(requestId);
  card.remove();
  transcript.notice('info', 'Permission request resolved elsewhere');
  announce('The permission request was answered by another client');
}

boot();
