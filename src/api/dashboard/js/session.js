// Logging in and out. A key is tried by reading the endpoints with it; logging out leaves nothing of the session
// on the page.
import { ApiError, apiKey } from './api.js';
import { $ } from './dom.js';
import { act, onKeyRefused, say } from './feedback.js';
import { loadEndpoints, resetEndpoints } from './endpoint-list.js';
import { resetEndpointForms } from './endpoint-forms.js';
import { resetDeliveries } from './deliveries.js';
import { resetDeliveryDetail } from './delivery-detail.js';
import { hideSecret } from './signing-secret.js';

async function login(event) {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) return;
  apiKey.set(key);
  $('login-error').textContent = '';
  try {
    await loadEndpoints();
  } catch (err) {
    apiKey.clear();
    $('login-error').textContent =
      err instanceof ApiError && err.status === 401 ? 'That API key was refused.' : `Could not log in: ${err.message}`;
    return;
  }
  $('api-key').value = '';
  showApp(true);
  say('Logged in.');
}

function logout(message = 'Logged out.') {
  apiKey.clear();
  resetDeliveryDetail(); // first: stops following a replay
  resetDeliveries();
  resetEndpointForms();
  resetEndpoints();
  hideSecret();
  showApp(false);
  say(message);
}

function showApp(on) {
  $('login').hidden = on;
  $('app').hidden = !on;
  $('logout').hidden = !on;
  if (!on) $('api-key').focus();
}

export function initSession() {
  onKeyRefused(() => logout('Your API key was refused; log in again.'));
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => logout());
}

/** Goes on with the key of this tab if there is one (the session survives a reload), else asks for one. */
export function startSession() {
  if (apiKey.get()) {
    act(null, async () => {
      await loadEndpoints();
      showApp(true);
    });
  } else {
    showApp(false);
  }
}
