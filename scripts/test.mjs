#!/usr/bin/env node
// Builds every workspace, then runs the compiled tests on each leg of the
// librdkafka matrix (TRIBUTARY_LIBRDKAFKA): the whole suite on the first leg,
// the integration tests (dist/test/integration/) again on the others, since
// only they talk to the mock cluster. Ends with one "tests: N passed, N failed"
// line summed over the legs, and a non-zero exit if anything failed.
//
//   npm test                      both legs
//   npm test -- cluster           only test files whose path contains "cluster"
//   TRIBUTARY_LIBRDKAFKA_MATRIX=2.0.2 npm test
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const legs = (process.env.TRIBUTARY_LIBRDKAFKA_MATRIX ?? '2.12,2.0.2').split(',').filter(Boolean);
const filters = process.argv.slice(2);

// Which Node runs the tests (a `node` binary in node_modules/.bin would shadow the system's inside npm scripts).
console.log(`tests run on node ${process.version} (${process.execPath})`);

const build = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
});
if (build.status !== 0) {
  console.error('build failed');
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const packages = workspaces.flatMap((pattern) => {
  if (!pattern.endsWith('/*')) return [join(root, pattern)];
  const parent = join(root, pattern.slice(0, -2));
  return readdirSync(parent).map((name) => join(parent, name));
});
const all = packages
  .flatMap((pkg) => testFiles(join(pkg, 'dist', 'test')))
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort();
const integration = all.filter((f) => f.includes(`${join('dist', 'test', 'integration')}`));

const total = { passed: 0, failed: 0, skipped: 0 };
const scratch = mkdtempSync(join(tmpdir(), 'tributary-test-'));
legs.forEach((leg, i) => {
  const files = i === 0 ? all : integration;
  if (files.length === 0) return;
  console.log(`\n=== librdkafka ${leg}: ${files.length} test file(s) ===\n`);
  const countsFile = join(scratch, `counts-${i}.json`);
  const run = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-timeout=180000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'scripts', 'count-reporter.mjs')}`,
      `--test-reporter-destination=${countsFile}`,
      ...files,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, TRIBUTARY_LIBRDKAFKA: leg } },
  );
  const counts = existsSync(countsFile)
    ? JSON.parse(readFileSync(countsFile, 'utf8'))
    : { passed: 0, failed: 0, skipped: 0 };
  // A failure outside any test (a hook, a crashed file) still fails the leg.
  if (run.status !== 0 && counts.failed === 0) counts.failed = 1;
  console.log(
    `librdkafka ${leg}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  );
  for (const k of Object.keys(total)) total[k] += counts[k];
});
rmSync(scratch, { recursive: true, force: true });

if (all.length === 0) {
  console.error('no test files found: did the build produce dist/test?');
  total.failed++;
}
console.log(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed === 0 ? 0 : 1);
