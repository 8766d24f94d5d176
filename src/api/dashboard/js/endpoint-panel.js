// The panel of the endpoint whose deliveries are shown: its health over the last 24 hours (an SVG bar chart: the
// page's CSP allows no inline style), its notices, "send a test event", and its Standard Webhooks secret (reveal,
// rotate with an overlap).
import { api, apiPath } from './api.js';
import { $, h, secretField, time } from './dom.js';
import { act, say } from './feedback.js';
import { endpointById } from './endpoint-list.js';
import { addTypeOptions } from './event-types.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAY_MS = 24 * 3600 * 1000;
let shownId = null;

const pct = (x) => (x === null ? '—' : `${Math.round(x * 1000) / 10} %`);

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

function renderHealth(health) {
  const { totals, buckets } = health;
  $('health-totals').textContent =
    totals.attempts === 0
      ? 'No attempts in the last 24 hours.'
      : `${totals.attempts} attempts, ${totals.successes} succeeded (${pct(totals.success_rate)}).`;
  const start = Date.parse(health.since);
  const width = 600 / 288; // 5-minute buckets in a day
  const bars = buckets.map((b) => {
    const x = ((Date.parse(b.start) - start) / DAY_MS) * 600;
    const height = Math.max(2, (b.success_rate ?? 0) * 110);
    const label = `${new Date(b.start).toLocaleString()}: ${b.attempts} attempts, ${pct(b.success_rate)} succeeded, p95 ${b.latency_p95_ms ?? '—'} ms`;
    return svg(
      'rect',
      { x: Math.max(0, x), y: 120 - height, width: Math.max(width, 3), height, class: b.failures > 0 ? 'bar-bad' : 'bar-good' },
      svg('title', {}, label),
    );
  });
  $('health-chart').replaceChildren(svg('line', { x1: 0, y1: 119, x2: 600, y2: 119, class: 'axis' }), ...bars);
  $('health-chart').setAttribute('aria-label', `Health: ${buckets.length} buckets with attempts, ${pct(totals.success_rate)} succeeded`);
}

function renderNotices(list) {
  $('notices').replaceChildren(
    ...list.map((n) => h('li', { class: `notice ${n.kind}` }, time(n.at), ' ', h('strong', {}, n.kind), `: ${n.detail}`)),
  );
  $('notices-empty').hidden = list.length > 0;
}

const secret = secretField('endpoint-secret', 'endpoint-secret-reveal');
const hideSecret = secret.hide;

export async function showEndpointPanel(id) {
  if (shownId !== id) hideSecret();
  shownId = id;
  const since = new Date(Date.now() - DAY_MS).toISOString();
  const [health, notices] = await Promise.all([
    api('GET', `${apiPath('endpoints', id, 'health')}?${new URLSearchParams({ since })}`),
    api('GET', `${apiPath('notices')}?${new URLSearchParams({ endpoint_id: id, limit: '20' })}`),
  ]);
  $('endpoint-panel-title').textContent = `Endpoint ${endpointById(id)?.url ?? id}`;
  renderHealth(health);
  renderNotices(notices.data);
  $('endpoint-panel').hidden = false;
}

/** Hides the panel and forgets what it showed (logging out leaves nothing of it on the page). */
export function hideEndpointPanel() {
  shownId = null;
  hideSecret();
  for (const id of ['endpoint-panel-title', 'health-totals', 'health-chart', 'notices']) $(id).replaceChildren();
  $('notices-empty').hidden = false;
  $('endpoint-panel').hidden = true;
}

const sendTest = (event) => {
  event.preventDefault();
  return act(event.submitter, async () => {
    const type = $('test-type').value;
    const d = await api('POST', apiPath('endpoints', shownId, 'test'), { type });
    say(`Test event ${d.event_id} (${type}) queued: Refresh to see its delivery.`);
  });
};

const toggleSecret = () =>
  act($('endpoint-secret-reveal'), async () => {
    if (secret.shown()) return hideSecret();
    secret.show((await api('GET', apiPath('endpoints', shownId, 'secret'))).secret);
  });

const rotateSecret = () =>
  act($('endpoint-secret-rotate'), async () => {
    const hours = Number($('endpoint-secret-overlap').value);
    if (!Number.isInteger(hours) || hours < 0 || hours > 168) throw new Error('the overlap must be a whole number of hours from 0 to 168');
    if (!confirm(`Rotate this endpoint's secret? The old one keeps signing for ${hours} hours.`)) return;
    const r = await api('POST', apiPath('endpoints', shownId, 'secret', 'rotate'), { overlap_seconds: hours * 3600 });
    secret.show(r.secret);
    say(
      r.old_secrets_expire_at
        ? `Endpoint secret rotated; the old one signs too until ${new Date(r.old_secrets_expire_at).toLocaleString()}.`
        : 'Endpoint secret rotated; the old one no longer signs.',
    );
  });

export function initEndpointPanel() {
  addTypeOptions($('test-type'));
  $('test-form').addEventListener('submit', sendTest);
  $('endpoint-secret-reveal').addEventListener('click', toggleSecret);
  $('endpoint-secret-rotate').addEventListener('click', rotateSecret);
}
