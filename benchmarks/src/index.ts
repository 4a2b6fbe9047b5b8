/**
 * `npm run bench`: the quick set of micro-benchmarks (hot paths), each in its
 * own process so one's JIT state does not colour another's. The side-by-side
 * comparison with the peers is `npm run bench:full` (compare/index.ts).
 * Benchmarks never run as tests and never fail on timing.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const micro = ['crc32c', 'compression', 'record-batch', 'murmur2', 'varint', 'produce'];
const endToEnd = ['streams-cost', 'idempotence-cost'];
let failed = 0;
for (const name of micro) {
  const script = fileURLToPath(new URL(`./micro/${name}.js`, import.meta.url));
  console.log(`\n=== ${name} ===`);
  const run = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
for (const name of endToEnd) {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  console.log(`\n=== ${name} ===`);
  const run = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
