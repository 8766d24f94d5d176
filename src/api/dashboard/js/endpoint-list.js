// The endpoint list: the endpoints of this key as last read from the API, shown as a table.
// Its row buttons are actionButtons (deliveries, edit, enable, delete) handled by the modules doing those.
import { api, apiPath } from './api.js';
import { $, actionButton, badge, h, time } from './dom.js';

let endpoints = [];

export const endpointById = (id) => endpoints.find((e) => e.id === id);

export async function loadEndpoints() {
  endpoints = (await api('GET', apiPath('endpoints'))).data;
  renderEndpoints();
}

export function resetEndpoints() {
  endpoints = [];
  $('endpoint-rows').replaceChildren();
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
  $('endpoints-empty').hidden = endpoints.length > 0;
  $('endpoint-table').hidden = endpoints.length === 0;
  $('endpoint-rows').replaceChildren(
    ...endpoints.map((ep) =>
      h(
        'tr',
        { class: ep.enabled ? '' : 'disabled' },
        h('td', {}, h('code', {}, ep.url)),
        h('td', {}, ep.categories.length ? ep.categories.join(', ') : 'none'),
        h('td', {}, endpointState(ep)),
        h(
          'td',
          { class: 'actions' },
          actionButton('deliveries', ep.id, `Deliveries of ${ep.url}`, 'Deliveries'),
          actionButton('edit', ep.id, `Edit ${ep.url}`, 'Edit'),
          ep.enabled ? null : actionButton('enable', ep.id, `Re-enable ${ep.url}`, 'Re-enable'),
          actionButton('delete', ep.id, `Delete ${ep.url}`, 'Delete', { class: 'danger' }),
        ),
      ),
    ),
  );
}
