// Progress of long CLI work on stderr (issue 17: "a progress bar with rate and ETA"): a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise (CI logs, pipes). cli-progress: docs/decisions/0018-replay.md.
import { type WriteStream } from 'node:tty';
import cliProgress from 'cli-progress';

/** One phase of work with a known total. */
export type Progress = {
  start(label: string, total: number): void;
  increment(n?: number): void;
  stop(): void;
};

export const NO_PROGRESS: Progress = { start() {}, increment() {}, stop() {} };

/** A progress bar on `stream` (process.stderr): in place on a TTY, else a line every `plainEveryMs` (default 2 s). */
export function createProgress(stream: NodeJS.WriteStream | WriteStream, plainEveryMs = 2000): Progress {
  let bar: cliProgress.SingleBar | null = null;
  let startedAt = 0;
  let done = 0;
  const rate = () => {
    const s = (Date.now() - startedAt) / 1000;
    return s > 0 ? Math.round(done / s) : 0;
  };
  return {
    start(label, total) {
      startedAt = Date.now();
      done = 0;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
          noTTYOutput: true,
          notTTYSchedule: plainEveryMs,
          etaBuffer: 50,
          hideCursor: true,
        },
        cliProgress.Presets.legacy,
      );
      bar.start(total, 0, { rate: 0 });
    },
    increment(n = 1) {
      done += n;
      bar?.increment(n, { rate: rate() });
    },
    stop() {
      bar?.update(done, { rate: rate() });
      bar?.stop();
      bar = null;
    },
  };
}
