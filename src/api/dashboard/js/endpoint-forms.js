// The add and edit forms of an endpoint: its URL and its subscriptions (a checkbox per category).
import { api, apiPath } from './api.js';
import { $, h, onAction } from './dom.js';
import { act, say } from './feedback.js';
import { endpointById, loadEndpoints } from './endpoint-list.js';
import { EVENT_TYPES } from './event-types.js';

let editingId = null;

function categoryBoxes(fieldset, prefix, checked) {
  fieldset.querySelectorAll('.choice').forEach((n) => n.remove());
  for (const cat of EVENT_TYPES) {
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

/** The checked categories; the API wants at least one (a new endpoint without a choice gets all five). */
function chosen(fieldset) {
  const categories = [...fieldset.querySelectorAll('input:checked')].map((i) => i.value);
  if (categories.length === 0) throw new Error('choose at least one subscription');
  return categories;
}

const addEndpoint = (event) => {
  event.preventDefault();
  return act(
    event.submitter,
    async () => {
      const ep = await api('POST', apiPath('endpoints'), { url: $('add-url').value.trim(), categories: chosen($('add-categories')) });
      $('add-url').value = '';
      await loadEndpoints();
      say(`Endpoint ${ep.url} added.`);
    },
    $('add-error'),
  );
};

function startEdit(ep) {
  editingId = ep.id;
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
      await api('POST', apiPath('endpoints', editingId), { url: $('edit-url').value.trim(), categories: chosen($('edit-categories')) });
      $('edit-form').hidden = true;
      await loadEndpoints();
      say('Endpoint saved.');
    },
    $('edit-error'),
  );
};

export function resetEndpointForms() {
  editingId = null;
  $('edit-title').replaceChildren();
  for (const id of ['add-error', 'edit-error']) $(id).textContent = '';
  for (const id of ['add-url', 'edit-url']) $(id).value = '';
  $('edit-form').hidden = true;
}

export function initEndpointForms() {
  $('add-form').addEventListener('submit', addEndpoint);
  $('edit-form').addEventListener('submit', saveEdit);
  $('edit-cancel').addEventListener('click', () => {
    $('edit-form').hidden = true;
  });
  onAction($('endpoint-rows'), 'edit', (_, id) => startEdit(endpointById(id)));
  categoryBoxes($('add-categories'), 'add', EVENT_TYPES);
}
