// The signing secret panel: hidden until revealed, and rotated after a confirmation.
import { api, apiPath } from './api.js';
import { $, secretField } from './dom.js';
import { act, say } from './feedback.js';

const secret = secretField('secret-value', 'secret-reveal');

function showSecret({ key_id, signing_secret }) {
  $('secret-key-id').textContent = `Key ${key_id}:`;
  secret.show(signing_secret);
}

export function hideSecret() {
  $('secret-key-id').textContent = '';
  secret.hide();
}

const toggleSecret = () =>
  act($('secret-reveal'), async () => {
    if (secret.shown()) return hideSecret();
    showSecret(await api('GET', apiPath('signing-secret')));
  });

const rotateSecret = () =>
  act($('secret-rotate'), async () => {
    if (!confirm('Rotate the signing secret? Your receivers must check signatures with the new secret.')) return;
    showSecret(await api('POST', apiPath('signing-secret', 'rotate')));
    say('Signing secret rotated: give the new secret to your receivers.');
  });

export function initSigningSecret() {
  $('secret-reveal').addEventListener('click', toggleSecret);
  $('secret-rotate').addEventListener('click', rotateSecret);
}
