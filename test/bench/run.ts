// `npm run bench [-- name-filter]`: runs every test/bench/*.bench.ts, prints one JSON object per
// metric line ({"metric","value","unit"}), then a human-readable table. Figures are measurements
// on the machine it runs on, never pass/fail assertions.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, Metric } from './metric.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filter === undefined || f.includes(filter))
  .sort();

const rows: Array<Metric & { bench: string }> = [];
for (const file of files) {
  const bench = (await import(pathToFileURL(path.join(dir, file)).href)).default as Benchmark;
  console.error(`# ${bench.name} (${file}); reproduce: ${bench.reproduce}`);
  for (const m of await bench.run()) {
    console.log(JSON.stringify({ metric: m.metric, value: m.value, unit: m.unit }));
    rows.push({ ...m, bench: bench.name });
  }
}

const width = Math.max(6, ...rows.map((r) => r.metric.length));
console.log(`\n${'metric'.padEnd(width)}  ${'value'.padStart(12)}  unit`);
for (const r of rows) {
  const value = Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(3);
  console.log(`${r.metric.padEnd(width)}  ${value.padStart(12)}  ${r.unit}`);
}
console.log(
  `\n${rows.length} metrics from ${files.length} benchmark files on ${process.platform}/${process.arch}, Node ${process.version}`,
);
