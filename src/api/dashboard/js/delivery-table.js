// The deliveries table: a row per delivery, with its Details and (once failed) Replay actionButtons,
// which the delivery detail handles.
import { $, actionButton, badge, h, time } from './dom.js';

const row = (d) =>
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
      actionButton('details', d.id, `Details of delivery ${d.id}`, 'Details'),
      d.status === 'failed' ? actionButton('replay', d.id, `Replay delivery ${d.id}`, 'Replay') : null,
    ),
  );

/** Shows a page of deliveries in place of the rows shown, or after them; "Load more" while there are more. */
export function showDeliveries(deliveries, { append, more }) {
  const rows = deliveries.map(row);
  if (append) $('delivery-rows').append(...rows);
  else $('delivery-rows').replaceChildren(...rows);
  $('deliveries-more').hidden = !more;
  $('deliveries-empty').hidden = $('delivery-rows').children.length > 0;
}

export function clearDeliveries() {
  $('delivery-rows').replaceChildren();
}
