// Which account owns each WABA, for ingest: loaded at start and refreshed in the background, so the
// webhook hot path never waits on the store.
import { type Logger } from '../core/log.ts';

export async function startOwnerCache(load: () => Promise<Map<string, string>>, refreshMs: number, log: Logger) {
  let owners = await load();
  const timer = setInterval(() => {
    load().then(
      (m) => {
        owners = m;
      },
      (err: unknown) => log.warn({ err }, 'could not refresh WABA owners; keeping the previous list'),
    );
  }, refreshMs);
  timer.unref();
  return {
    get: (wabaId: string): string | null => owners.get(wabaId) ?? null,
    stop: () => clearInterval(timer),
  };
}
