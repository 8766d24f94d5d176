// The outbound event types (src/events/outbound.ts CATEGORIES), for the subscription boxes and the type pickers.
import { h } from './dom.js';

export const EVENT_TYPES = ['message.inbound', 'message.status', 'template.status', 'template.quality', 'consent.event'];

/** Appends one <option> per event type to `select` (after the options it already has, such as "All"). */
export const addTypeOptions = (select) => select.append(...EVENT_TYPES.map((t) => h('option', { value: t }, t)));
