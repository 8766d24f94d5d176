// The ingest baseline: a bare Koa route on the webhook path that reads the raw body and answers 200, served like
// EchoCue's ingest (node:http server -> Koa -> @koa/router). Run as its own process: `PORT=... node bench/load/bare-koa.ts`.
import { createServer } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';

const router = new Router();
router.post('/v1/whatsapp/webhook', async (ctx) => {
  const raw = await getRawBody(ctx.req, { limit: 3 * 1024 * 1024, length: ctx.get('content-length') || undefined });
  ctx.body = { status: 'accepted', bytes: raw.length };
});
const app = new Koa();
app.use(router.routes());
const handler = app.callback();

const server = createServer((req, res) => {
  if (req.url === '/healthz')
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', pid: process.pid }));
  void handler(req, res);
});
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
