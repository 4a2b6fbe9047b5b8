import { parseArgs } from 'node:util';
import { validateTopicName } from '@tributary/core';
import { LibrdkafkaVersion, librdkafkaFromEnv, type TopicSpec } from '@tributary/testkit';
import { parseTopic, serveCluster } from '@tributary/testkit/cli';
import { ExitCode, messageOf, unavailableError, usageError } from './errors.js';
import { choiceFlag, intFlag, parsingArgs } from './options.js';

export const clusterUsage = `Usage: tributary cluster [--brokers N] [--topics a,b] [--partitions N] [--topic name[:partitions[:replication]]]... [--librdkafka 2.12|2.0.2]

Starts the embedded test cluster (librdkafka's mock cluster, from
@tributary/testkit) on loopback, prints its bootstrap servers on stdout and
runs until SIGINT (Ctrl-C) or SIGTERM, which stop it and exit 0. For
development and tests, not production: it keeps everything in memory.

  --brokers N         brokers, default 3
  --topics a,b        topics to create, each with --partitions partitions
  --partitions N      default 1
  --topic SPEC        a topic with its own partitions and replication factor (repeatable)
  --librdkafka V      which librdkafka build runs it (default: TRIBUTARY_LIBRDKAFKA, else 2.12)
  -h, --help`;

const OPTIONS = {
  brokers: { type: 'string' },
  topics: { type: 'string', multiple: true },
  partitions: { type: 'string' },
  topic: { type: 'string', multiple: true },
  librdkafka: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `tributary cluster`: the testkit's `tributary-cluster` with this CLI's
 * flags. Resolves with undefined once the cluster is up: the process then
 * lives until a signal stops the cluster.
 */
export async function clusterCommand(args: readonly string[]): Promise<number | undefined> {
  const { values, positionals } = parsingArgs('cluster', () =>
    parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true }),
  );
  if (values.help) {
    console.log(clusterUsage);
    return ExitCode.Ok;
  }
  if (positionals.length > 0) throw usageError(`cluster: unexpected argument ${positionals[0]}`);
  const brokers = intFlag('brokers', values.brokers, 1, 64) ?? 3;
  const partitions = intFlag('partitions', values.partitions, 1, 100_000) ?? 1;
  const topics: TopicSpec[] = (values.topics ?? [])
    .flatMap((s) => s.split(','))
    .filter((name) => name !== '')
    .map((name) => ({ name, partitions }));
  for (const spec of values.topic ?? []) {
    const t = parseTopic(spec);
    if (
      (t.partitions !== undefined && !Number.isInteger(t.partitions)) ||
      (t.replicationFactor !== undefined && !Number.isInteger(t.replicationFactor))
    ) {
      throw usageError(`--topic ${spec}: expected name[:partitions[:replication]]`);
    }
    topics.push(t);
  }
  const librdkafka =
    choiceFlag('librdkafka', values.librdkafka, Object.values(LibrdkafkaVersion)) ?? librdkafkaFromEnv();
  for (const t of topics) {
    try {
      validateTopicName(t.name);
    } catch (err) {
      throw usageError(`cluster: ${messageOf(err)}`, err);
    }
  }
  try {
    await serveCluster({ brokers, topics, librdkafka });
  } catch (err) {
    throw unavailableError(`cluster: ${messageOf(err)}`, err);
  }
  return undefined;
}
