// The delivery shown in detail, and replaying one: a replayed delivery is followed until it is no longer pending
// (or a minute passes), then the lists are refreshed.
import { api, apiPath } from './api.js';
import { $, onAction } from './dom.js';
import { act, say } from './feedback.js';
import { clearDelivery, renderDelivery } from './delivery-view.js';

const POLL_MS = 1000;
const POLL_TIMES = 60;

let shownId = null;
let poll = null;
let afterReplay = async () => {};

function show(d) {
  shownId = d.id;
  renderDelivery(d);
}

function stopPolling() {
  if (poll) clearTimeout(poll);
  poll = null;
}

export function hideDelivery() {
  $('delivery').hidden = true;
}

async function openDelivery(id) {
  stopPolling();
  show(await api('GET', apiPath('deliveries', id)));
  $('delivery').scrollIntoView({ block: 'start' });
}

const replayDelivery = (button, id) =>
  act(button, async () => {
    stopPolling();
    show(await api('POST', apiPath('deliveries', id, 'replay')));
    say('Replay queued.');
    let left = POLL_TIMES;
    const tick = () =>
      act(null, async () => {
        poll = null;
        const d = await api('GET', apiPath('deliveries', id));
        if (shownId !== id) return;
        show(d);
        if (d.status === 'pending' && --left > 0) {
          poll = setTimeout(tick, POLL_MS);
          return;
        }
        say(`Replayed delivery is ${d.status}.`, d.status === 'failed' ? 'error' : 'info');
        await afterReplay();
      });
    poll = setTimeout(tick, POLL_MS);
  });

export function resetDeliveryDetail() {
  stopPolling();
  shownId = null;
  clearDelivery();
}

/** afterReplay: what to reload once a replayed delivery settled. */
export function initDeliveryDetail(options) {
  afterReplay = options.afterReplay;
  const rows = $('delivery-rows');
  onAction(rows, 'details', (_, id) => act(null, () => openDelivery(id)));
  onAction(rows, 'replay', (button, id) => replayDelivery(button, id));
  $('delivery-replay').addEventListener('click', (e) => replayDelivery(e.currentTarget, shownId));
}
