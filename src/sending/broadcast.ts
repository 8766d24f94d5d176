// Creating a broadcast: an approved template from a connected number to a list of wa_ids (given, or a saved
// audience). Recipients who opted out anywhere in the account are recorded as skipped with the reason and never
// queued; the others are recorded pending and queued as one Kafka record each, keyed by broadcast, for the broadcast
// sender (src/sending/broadcast-sender.ts). The broadcast's id comes from its Idempotency-Key: a retried call finds
// what the first one recorded, records what it had not, and queues the still-pending recipients again (the sender
// sends each recipient once, whatever the number of records naming it).
import { AppError } from '../core/errors.ts';
import { type Clock } from '../core/clock.ts';
import { deterministicId } from '../core/ids.ts';
import { type BroadcastDoc, type BroadcastStore } from '../store/broadcasts.ts';
import { type ConnectionStore } from '../store/connections.ts';
import { type ContactReads } from '../store/contacts.ts';
import { recipientIdOf } from '../store/doc-ids.ts';
import { type BroadcastRecipientDoc, type TemplateDoc } from '../store/docs.ts';
import { requestHash } from '../store/sends.ts';
import { isMarketing } from './rules.ts';

export type BroadcastSendRecord = { broadcast_id: string; recipient_id: string };

export type BroadcastRequest = Readonly<{
  accountId: string;
  wabaIds: readonly string[];
  key: string;
  phoneNumberId: string;
  template: { name: string; language: string; components?: Record<string, unknown>[] | undefined };
  waIds: readonly string[];
}>;

export type CreateBroadcastDeps = Readonly<{
  broadcasts: BroadcastStore;
  connections: Pick<ConnectionStore, 'get'>;
  contacts: Pick<ContactReads, 'optOutsByWaId'>;
  templateByName: (wabaId: string, name: string, language: string) => Promise<TemplateDoc | null>;
  /** Writes send records (acknowledged by Kafka). */
  queueSends: (records: readonly BroadcastSendRecord[]) => Promise<void>;
  clock: Clock;
}>;

const refused = (reason: string, message: string) => new AppError('EC_SEND_REFUSED', `not sent: ${message}`, { details: { reason } });

/** Why a recipient is skipped at creation, or null: an opt-out of everything anywhere in the account, or of marketing
 *  for a marketing template. */
export function skipReasonOf(
  optOut: { all: { wabaId: string } | null; marketing: { wabaId: string } | null } | undefined,
  marketingTemplate: boolean,
): string | null {
  if (optOut?.all) return 'opted_out';
  if (marketingTemplate && optOut?.marketing) return 'marketing_opted_out';
  return null;
}

export async function createBroadcast(req: BroadcastRequest, deps: CreateBroadcastDeps): Promise<BroadcastDoc> {
  const id = deterministicId('brd', req.accountId, req.key);
  const hash = requestHash({ phone: req.phoneNumberId, template: req.template, wa_ids: req.waIds });
  const prior = await deps.broadcasts.getBroadcast(req.accountId, id);
  if (prior && prior.request_hash !== hash)
    throw new AppError('EC_CONFLICT', `Idempotency-Key "${req.key}" was used for another broadcast; use a new key for a new broadcast`, {
      details: { reason: 'idempotency_key_reused', parameter: 'Idempotency-Key' },
    });
  let broadcast = prior;
  if (!broadcast) {
    const connection = await deps.connections.get(req.accountId, req.phoneNumberId);
    if (!connection || connection.state !== 'connected')
      throw refused('not_connected', `phone number ${req.phoneNumberId} is not connected to this account through Embedded Signup`);
    const template = await deps.templateByName(connection.waba_id, req.template.name, req.template.language);
    if (!template)
      throw refused(
        'template_unknown',
        `no template "${req.template.name}" in language ${req.template.language} on WABA ${connection.waba_id}`,
      );
    if (template.whatsapp_status !== 'approved')
      throw refused(
        'template_not_approved',
        `template "${template.name}" is ${template.whatsapp_status}: a broadcast needs an approved template`,
      );
    broadcast = await deps.broadcasts.createBroadcast({
      _id: id,
      account_id: req.accountId,
      waba_id: connection.waba_id,
      phone_number_id: req.phoneNumberId,
      idempotency_key: req.key,
      request_hash: hash,
      template: {
        name: template.name!,
        language: template.language!,
        category: template.category,
        components: req.template.components ?? null,
      },
      total: req.waIds.length,
      stopped: null,
      created_at: deps.clock.now(),
    });
  }
  const b = broadcast;
  const now = deps.clock.now();
  const optOuts = await deps.contacts.optOutsByWaId(req.wabaIds, req.waIds);
  const marketing = isMarketing(b.template.category);
  await deps.broadcasts.addRecipients(
    req.waIds.map((wa): BroadcastRecipientDoc => {
      const reason = skipReasonOf(optOuts.get(wa), marketing);
      return {
        _id: recipientIdOf(b._id, wa),
        broadcast_id: b._id,
        waba_id: b.waba_id,
        wa_id: wa,
        user_id: null,
        wamid: null,
        status: reason ? 'skipped' : 'pending',
        template_category: b.template.category,
        skip_reason: reason,
        skipped_at: reason ? now : null,
        attempt_at: null,
      };
    }),
  );
  for (let after: string | null = null; ;) {
    const ids: string[] = await deps.broadcasts.pendingIds(b._id, after, 500);
    if (ids.length === 0) break;
    await deps.queueSends(ids.map((recipient_id) => ({ broadcast_id: b._id, recipient_id })));
    after = ids.at(-1)!;
  }
  return b;
}
