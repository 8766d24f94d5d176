// The controls of the deliveries table: the filters (status, event type, created from/to), Refresh, Load more and
// "replay all failed since".
import { api, apiPath } from './api.js';
import { $ } from './dom.js';
import { addTypeOptions } from './event-types.js';
import { act, say } from './feedback.js';
import { loadDeliveries, refresh, shownEndpointId } from './deliveries.js';

const replayAll = (event) => {
  event.preventDefault();
  return act(event.submitter, async () => {
    const since = new Date($('replay-since').value);
    if (Number.isNaN(since.getTime())) throw new Error('choose a date and time');
    const { replayed, more } = await api('POST', apiPath('endpoints', shownEndpointId(), 'replay'), { since: since.toISOString() });
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

export function initDeliveryControls() {
  addTypeOptions($('delivery-type'));
  for (const id of ['delivery-status', 'delivery-type', 'delivery-from', 'delivery-to'])
    $(id).addEventListener('change', () => act(null, () => loadDeliveries(true)));
  $('deliveries-refresh').addEventListener('click', (e) => act(e.currentTarget, refresh));
  $('deliveries-more').addEventListener('click', (e) => act(e.currentTarget, () => loadDeliveries(false)));
  $('replay-all-form').addEventListener('submit', replayAll);
  $('replay-since').value = localInputValue(new Date(Date.now() - 24 * 3600 * 1000));
}
