import { randomInt } from 'node:crypto';

/** How the soak writes, and so which rule it can check exactly (see report.ts for the rules). */
export const SoakMode = {
  /** A transactional producer: the mock enforces sequences and drops duplicates, so exactly-once is checked. */
  Transactional: 'transactional',
  /** A plain idempotent producer: the mock does not dedupe it, so duplicates are counted, not failed. */
  Idempotent: 'idempotent',
} as const;
export type SoakMode = (typeof SoakMode)[keyof typeof SoakMode];

export interface SoakOptions {
  mode: SoakMode;
  /** Stop sending after this many records (Infinity: no count limit). */
  records: number;
  /** Stop sending after this many seconds (Infinity: no time limit). */
  seconds: number;
  seed: number;
  /** Mean interval between faults; each one is jittered by +-40%. */
  faultEveryMs: number;
  /** Records per second at most (Infinity: as fast as acks allow). */
  rate: number;
  /** Outstanding send() promises at most (the back-pressure window). */
  window: number;
  /** Transactional mode: commit after this many records or this many ms, whichever comes first. */
  txnRecords: number;
  txnMs: number;
  compression: 'lz4' | 'zstd';
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  partitions: number;
  brokers: number;
  /** The producer's lingerMs. */
  lingerMs: number;
  /** Bytes of padding in each value (on top of the id). */
  valueBytes: number;
  out: string | undefined;
  /** The producer's log (debug level, JSON lines) goes to this file. */
  log: string | undefined;
  json: string | undefined;
  quiet: boolean;
}

const USAGE = `usage: node dist/src/soak/index.js [options]

  --records N            stop after N records (default 100000 unless --seconds is given)
  --seconds S            stop after S seconds (with --records: whichever comes first)
  --rate R               send at most R records/s (default: with --records and --seconds,
                         records/seconds, so the records spread over the time; else unlimited)
  --seed N               the fault schedule's seed (default: random; printed)
  --mode M               transactional (default) or idempotent
  --fault-every-ms MS    mean time between faults (default 3000, jittered +-40%)
  --window N             outstanding sends at most (default 20000)
  --txn-records N        transactional: commit every N records (default 5000)
  --txn-ms MS            transactional: ... or every MS ms (default 1000)
  --compression C        lz4 (default) or zstd
  --request-timeout-ms   the producer's requestTimeoutMs (default 1500); RTT spikes exceed it
  --delivery-timeout-ms  the producer's deliveryTimeoutMs (default 30000)
  --linger-ms MS         the producer's lingerMs (default 20: fewer, larger batches; the mock
                         scans its log linearly on every fetch, so tiny batches make reading slow)
  --value-bytes N        padding per value (default 64)
  --out FILE             also write the Markdown report to FILE
  --json FILE            write the JSON report to FILE (default: FILE of --out with .json)
 --log FILE             the producer's debug log (JSON lines) to FILE
  --quiet                no progress lines
`;

export class UsageError extends Error {}

function num(flag: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n) || n < min)
    throw new UsageError(`${flag} needs a number >= ${min}, got ${raw ?? 'nothing'}`);
  return n;
}

export function parseOptions(argv: readonly string[]): SoakOptions {
  const o: SoakOptions = {
    mode: SoakMode.Transactional,
    records: Number.POSITIVE_INFINITY,
    seconds: Number.POSITIVE_INFINITY,
    seed: randomInt(0, 2 ** 31 - 1),
    faultEveryMs: 3000,
    rate: Number.POSITIVE_INFINITY,
    window: 20_000,
    txnRecords: 5000,
    txnMs: 1000,
    compression: 'lz4',
    requestTimeoutMs: 1500,
    deliveryTimeoutMs: 30_000,
    partitions: 12,
    brokers: 3,
    lingerMs: 20,
    valueBytes: 64,
    out: undefined,
    log: undefined,
    json: undefined,
    quiet: false,
  };
  let gotRecords = false;
  let gotSeconds = false;
  let gotRate = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const next = () => argv[++i];
    switch (flag) {
      case '--records':
        o.records = Math.floor(num(flag, next(), 1));
        gotRecords = true;
        break;
      case '--seconds':
        o.seconds = num(flag, next(), 1);
        gotSeconds = true;
        break;
      case '--seed':
        o.seed = Math.floor(num(flag, next(), 0)) >>> 0;
        break;
      case '--mode': {
        const m = next();
        if (m !== SoakMode.Transactional && m !== SoakMode.Idempotent)
          throw new UsageError(`--mode must be transactional or idempotent, got ${m}`);
        o.mode = m;
        break;
      }
      case '--fault-every-ms':
        o.faultEveryMs = num(flag, next(), 100);
        break;
      case '--rate':
        o.rate = num(flag, next(), 1);
        gotRate = true;
        break;
      case '--window':
        o.window = Math.floor(num(flag, next(), 1));
        break;
      case '--txn-records':
        o.txnRecords = Math.floor(num(flag, next(), 1));
        break;
      case '--txn-ms':
        o.txnMs = num(flag, next(), 1);
        break;
      case '--compression': {
        const c = next();
        if (c !== 'lz4' && c !== 'zstd') throw new UsageError(`--compression must be lz4 or zstd, got ${c}`);
        o.compression = c;
        break;
      }
      case '--request-timeout-ms':
        o.requestTimeoutMs = Math.floor(num(flag, next(), 100));
        break;
      case '--delivery-timeout-ms':
        o.deliveryTimeoutMs = Math.floor(num(flag, next(), 1000));
        break;
      case '--linger-ms':
        o.lingerMs = Math.floor(num(flag, next(), 0));
        break;
      case '--value-bytes':
        o.valueBytes = Math.floor(num(flag, next(), 0));
        break;
      case '--out':
        o.out = next();
        break;
      case '--log':
        o.log = next();
        break;
      case '--json':
        o.json = next();
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown option ${flag}\n\n${USAGE}`);
    }
  }
  if (!gotRecords && !gotSeconds) o.records = 100_000;
  if (gotRecords && gotSeconds && !gotRate) o.rate = o.records / o.seconds;
  if (o.deliveryTimeoutMs < o.requestTimeoutMs + 5)
    throw new UsageError('--delivery-timeout-ms must exceed --request-timeout-ms');
  if (o.json === undefined && o.out !== undefined) o.json = o.out.replace(/(\.md)?$/, '.json');
  return o;
}
