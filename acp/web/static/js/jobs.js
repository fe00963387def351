// The Jobs view: durable jobs (`_agentcore/jobs/list`) and their pending approvals,
// answered with `_agentcore/jobs/approve`. Everything shown is set as text
// (textContent), never parsed as HTML. It polls only while the view is open.

const LIST = '_agentcore/jobs/list';
const APPROVE = '_agentcore/jobs/approve';
const POLL_MS = 3000;
const NOT_CONFIGURED = 'Durable jobs are not configured on this server (no Temporal).';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function notConfigured(err) {
  const message = String((err && err.message) || '');
  return /no Temporal configured|temporal extra/i.test(message);
}

export class JobsView {
  constructor({ acp, panel, list, notice, announce }) {
    Object.assign(this, { acp, panel, list, notice, announce });
    this.timer = null;
    this.loading = false;
  }

  get open() {
    return !this.panel.hidden;
  }

  show() {
    this.panel.hidden = false;
    this.refresh();
    if (this.timer === null) this.timer = setInterval(() => this.refresh(), POLL_MS);
  }

  hide() {
    this.panel.hidden = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async refresh() {
    if (this.loading || !this.open || !this.acp.up) return;
    this.loading = true;
    try {
      const answer = await this.acp.request(LIST, {});
      this.render(answer.jobs || []);
    } catch (err) {
      this.list.replaceChildren();
      this.setNotice(notConfigured(err) ? NOT_CONFIGURED : `Jobs could not be listed: ${String(err.message || err).split('\n')[0]}`);
      this.panel.dataset.state = notConfigured(err) ? 'unconfigured' : 'error';
    } finally {
      this.loading = false;
    }
  }

  setNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  render(jobs) {
    this.panel.dataset.state = 'listed';
    this.setNotice(jobs.length ? '' : 'No jobs.');
    this.list.replaceChildren(...jobs.map((job) => this.jobRow(job)));
  }

  jobRow(job) {
    const item = el('li', 'job-row');
    item.dataset.jobId = job.jobId;
    item.dataset.status = job.status;
    const head = el('div', 'job-head');
    head.append(el('span', 'job-id', job.jobId), el('span', `job-status status-${job.status}`, job.status));
    if (job.turn !== undefined && job.turn !== null) head.append(el('span', 'job-turn', `turn ${job.turn}`));
    if (job.phase) head.append(el('span', 'job-phase', job.phase));
    item.append(head);
    if (job.goal) item.append(el('p', 'job-goal', job.goal));
    const pending = job.pending || [];
    if (pending.length) item.append(el('p', 'job-pending-count', `${pending.length} waiting for approval`));
    for (const call of pending) item.append(this.approvalCard(job.jobId, call));
    return item;
  }

  approvalCard(jobId, call) {
    const card = el('section', 'job-approval card');
    card.dataset.callId = call.callId;
    card.setAttribute('aria-label', `Approval for ${call.tool}`);
    card.append(el('p', 'request-title', call.tool));
    card.append(el('pre', 'request-command', call.title || ''));
    const buttons = el('div', 'request-buttons');
    const status = el('p', 'job-answer');
    for (const [label, decision] of [['Allow', 'allow'], ['Deny', 'deny']]) {
      const button = el('button', '', label);
      button.type = 'button';
      button.dataset.decision = decision;
      button.addEventListener('click', async () => {
        for (const b of buttons.querySelectorAll('button')) b.disabled = true;
        try {
          await this.acp.request(APPROVE, { jobId, callId: call.callId, decision });
          status.textContent = decision === 'allow' ? 'Allowed.' : 'Denied.';
          this.announce(`Job ${jobId}: ${call.tool} ${decision === 'allow' ? 'allowed' : 'denied'}`);
        } catch (err) {
          status.textContent = String(err.message || err).split('\n')[0];
          for (const b of buttons.querySelectorAll('button')) b.disabled = false;
        }
      });
      buttons.append(button);
    }
    card.append(buttons, status);
    return card;
  }
}
