// Prints the gzipped size of the built widget and fails past the budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const WIDGET_BUDGET = 40 * 1024;

export function widgetSize(path = fileURLToPath(new URL('../dist/widget.js', import.meta.url))) {
  const raw = readFileSync(path);
  return { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { raw, gzip } = widgetSize();
  console.log(`widget.js: ${(raw / 1024).toFixed(1)} kB, ${(gzip / 1024).toFixed(1)} kB gzip (budget ${WIDGET_BUDGET / 1024} kB)`);
  if (gzip > WIDGET_BUDGET) {
    console.error('widget.js is over its size budget');
    process.exit(1);
  }
}
