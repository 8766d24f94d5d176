// The endpoint row actions that change an endpoint in place: re-enable and delete.
import { api, apiPath } from './api.js';
import { $, onAction } from './dom.js';
import { act, say } from './feedback.js';
import { endpointById, loadEndpoints } from './endpoint-list.js';
import { closeDeliveries } from './deliveries.js';

const enableEndpoint = (button, ep) =>
  act(button, async () => {
    await api('POST', apiPath('endpoints', ep.id, 'enable'));
    await loadEndpoints();
    say(`Endpoint ${ep.url} re-enabled.`);
  });

const deleteEndpoint = (button, ep) =>
  act(button, async () => {
    if (!confirm(`Delete the endpoint ${ep.url}? Its deliveries stop.`)) return;
    await api('DELETE', apiPath('endpoints', ep.id));
    closeDeliveries(ep.id);
    await loadEndpoints();
    say(`Endpoint ${ep.url} deleted.`);
  });

export function initEndpointActions() {
  const rows = $('endpoint-rows');
  onAction(rows, 'enable', (button, id) => enableEndpoint(button, endpointById(id)));
  onAction(rows, 'delete', (button, id) => deleteEndpoint(button, endpointById(id)));
}
