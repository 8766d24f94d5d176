// Runs the writes of one key one after another within this process. FerretDB v1 applies an update by reading the
// document, changing it in Go and writing it back, with no lock in between (../shared/docs/local-stack.md §5), so
// two concurrent $inc on one document can lose one; MongoDB's are atomic. Counters written by one process only
// (one document per process and key) and serialised here are exact on both.
export function createSerial() {
  const tails = new Map<string, Promise<unknown>>();
  return function serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
