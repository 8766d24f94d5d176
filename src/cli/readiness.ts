// GET /readyz: whether this process can do its work now. Each dependency check runs with a short deadline; the
// answer is kept for a moment so probes under load cost the store nothing. Recovers by itself: the next check
// after the dependency answers again says ready.
export type ReadinessReport = { ready: boolean; checks: Record<string, { ok: boolean; detail?: string; error?: string }> };

/** A dependency or part of the process: resolves when it works (optionally saying how), rejects naming what is wrong. */
export type ReadinessCheck = () => Promise<string | void>;

export function createReadiness(checks: Readonly<Record<string, ReadinessCheck>>, opts: { deadlineMs?: number; cacheMs?: number } = {}) {
  const deadlineMs = opts.deadlineMs ?? 2000;
  const cacheMs = opts.cacheMs ?? 1000;
  let last: { at: number; report: Promise<ReadinessReport> } | null = null;

  async function one(check: ReadinessCheck): Promise<{ ok: boolean; detail?: string; error?: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const detail = await Promise.race([
        check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
        }),
      ]);
      return detail ? { ok: true, detail } : { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(): Promise<ReadinessReport> {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => one(checks[n]!)));
    const report: ReadinessReport = { ready: results.every((r) => r.ok), checks: {} };
    names.forEach((n, i) => (report.checks[n] = results[i]!));
    return report;
  }

  return {
    check(): Promise<ReadinessReport> {
      const now = Date.now();
      if (!last || now - last.at >= cacheMs) last = { at: now, report: run() };
      return last.report;
    },
  };
}
