// DOM helpers. Everything from the API is put on the page with textContent / Text nodes, never as HTML.

export const $ = (id) => document.getElementById(id);

/** document.createElement with attributes, listeners (onclick...) and children (strings become Text nodes). */
export function h(tag, attrs = {}, ...children) {
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

export const time = (iso) => (iso ? h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString()) : '—');
export const badge = (text, kind) => h('span', { class: `badge ${kind}` }, text);

/** A row button: `action` and `id` say what it does to what, for whichever module handles it (see onAction). */
export const actionButton = (action, id, label, text, attrs = {}) =>
  h('button', { type: 'button', 'data-action': action, 'data-id': id, 'aria-label': label, ...attrs }, text);

/** Calls fn(button, id) when an actionButton of `action` inside `container` is clicked; rows come and go, the container stays. */
export function onAction(container, action, fn) {
  container.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (button && button.dataset.action === action && container.contains(button)) fn(button, button.dataset.id);
  });
}

/** A secret shown in <code id=codeId> with a Reveal/Hide button: hidden until shown, hidden again on demand. */
export function secretField(codeId, buttonId) {
  const show = (value) => {
    $(codeId).textContent = value;
    $(codeId).classList.add('revealed');
    $(buttonId).textContent = 'Hide';
  };
  const hide = () => {
    $(codeId).textContent = 'hidden';
    $(codeId).classList.remove('revealed');
    $(buttonId).textContent = 'Reveal';
  };
  return { show, hide, shown: () => $(codeId).classList.contains('revealed') };
}
