import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestkitError } from './errors.js';

const run = promisify(execFile);

/** The librdkafka builds the testkit can run its mock cluster on. */
export const LibrdkafkaVersion = {
  /** Bundled with node-rdkafka 3.6.x: Produce up to v10, Metadata up to v12, flexible versions. */
  V2_12: '2.12',
  /** Debian's librdkafka-dev: Produce up to v7, Metadata up to v2, the older-broker leg. */
  V2_0_2: '2.0.2',
} as const;
export type LibrdkafkaVersion = (typeof LibrdkafkaVersion)[keyof typeof LibrdkafkaVersion];

/** The environment variable that picks the matrix leg; unset means 2.12. */
export const LIBRDKAFKA_ENV = 'TRIBUTARY_LIBRDKAFKA';

export function librdkafkaFromEnv(env: NodeJS.ProcessEnv = process.env): LibrdkafkaVersion {
  const raw = env[LIBRDKAFKA_ENV];
  if (raw === undefined || raw === '') return LibrdkafkaVersion.V2_12;
  for (const v of Object.values(LibrdkafkaVersion)) if (v === raw) return v;
  throw new TestkitError(
    `${LIBRDKAFKA_ENV}=${raw} is not a known librdkafka build; use one of ${Object.values(LibrdkafkaVersion).join(', ')}`,
  );
}

interface Toolchain {
  includeDir: string;
  /** The file the launcher links against, fingerprinted for the cache key. */
  library: string;
  linkArgs: string[];
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sourcePath = join(packageRoot, 'native', 'mock-cluster.c');
const cacheDir = join(packageRoot, '.cache');

function toolchainFor(version: LibrdkafkaVersion): Toolchain {
  if (version === LibrdkafkaVersion.V2_0_2) {
    const includeDir = '/usr/include/librdkafka';
    if (!existsSync(join(includeDir, 'rdkafka_mock.h'))) {
      throw new TestkitError(
        `librdkafka ${version} needs Debian's librdkafka-dev (${includeDir}/rdkafka_mock.h is missing): apt-get install -y librdkafka-dev`,
      );
    }
    const library = [
      '/usr/lib/x86_64-linux-gnu/librdkafka.so',
      '/usr/lib/aarch64-linux-gnu/librdkafka.so',
    ].find((p) => existsSync(p));
    return { includeDir, library: library ?? includeDir, linkArgs: ['-lrdkafka'] };
  }
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('node-rdkafka/package.json'));
  } catch (cause) {
    throw new TestkitError(
      `librdkafka ${version} comes from the npm package node-rdkafka, which is not installed: run npm ci`,
      {
        cause,
      },
    );
  }
  const includeDir = join(root, 'deps', 'librdkafka', 'src');
  const libDir = join(root, 'build', 'deps');
  const library = join(libDir, 'librdkafka.so.1');
  if (!existsSync(join(includeDir, 'rdkafka_mock.h')) || !existsSync(library)) {
    throw new TestkitError(
      `node-rdkafka is installed but its librdkafka build is missing (${library}); its install script builds it: run npm rebuild node-rdkafka`,
    );
  }
  return { includeDir, library, linkArgs: [`-L${libDir}`, '-l:librdkafka.so.1', `-Wl,-rpath,${libDir}`] };
}

/**
 * Returns the path of the mock-cluster launcher built for `version`, building
 * it with `cc` first when the cached binary is missing or stale. The cache key
 * covers the C source, the headers' location and the library file's size and
 * mtime, so editing the launcher or rebuilding node-rdkafka triggers a rebuild.
 * Concurrent callers (parallel test files) each build to a private temporary
 * name and rename it into place, which is atomic, so nobody runs a half-written
 * binary.
 */
export async function ensureLauncher(version: LibrdkafkaVersion): Promise<string> {
  const tc = toolchainFor(version);
  const source = await readFile(sourcePath);
  const lib = await stat(tc.library);
  const key = createHash('sha256')
    .update(source)
    .update(
      `\0${version}\0${tc.includeDir}\0${tc.library}\0${lib.size}\0${lib.mtimeMs}\0${tc.linkArgs.join(' ')}`,
    )
    .digest('hex')
    .slice(0, 16);
  const binary = join(cacheDir, `mock-cluster-${version}-${key}`);
  if (existsSync(binary)) return binary;

  await mkdir(cacheDir, { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    await run('cc', ['-O2', '-Wall', '-o', tmp, sourcePath, `-I${tc.includeDir}`, ...tc.linkArgs]);
    await rename(tmp, binary);
  } catch (cause) {
    await rm(tmp, { force: true });
    const detail = (cause as { stderr?: string }).stderr ?? String(cause);
    throw new TestkitError(
      `building the mock-cluster launcher for librdkafka ${version} failed:\n${detail}`,
      { cause },
    );
  }
  return binary;
}
