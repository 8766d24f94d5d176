// EchoCue webhooks dashboard: plain DOM, no framework, no build step; ES modules in js/, served with this entry
// point by src/api/dashboard/serve.ts. Each module wires its own controls; this one starts them, then the session.
import { initDeliveries, refresh } from './js/deliveries.js';
import { initDeliveryControls } from './js/delivery-controls.js';
import { initDeliveryDetail } from './js/delivery-detail.js';
import { initEndpointActions } from './js/endpoint-actions.js';
import { initEndpointForms } from './js/endpoint-forms.js';
import { initEndpointPanel } from './js/endpoint-panel.js';
import { initSession, startSession } from './js/session.js';
import { initSigningSecret } from './js/signing-secret.js';

initSession();
initSigningSecret();
initEndpointForms();
initEndpointActions();
initEndpointPanel();
initDeliveries();
initDeliveryDetail({ afterReplay: refresh });
initDeliveryControls();
startSession();
