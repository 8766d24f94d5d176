// Document ids are functions of Meta's own identifiers, so the actors (which write) and the API (which reads by a
// wamid, wa_id, BSUID or Meta template id) find a document by _id without a query: the cheap lookup everywhere.
import { deterministicId } from '../core/ids.ts';

export const messageIdOf = (wabaId: string, wamid: string): string => deterministicId('msg', wabaId, wamid);
export const templateDocId = (wabaId: string, templateId: string): string => deterministicId('tpl', wabaId, templateId);
export const threadIdOf = (wabaId: string, phoneNumberId: string | null, contactId: string): string =>
  deterministicId('thr', wabaId, phoneNumberId ?? '', contactId);
/** The contact id of an alias set: derived from its smallest alias, so merges converge whatever their order. */
export const contactIdOf = (wabaId: string, aliases: readonly string[]): string => deterministicId('con', wabaId, [...aliases].sort()[0]!);

/** The aliases a contact is known by: "wa:<wa_id>", "uid:<BSUID>", "puid:<parent BSUID>". */
export const waAlias = (waId: string): string => `wa:${waId}`;
export const userAlias = (userId: string): string => `uid:${userId}`;
export const parentUserAlias = (userId: string): string => `puid:${userId}`;
/** _id of an ec_contact_alias entry: which contact of a WABA holds an alias. */
export const aliasDocId = (wabaId: string, alias: string): string => `${wabaId}|${alias}`;

/** A broadcast recipient's id (one per broadcast and wa_id); EchoCue sends it to Meta as biz_opaque_callback_data, so
 *  the statuses of the message name their recipient even before the sender recorded the wamid. */
export const recipientIdOf = (broadcastId: string, waId: string): string => deterministicId('bcr', broadcastId, waId);
export const isRecipientId = (value: string): boolean => /^bcr_[A-Za-z0-9_-]+$/.test(value);
