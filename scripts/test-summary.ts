// Prints vitest's totals as the plain closing line CI reads ("N passed, N failed, N skipped").
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.cache/test-results.json';
try {
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  process.stdout.write(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped\n`);
} catch {
  process.stdout.write('tests: no results (the run did not finish)\n');
}
