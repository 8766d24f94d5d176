// Rendering of one delivery: its facts, its attempts (a replay starts a new round of them) and its payload.
import { $, badge, h, time } from './dom.js';

const fact = (term, value) => [h('dt', {}, term), h('dd', {}, value)];

const OUTCOMES = { success: ['succeeded', 'good'], failure: ['failed', 'bad'], in_flight: ['in flight', 'pending'] };

/** One attempt; once there are rounds the heading names them. */
function renderAttempt(a, withRound) {
  const [label, kind] = OUTCOMES[a.outcome] ?? [a.outcome, ''];
  return h(
    'li',
    { class: 'attempt' },
    h('h4', {}, withRound ? `Round ${a.round}, attempt ${a.n} ` : `Attempt ${a.n} `, badge(label, kind)),
    h(
      'dl',
      { class: 'facts' },
      ...fact('At', time(a.at)),
      ...fact('Status code', a.status_code === null ? 'none' : String(a.status_code)),
      ...fact('Latency', a.latency_ms === null ? '—' : `${a.latency_ms} ms`),
      ...fact('Error', a.error ?? 'none'),
      ...(a.directive ? fact('Receiver asked', `webhook-delivery: ${a.directive}`) : []),
    ),
    a.response_body === null
      ? h('p', { class: 'hint' }, 'No response body.')
      : h('div', {}, h('p', { class: 'label' }, 'Response body'), h('pre', { class: 'body' }, a.response_body)),
    a.request_headers
      ? h(
          'details',
          { class: 'headers' },
          h('summary', {}, 'Request headers'),
          h(
            'pre',
            { class: 'request-headers' },
            Object.entries(a.request_headers)
              .map(([k, v]) => `${k}: ${v}`)
              .join('\n'),
          ),
        )
      : null,
  );
}

export function renderDelivery(d) {
  $('delivery').hidden = false;
  $('delivery-title').textContent = `Delivery ${d.id}`;
  $('delivery-facts').replaceChildren(
    ...fact('Status', badge(d.status, d.status)),
    ...fact('Event', d.event_id),
    ...fact('Event type', d.category),
    ...(d.payload.test ? fact('Test event', 'yes') : []),
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

export function clearDelivery() {
  for (const id of ['attempts', 'delivery-facts', 'delivery-payload', 'delivery-title']) $(id).replaceChildren();
  $('delivery').hidden = true;
}
