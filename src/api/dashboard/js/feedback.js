// The status line, and the one way user actions run: their button disabled meanwhile, their errors shown.
import { ApiError } from './api.js';
import { $ } from './dom.js';

let keyRefused = () => {};

/** What act does when the API refuses the key (the session logs out). */
export function onKeyRefused(fn) {
  keyRefused = fn;
}

export function say(message, kind = 'info') {
  $('status').textContent = message;
  $('status').dataset.kind = kind;
}

/** Runs a user action: disables its button meanwhile, reports errors, and logs out when the key is refused. */
export async function act(button, fn, errorTarget = null) {
  if (button) button.disabled = true;
  if (errorTarget) errorTarget.textContent = '';
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return keyRefused();
    const message = err instanceof ApiError ? `${err.message} (${err.code})` : `Cannot do that: ${err.message}`;
    if (errorTarget) errorTarget.textContent = message;
    else say(message, 'error');
  } finally {
    if (button) button.disabled = false;
  }
}
