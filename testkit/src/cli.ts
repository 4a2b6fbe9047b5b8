#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClusterOptions, MockCluster, TopicSpec } from './cluster.js';
import { type LibrdkafkaVersion, librdkafkaFromEnv, startCluster } from './index.js';

const usage = `Usage: tributary-cluster [--brokers N] [--topic name[:partitions[:replication]]]... [--librdkafka 2.12|2.0.2]

Starts a librdkafka mock cluster on loopback, prints its bootstrap servers and
stays up until Ctrl-C (or SIGTERM). Point your producer, kcat or your own tests at it.`;

/** Parses `name[:partitions[:replication]]`, the `--topic` argument. */
export function parseTopic(spec: string): TopicSpec {
  const [name = '', partitions, replicationFactor] = spec.split(':');
  const topic: TopicSpec = { name };
  if (partitions !== undefined) topic.partitions = Number(partitions);
  if (replicationFactor !== undefined) topic.replicationFactor = Number(replicationFactor);
  return topic;
}

/**
 * Starts a cluster, prints its librdkafka version and (on its own line, on
 * stdout) its bootstrap servers, and keeps the process alive until SIGINT or
 * SIGTERM, which stop the cluster. Also used by the `tributary cluster` command.
 */
export async function serveCluster(options: ClusterOptions): Promise<MockCluster> {
  const cluster = await startCluster(options);
  console.log(`librdkafka ${cluster.librdkafkaVersion} mock cluster, ${cluster.brokers.length} broker(s)`);
  console.log(cluster.bootstrapServers);
  // Keep the process alive until a signal; the cluster itself does not.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const shutdown = async () => {
    clearInterval(keepAlive);
    await cluster.stop();
    console.error('mock cluster stopped');
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return cluster;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string', default: '3' },
      topic: { type: 'string', multiple: true, default: [] },
      librdkafka: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const librdkafka = (values.librdkafka as LibrdkafkaVersion | undefined) ?? librdkafkaFromEnv();
  await serveCluster({
    brokers: Number(values.brokers),
    topics: values.topic.map(parseTopic),
    librdkafka,
  });
}

// Run only as the bin, not when imported (the tributary CLI imports serveCluster).
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  try {
    return entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (isEntryPoint()) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
