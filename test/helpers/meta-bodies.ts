// Meta webhook bodies the sending-side tests post to ingest (signed by the caller): a user's text, a template's
// review event, and Meta's marketing opt-out (user_preferences).
import { messagesValue, webhookBody } from '../../harness/load/bodies.ts';

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export const textBody = (m: { waba: string; phone: string; from: string; wamid: string; seconds: number; text: string; name?: string }) =>
  webhookBody(m.waba, [
    messagesValue(m.phone, {
      contacts: [{ wa_id: m.from, profile: { name: m.name ?? `User ${m.from.slice(-4)}` } }],
      messages: [{ from: m.from, id: m.wamid, timestamp: String(m.seconds), type: 'text', text: { body: m.text } }],
    }),
  ]);

export const templateStatusBody = (waba: string, t: { event: string; id: number; name: string; category: string }) =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: waba,
        time: nowSeconds(),
        changes: [
          {
            field: 'message_template_status_update',
            value: {
              event: t.event,
              message_template_id: t.id,
              message_template_name: t.name,
              message_template_language: 'en_US',
              reason: 'NONE',
              message_template_category: t.category,
            },
          },
        ],
      },
    ],
  });

export const marketingStopBody = (waba: string, phone: string, waId: string) =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: waba,
        changes: [
          {
            field: 'user_preferences',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: `1555${phone.slice(-7)}`, phone_number_id: phone },
              contacts: [{ profile: { name: 'Someone' }, wa_id: waId }],
              user_preferences: [
                {
                  wa_id: waId,
                  detail: 'User requested to stop marketing messages',
                  category: 'marketing_messages',
                  value: 'stop',
                  timestamp: nowSeconds() - 60,
                },
              ],
            },
          },
        ],
      },
    ],
  });
