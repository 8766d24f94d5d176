// EchoCue webhooks dashboard: plain DOM, no framework, no build step. Served by src/api/dashboard/serve.ts.
// Everything from the API is put on the page with textContent / Text nodes, never as HTML.
// The API key lives in sessionStorage (this tab only), never in the URL or localStorage.

const KEY_STORAGE = 'echocue.apiKey';
const CATEGORIES = ['message.inbound', 'message.status', 'template.status', 'template.quality', 'consent.event'];
const PAGE_SIZE = 25;
const POLL_MS = 1000;
const POLL_TIMES = 60;

const $ = (id) => document.getElementById(id);
const state = { endpoints: [], endpointId: null, editingId: null, cursor: null, deliveryId: null, poll: null };

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** One call to the REST API with the key of this tab; API errors become ApiError with the API's message. */
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE) ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const err = json?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP ${res.status}`, err?.message ?? `${res.status} ${res.statusText}`);
  }
  return json;
}

/** document.createElement with attributes, listeners (onclick...) and children (strings become Text nodes). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const time = (iso) => (iso ? h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString()) : '—');
const badge = (text, kind) => h('span', { class: `badge ${kind}` }, text);
const path = (...parts) => `/api/webhooks/${parts.map(encodeURIComponent).join('/')}`;

function say(message, kind = 'info') {
  $('status').textContent = message;
  $('status').dataset.kind = kind;
}

/** Runs a user action: disables its button meanwhile, reports errors, and logs out when the key is refused. */
async function act(button, fn, errorTarget = null) {
  if (button) button.disabled = true;
  if (errorTarget) errorTarget.textContent = '';
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return logout('Your API key was refused; log in again.');
    const message = err instanceof ApiError ? `${err.message} (${err.code})` : `Cannot do that: ${err.message}`;
    if (errorTarget) errorTarget.textContent = message;
    else say(message, 'error');
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- log in / out ----------------------------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  $('login-error').textContent = '';
  try {
    await loadEndpoints();
  } catch (err) {
    sessionStorage.removeItem(KEY_STORAGE);
    $('login-error').textContent =
      err instanceof ApiError && err.status === 401 ? 'That API key was refused.' : `Could not log in: ${err.message}`;
    return;
  }
  $('api-key').value = '';
  showApp(true);
  say('Logged in.');
}

function logout(message = 'Logged out.') {
  sessionStorage.removeItem(KEY_STORAGE);
  stopPolling();
  Object.assign(state, { endpoints: [], endpointId: null, editingId: null, cursor: null, deliveryId: null });
  // Nothing of this session stays on the page.
  for (const id of [
    'endpoint-rows',
    'delivery-rows',
    'attempts',
    'delivery-facts',
    'delivery-payload',
    'edit-title',
    'deliveries-title',
    'delivery-title',
  ]) {
    $(id).replaceChildren();
  }
  for (const id of ['add-error', 'edit-error']) $(id).textContent = '';
  for (const id of ['add-url', 'edit-url', 'delivery-status']) $(id).value = '';
  hideSecret();
  $('edit-form').hidden = true;
  $('deliveries').hidden = true;
  $('delivery').hidden = true;
  showApp(false);
  say(message);
}

function showApp(on) {
  $('login').hidden = on;
  $('app').hidden = !on;
  $('logout').hidden = !on;
  if (!on) $('api-key').focus();
}

// ---- signing secret --------------------------------------------------------------------------------------------

function showSecret({ key_id, signing_secret }) {
  $('secret-key-id').textContent = `Key ${key_id}:`;
  $('secret-value').textContent = signing_secret;
  $('secret-value').classList.add('revealed');
  $('secret-reveal').textContent = 'Hide';
}

function hideSecret() {
  $('secret-key-id').textContent = '';
  $('secret-value').textContent = 'hidden';
  $('secret-value').classList.remove('revealed');
  $('secret-reveal').textContent = 'Reveal';
}

const toggleSecret = () =>
  act($('secret-reveal'), async () => {
    if ($('secret-value').classList.contains('revealed')) return hideSecret();
    showSecret(await api('GET', path('signing-secret')));
  });

const rotateSecret = () =>
  act($('secret-rotate'), async () => {
    if (!confirm('Rotate the signing secret? Your receivers must check signatures with the new secret.')) return;
    showSecret(await api('POST', path('signing-secret', 'rotate')));
    say('Signing secret rotated: give the new secret to your receivers.');
  });

// ---- endpoints -------------------------------------------------------------------------------------------------

function categoryBoxes(fieldset, prefix, checked) {
  fieldset.querySelectorAll('.choice').forEach((n) => n.remove());
  for (const cat of CATEGORIES) {
    const id = `${prefix}-${cat.replace('.', '-')}`;
    fieldset.append(
      h(
        'span',
        { class: 'choice' },
        h('input', { type: 'checkbox', id, value: cat, checked: checked.includes(cat) }),
        h('label', { for: id }, cat),
      ),
    );
  }
}

const checkedIn = (fieldset) => [...fieldset.querySelectorAll('input:checked')].map((i) => i.value);

async function loadEndpoints() {
  state.endpoints = (await api('GET', path('endpoints'))).data;
  renderEndpoints();
}

function endpointState(ep) {
  if (!ep.enabled) {
    return h(
      'div',
      {},
      badge('Disabled', 'bad'),
      ' since ',
      time(ep.disabled_at),
      h('div', { class: 'reason' }, ep.disabled_reason ? `Reason: ${ep.disabled_reason}` : 'No reason given'),
    );
  }
  return h(
    'div',
    {},
    badge('Enabled', 'good'),
    ep.failing_since ? h('div', { class: 'reason' }, 'Failing since ', time(ep.failing_since)) : null,
  );
}

function renderEndpoints() {
  $('endpoints-empty').hidden = state.endpoints.length > 0;
  $('endpoint-table').hidden = state.endpoints.length === 0;
  $('endpoint-rows').replaceChildren(
    ...state.endpoints.map((ep) =>
      h(
        'tr',
        { class: ep.enabled ? '' : 'disabled' },
        h('td', {}, h('code', {}, ep.url)),
        h('td', {}, ep.categories.length ? ep.categories.join(', ') : 'none'),
        h('td', {}, endpointState(ep)),
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', 'aria-label': `Deliveries of ${ep.url}`, onclick: () => selectEndpoint(ep.id) }, 'Deliveries'),
          h('button', { type: 'button', 'aria-label': `Edit ${ep.url}`, onclick: () => startEdit(ep) }, 'Edit'),
          ep.enabled
            ? null
            : h(
                'button',
                { type: 'button', 'aria-label': `Re-enable ${ep.url}`, onclick: (e) => enableEndpoint(e.currentTarget, ep) },
                'Re-enable',
              ),
          h(
            'button',
            { type: 'button', class: 'danger', 'aria-label': `Delete ${ep.url}`, onclick: (e) => deleteEndpoint(e.currentTarget, ep) },
            'Delete',
          ),
        ),
      ),
    ),
  );
}

/** The checked categories; the API wants at least one (a new endpoint without a choice gets all five). */
function chosen(fieldset) {
  const categories = checkedIn(fieldset);
  if (categories.length === 0) throw new Error('choose at least one subscription');
  return categories;
}

const addEndpoint = (event) => {
  event.preventDefault();
  return act(
    event.submitter,
    async () => {
      const ep = await api('POST', path('endpoints'), { url: $('add-url').value.trim(), categories: chosen($('add-categories')) });
      $('add-url').value = '';
      await loadEndpoints();
      say(`Endpoint ${ep.url} added.`);
    },
    $('add-error'),
  );
};

function startEdit(ep) {
  state.editingId = ep.id;
  $('edit-title').textContent = `Edit ${ep.url}`;
  $('edit-url').value = ep.url;
  categoryBoxes($('edit-categories'), 'edit', ep.categories);
  $('edit-error').textContent = '';
  $('edit-form').hidden = false;
  $('edit-url').focus();
}

const saveEdit = (event) => {
  event.preventDefault();
  return act(
    event.submitter,
    async () => {
      await api('POST', path('endpoints', state.editingId), { url: $('edit-url').value.trim(), categories: chosen($('edit-categories')) });
      $('edit-form').hidden = true;
      await loadEndpoints();
      say('Endpoint saved.');
    },
    $('edit-error'),
  );
};

const enableEndpoint = (button, ep) =>
  act(button, async () => {
    await api('POST', path('endpoints', ep.id, 'enable'));
    await loadEndpoints();
    say(`Endpoint ${ep.url} re-enabled.`);
  });

const deleteEndpoint = (button, ep) =>
  act(button, async () => {
    if (!confirm(`Delete the endpoint ${ep.url}? Its deliveries stop.`)) return;
    await api('DELETE', path('endpoints', ep.id));
    if (state.endpointId === ep.id) {
      $('deliveries').hidden = true;
      $('delivery').hidden = true;
      state.endpointId = null;
    }
    await loadEndpoints();
    say(`Endpoint ${ep.url} deleted.`);
  });

// ---- deliveries ------------------------------------------------------------------------------------------------

function selectEndpoint(id) {
  state.endpointId = id;
  const ep = state.endpoints.find((e) => e.id === id);
  $('deliveries-title').textContent = `Deliveries to ${ep?.url ?? id}`;
  $('deliveries').hidden = false;
  $('delivery').hidden = true;
  return act(null, () => loadDeliveries(true));
}

async function loadDeliveries(reset) {
  if (reset) state.cursor = null;
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if ($('delivery-status').value) q.set('status', $('delivery-status').value);
  if (state.cursor) q.set('cursor', state.cursor);
  const page = await api('GET', `${path('endpoints', state.endpointId, 'deliveries')}?${q}`);
  const rows = page.data.map((d) =>
    h(
      'tr',
      {},
      h('td', {}, time(d.created_at)),
      h('td', {}, d.category),
      h('td', {}, badge(d.status, d.status)),
      h('td', {}, String(d.attempt_count)),
      h(
        'td',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', 'aria-label': `Details of delivery ${d.id}`, onclick: () => act(null, () => openDelivery(d.id)) },
          'Details',
        ),
        d.status === 'failed'
          ? h(
              'button',
              { type: 'button', 'aria-label': `Replay delivery ${d.id}`, onclick: (e) => replayDelivery(e.currentTarget, d.id) },
              'Replay',
            )
          : null,
      ),
    ),
  );
  if (reset) $('delivery-rows').replaceChildren(...rows);
  else $('delivery-rows').append(...rows);
  state.cursor = page.next_cursor;
  $('deliveries-more').hidden = !page.next_cursor;
  $('deliveries-empty').hidden = $('delivery-rows').children.length > 0;
}

/** Deliveries first, then endpoints: a delivery that failed because its endpoint was disabled then shows both. */
async function refresh() {
  if (state.endpointId) await loadDeliveries(true);
  await loadEndpoints();
}

const replayAll = (event) => {
  event.preventDefault();
  return act(event.submitter, async () => {
    const since = new Date($('replay-since').value);
    if (Number.isNaN(since.getTime())) throw new Error('choose a date and time');
    const { replayed, more } = await api('POST', path('endpoints', state.endpointId, 'replay'), { since: since.toISOString() });
    say(
      `Replaying ${replayed} failed ${replayed === 1 ? 'delivery' : 'deliveries'} since ${since.toLocaleString()}${more ? '; more remain: replay again once these are under way' : ''}.`,
    );
    await loadDeliveries(true);
  });
};

/** A value for <input type=datetime-local>: local time, minutes precision. */
function localInputValue(date) {
  const p = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

// ---- one delivery ----------------------------------------------------------------------------------------------

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

/** One attempt; a replay starts a new round of attempts, so once there are rounds the heading names them. */
function renderAttempt(a, withRound) {
  const outcome = { success: ['succeeded', 'good'], failure: ['failed', 'bad'], in_flight: ['in flight', 'pending'] }[a.outcome] ?? [
    a.outcome,
    '',
  ];
  return h(
    'li',
    { class: 'attempt' },
    h('h4', {}, withRound ? `Round ${a.round}, attempt ${a.n} ` : `Attempt ${a.n} `, badge(outcome[0], outcome[1])),
    h(
      'dl',
      { class: 'facts' },
      ...fact('At', time(a.at)),
      ...fact('Status code', a.status_code === null ? 'none' : String(a.status_code)),
      ...fact('Latency', a.latency_ms === null ? '—' : `${a.latency_ms} ms`),
      ...fact('Error', a.error ?? 'none'),
    ),
    a.response_body === null
      ? h('p', { class: 'hint' }, 'No response body.')
      : h('div', {}, h('p', { class: 'label' }, 'Response body'), h('pre', { class: 'body' }, a.response_body)),
  );
}

function renderDelivery(d) {
  state.deliveryId = d.id;
  $('delivery').hidden = false;
  $('delivery-title').textContent = `Delivery ${d.id}`;
  $('delivery-facts').replaceChildren(
    ...fact('Status', badge(d.status, d.status)),
    ...fact('Event', d.event_id),
    ...fact('Category', d.category),
    ...fact('Created', time(d.created_at)),
    ...(d.delivered_at ? fact('Delivered', time(d.delivered_at)) : []),
    ...(d.failed_at ? fact('Failed', time(d.failed_at)) : []),
    ...(d.failure_reason ? fact('Failure reason', d.failure_reason) : []),
    ...(d.next_attempt_at ? fact('Next attempt', time(d.next_attempt_at)) : []),
    ...fact('Attempts', String(d.attempt_count)),
  );
  $('delivery-replay').hidden = d.status !== 'failed';
  const withRound = d.attempts.some((a) => a.round > 1);
  $('attempts').replaceChildren(...d.attempts.map((a) => renderAttempt(a, withRound)));
  $('attempts-empty').hidden = d.attempts.length > 0;
  $('delivery-payload').textContent = JSON.stringify(d.payload, null, 2);
}

async function openDelivery(id) {
  stopPolling();
  renderDelivery(await api('GET', path('deliveries', id)));
  $('delivery').scrollIntoView({ block: 'start' });
}

/** Replays one delivery, then follows it until it is no longer pending (or a minute passes). */
const replayDelivery = (button, id) =>
  act(button, async () => {
    stopPolling();
    renderDelivery(await api('POST', path('deliveries', id, 'replay')));
    say('Replay queued.');
    let left = POLL_TIMES;
    const tick = () =>
      act(null, async () => {
        state.poll = null;
        const d = await api('GET', path('deliveries', id));
        if (state.deliveryId !== id) return;
        renderDelivery(d);
        if (d.status === 'pending' && --left > 0) {
          state.poll = setTimeout(tick, POLL_MS);
          return;
        }
        say(`Replayed delivery is ${d.status}.`, d.status === 'failed' ? 'error' : 'info');
        await refresh();
      });
    state.poll = setTimeout(tick, POLL_MS);
  });

function stopPolling() {
  if (state.poll) clearTimeout(state.poll);
  state.poll = null;
}

// ---- wiring ----------------------------------------------------------------------------------------------------

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', () => logout());
$('secret-reveal').addEventListener('click', toggleSecret);
$('secret-rotate').addEventListener('click', rotateSecret);
$('add-form').addEventListener('submit', addEndpoint);
$('edit-form').addEventListener('submit', saveEdit);
$('edit-cancel').addEventListener('click', () => {
  $('edit-form').hidden = true;
});
$('delivery-status').addEventListener('change', () => act(null, () => loadDeliveries(true)));
$('deliveries-refresh').addEventListener('click', (e) => act(e.currentTarget, refresh));
$('deliveries-more').addEventListener('click', (e) => act(e.currentTarget, () => loadDeliveries(false)));
$('replay-all-form').addEventListener('submit', replayAll);
$('delivery-replay').addEventListener('click', (e) => replayDelivery(e.currentTarget, state.deliveryId));

categoryBoxes($('add-categories'), 'add', CATEGORIES);
$('replay-since').value = localInputValue(new Date(Date.now() - 24 * 3600 * 1000));

if (sessionStorage.getItem(KEY_STORAGE)) {
  act(null, async () => {
    await loadEndpoints();
    showApp(true);
  });
} else {
  showApp(false);
}
