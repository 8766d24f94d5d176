// Shared by the generators: write the file, or with --check fail when the committed copy differs.
import { readFileSync, writeFileSync } from 'node:fs';

export function writeGenerated(path: string, label: string, text: string): void {
  if (!process.argv.includes('--check')) {
    writeFileSync(path, text);
    return;
  }
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    /* a missing file counts as stale */
  }
  if (current !== text) {
    process.stderr.write(`${label} is stale: run \`make gen\` and commit the result\n`);
    process.exit(1);
  }
}
