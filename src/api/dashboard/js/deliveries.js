// The deliveries of one endpoint: which endpoint is shown, paging through its deliveries (with the status filter),
// and refreshing them together with the endpoint list.
import { api, apiPath } from './api.js';
import { $, onAction } from './dom.js';
import { act } from './feedback.js';
import { endpointById, loadEndpoints } from './endpoint-list.js';
import { clearDeliveries, showDeliveries } from './delivery-table.js';
import { hideDelivery } from './delivery-detail.js';
import { hideEndpointPanel, showEndpointPanel } from './endpoint-panel.js';

const PAGE_SIZE = 25;

let endpointId = null;
let cursor = null;

export const shownEndpointId = () => endpointId;

function selectEndpoint(id) {
  endpointId = id;
  $('deliveries-title').textContent = `Deliveries to ${endpointById(id)?.url ?? id}`;
  $('deliveries').hidden = false;
  hideDelivery();
  return act(null, async () => {
    await loadDeliveries(true);
    await showEndpointPanel(id);
  });
}

/** The first page (reset) or the next one. */
export async function loadDeliveries(reset) {
  if (reset) cursor = null;
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if ($('delivery-status').value) q.set('status', $('delivery-status').value);
  if ($('delivery-type').value) q.set('type', $('delivery-type').value);
  for (const [input, param] of [
    ['delivery-from', 'created_after'],
    ['delivery-to', 'created_before'],
  ]) {
    const at = $(input).value ? new Date($(input).value) : null;
    if (at && !Number.isNaN(at.getTime())) q.set(param, at.toISOString());
  }
  if (cursor) q.set('cursor', cursor);
  const page = await api('GET', `${apiPath('endpoints', endpointId, 'deliveries')}?${q}`);
  showDeliveries(page.data, { append: !reset, more: Boolean(page.next_cursor) });
  cursor = page.next_cursor;
}

/** Deliveries first, then endpoints: a delivery that failed because its endpoint was disabled then shows both. */
export async function refresh() {
  if (endpointId) await loadDeliveries(true);
  if (endpointId) await showEndpointPanel(endpointId);
  await loadEndpoints();
}

/** Closes the deliveries (and the delivery shown) if they are those of endpoint `id`. */
export function closeDeliveries(id) {
  if (endpointId !== id) return;
  $('deliveries').hidden = true;
  hideDelivery();
  hideEndpointPanel();
  endpointId = null;
}

export function resetDeliveries() {
  endpointId = null;
  cursor = null;
  clearDeliveries();
  $('deliveries-title').replaceChildren();
  $('delivery-status').value = '';
  $('delivery-type').value = '';
  $('delivery-from').value = '';
  $('delivery-to').value = '';
  $('deliveries').hidden = true;
  hideEndpointPanel();
}

export function initDeliveries() {
  onAction($('endpoint-rows'), 'deliveries', (_, id) => selectEndpoint(id));
}
