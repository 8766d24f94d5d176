// Runs the fake Graph API (harness/fake-graph.ts) for trying the sending side by hand, beside `make run`:
//   node scripts/fake-graph.ts [--port 18090] [--waba ID --phone ID]...
// then start EchoCue with META_APP_ID=4455667788 META_GRAPH_URL=http://127.0.0.1:18090. It prints one Embedded
// Signup code per --waba/--phone pair, and posts signed status webhooks for every message sent to
// http://127.0.0.1:8080/v1/whatsapp/webhook (under the local default app secret, the fixtures' one).
import { parseArgs } from 'node:util';
import { startFakeGraph } from '../harness/fake-graph.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '18090' },
    waba: { type: 'string', multiple: true, default: ['104719385562013'] },
    phone: { type: 'string', multiple: true, default: ['112356789045671'] },
    webhook: { type: 'string', default: 'http://127.0.0.1:8080/v1/whatsapp/webhook' },
  },
});
const appId = process.env['META_APP_ID'] ?? '4455667788';
const appSecret = (process.env['META_APP_SECRET'] ?? 'echocue-fixture-app-secret').split(',')[0]!;
const graph = await startFakeGraph({ appId, appSecret, webhookUrl: values.webhook, port: Number(values.port) });
console.log(`fake Graph API on ${graph.url} (app ${appId}); statuses go to ${values.webhook}`);
values.waba.forEach((waba, i) => {
  const phone = values.phone[i] ?? values.phone[0]!;
  const b = graph.addBusiness(waba, [{ id: phone, display: `1555${phone.slice(-7)}` }]);
  console.log(`signup: {"code":"${b.code}","waba_id":"${waba}","phone_number_id":"${phone}"}`);
});
process.on('SIGINT', () => void graph.close().then(() => process.exit(0)));
