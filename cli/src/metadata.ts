import { parseArgs } from 'node:util';
import { ErrorCode, errorCodeInfo, type MetadataResponse, validateTopicName } from '@tributary/core';
import { fetchMetadata } from './cluster-metadata.js';
import { ExitCode, messageOf, unavailableError, usageError } from './errors.js';
import { bootstrapFlag, intFlag, parsingArgs } from './options.js';

export const metadataUsage = `Usage: tributary metadata --bootstrap HOST:PORT[,HOST:PORT] [--topic TOPIC]... [--json] [--timeout-ms N]

Prints the cluster's brokers (id, host:port, rack) and, for every topic or the
ones named, each partition's leader, replicas and in-sync replicas. Asking
about a topic never creates it.

  --topic TOPIC      only this topic (repeatable); default: every topic
  --json             one JSON document instead of the table
  --timeout-ms N     how long to try the brokers; default 30000
  -h, --help

Exit codes: 0 printed; 2 bad flag; 3 brokers unreachable within --timeout-ms,
or a topic named with --topic does not exist (the rest is still printed).`;

const OPTIONS = {
  bootstrap: { type: 'string', multiple: true },
  topic: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The cluster as `tributary metadata --json` prints it. */
export interface MetadataView {
  clusterId: string | null;
  controllerId: number;
  brokers: Array<{ id: number; host: string; port: number; rack: string | null }>;
  topics: Array<{
    name: string;
    /** The topic's error code name, when it has one (e.g. UNKNOWN_TOPIC_OR_PARTITION). */
    error?: string;
    partitions: Array<{
      partition: number;
      leader: number;
      replicas: number[];
      isr: number[];
      error?: string;
    }>;
  }>;
}

/** `tributary metadata`: returns the exit code. */
export async function metadataCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parsingArgs('metadata', () =>
    parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true }),
  );
  if (values.help) {
    console.log(metadataUsage);
    return ExitCode.Ok;
  }
  if (positionals.length > 0) throw usageError(`metadata: unexpected argument ${positionals[0]}`);
  const bootstrapServers = bootstrapFlag(values.bootstrap);
  const topics = values.topic ?? [];
  for (const t of topics) {
    try {
      validateTopicName(t);
    } catch (err) {
      throw usageError(`--topic: ${messageOf(err)}`, err);
    }
  }
  const timeoutMs = intFlag('timeout-ms', values['timeout-ms'], 1, 2 ** 31 - 1) ?? 30_000;
  const response = await fetchMetadata({
    bootstrapServers,
    topics: topics.length === 0 ? null : topics,
    timeoutMs,
    allowAutoTopicCreation: false,
  });
  const view = toView(response);
  console.log(values.json ? JSON.stringify(view, null, 2) : format(view));
  const missing = view.topics.filter((t) => t.error !== undefined);
  if (topics.length > 0 && missing.length > 0) {
    const first = missing[0] as MetadataView['topics'][number];
    throw unavailableError(`topic ${first.name}: ${first.error}`);
  }
  return ExitCode.Ok;
}

function toView(r: MetadataResponse): MetadataView {
  const brokers = r.brokers
    .map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
    .sort((a, b) => a.id - b.id);
  const topics = r.topics
    .filter((t) => t.name !== null)
    .map((t) => {
      const topic: MetadataView['topics'][number] = {
        name: t.name as string,
        partitions: t.partitions
          .map((p) => {
            const part: MetadataView['topics'][number]['partitions'][number] = {
              partition: p.partitionIndex,
              leader: p.leaderId,
              replicas: [...p.replicaNodes],
              isr: [...p.isrNodes],
            };
            if (p.errorCode !== ErrorCode.NONE) part.error = errorCodeInfo(p.errorCode).name;
            return part;
          })
          .sort((a, b) => a.partition - b.partition),
      };
      if (t.errorCode !== ErrorCode.NONE) topic.error = errorCodeInfo(t.errorCode).name;
      return topic;
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { clusterId: r.clusterId, controllerId: r.controllerId, brokers, topics };
}

function format(v: MetadataView): string {
  const lines: string[] = [];
  lines.push(`cluster ${v.clusterId ?? '(no id)'}, controller ${v.controllerId}`);
  lines.push(`${v.brokers.length} broker(s):`);
  for (const b of v.brokers) lines.push(`  broker ${b.id}  ${b.host}:${b.port}  rack ${b.rack ?? '-'}`);
  lines.push(`${v.topics.length} topic(s):`);
  for (const t of v.topics) {
    if (t.error !== undefined) {
      lines.push(`  topic ${t.name}  error ${t.error}`);
      continue;
    }
    lines.push(`  topic ${t.name}  ${t.partitions.length} partition(s)`);
    for (const p of t.partitions) {
      const error = p.error === undefined ? '' : `  error ${p.error}`;
      lines.push(
        `    partition ${p.partition}  leader ${p.leader}  replicas [${p.replicas.join(',')}]  isr [${p.isr.join(',')}]${error}`,
      );
    }
  }
  return lines.join('\n');
}
