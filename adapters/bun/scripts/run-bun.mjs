#!/usr/bin/env node
// Runs the Bun adapter's real-runtime tests (dist/test/bun/run.js) under Bun.
// The Bun binary comes from the npm package `bun` (a devDependency); its
// postinstall only copies the platform binary from its optional dependency
// (`@oven/bun-linux-x64` here) into place, so this launcher takes the binary
// from that package directly and works whether or not the postinstall ran.
// A `bun` on PATH is the fallback. Exits with Bun's status; a run that
// hangs is killed after TRIBUTARY_BUN_TIMEOUT_MS (default 5 minutes).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const require = createRequire(join(pkg, 'package.json'));

function bunBinary() {
  const platform = `@oven/bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}`;
  for (const name of [platform, `${platform}-baseline`]) {
    try {
      const bin = join(dirname(require.resolve(`${name}/package.json`)), 'bin', 'bun');
      if (existsSync(bin)) return bin;
    } catch {}
  }
  return 'bun';
}

const script = join(pkg, 'dist', 'test', 'bun', 'run.js');
if (!existsSync(script)) {
  console.error(`${script} is missing: build first (npx tsc -b adapters/bun)`);
  console.log('bun: 0 passed, 1 failed');
  process.exit(1);
}
const bin = bunBinary();
const timeoutMs = Number(process.env.TRIBUTARY_BUN_TIMEOUT_MS ?? 300_000);
const started = Date.now();
const child = spawn(bin, [script], { cwd: pkg, stdio: 'inherit' });
const timer = setTimeout(() => {
  console.error(`bun run timed out after ${timeoutMs} ms; killing it`);
  child.kill('SIGKILL');
}, timeoutMs);
child.on('error', (err) => {
  clearTimeout(timer);
  console.error(`cannot start Bun (${bin}): ${err.message}`);
  console.log('bun: 0 passed, 1 failed');
  process.exit(1);
});
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  console.error(`bun run: ${((Date.now() - started) / 1000).toFixed(1)} s wall, exit ${code ?? signal}`);
  process.exit(code === 0 ? 0 : 1);
});
