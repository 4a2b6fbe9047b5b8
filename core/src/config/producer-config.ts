import { ConfigError } from '../errors.js';
import { type ConfigDefs, resolveConfig } from './config.js';
import { type NetworkConfig, networkConfigDefs } from './network-config.js';

/** The producer's own keys (the network client's are shared): Kafka 4.x Java names in camelCase, Java defaults. */
export const producerConfigDefs = {
  acks: {
    javaName: 'acks',
    type: 'enum',
    values: ['all', '-1', '0', '1'],
    default: 'all',
    doc: 'Acknowledgements the leader must collect before answering: all (-1) waits for the in-sync replicas, 1 for the leader only, 0 for none (no response, offsets unknown). Numbers are accepted too.',
  },
  lingerMs: {
    javaName: 'linger.ms',
    type: 'long',
    default: 5,
    min: 0,
    doc: 'How long a batch waits for more records before it is sent, unless it fills first.',
  },
  batchSize: {
    javaName: 'batch.size',
    type: 'int',
    default: 16_384,
    min: 0,
    doc: 'Target size of a batch in bytes, and the size of the buffer-pool buffers. A record larger than this gets a batch of its own.',
  },
  bufferMemory: {
    javaName: 'buffer.memory',
    type: 'long',
    default: 33_554_432,
    min: 0,
    doc: 'Memory for batches waiting to be sent. When it is exhausted, send() waits up to maxBlockMs, then fails with BufferExhaustedError.',
  },
  maxBlockMs: {
    javaName: 'max.block.ms',
    type: 'long',
    default: 60_000,
    min: 0,
    doc: 'How long send() may wait for metadata and for buffer memory, in all.',
  },
  maxRequestSize: {
    javaName: 'max.request.size',
    type: 'int',
    default: 1_048_576,
    min: 0,
    doc: 'Largest Produce request, and so the largest record; a larger record fails with RecordTooLargeError.',
  },
  deliveryTimeoutMs: {
    javaName: 'delivery.timeout.ms',
    type: 'int',
    default: 120_000,
    min: 0,
    doc: 'Upper bound on the time from send() to success or failure, retries included; must be at least lingerMs + requestTimeoutMs.',
  },
  retries: {
    javaName: 'retries',
    type: 'int',
    default: 2_147_483_647,
    min: 0,
    doc: 'How often a batch is retried after a retriable error; deliveryTimeoutMs usually ends retrying first.',
  },
  compressionType: {
    javaName: 'compression.type',
    type: 'enum',
    values: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
    default: 'none',
    doc: 'Codec for record batches.',
  },
  partitionerIgnoreKeys: {
    javaName: 'partitioner.ignore.keys',
    type: 'boolean',
    default: false,
    doc: 'Place keyed records like unkeyed ones (sticky) instead of by key hash.',
  },
  partitionerAdaptivePartitioningEnable: {
    javaName: 'partitioner.adaptive.partitioning.enable',
    type: 'boolean',
    default: true,
    doc: 'The sticky partitioner favours partitions with shorter queues (KIP-794).',
  },
  partitionerAvailabilityTimeoutMs: {
    javaName: 'partitioner.availability.timeout.ms',
    type: 'long',
    default: 0,
    min: 0,
    doc: 'With adaptive partitioning, skip partitions whose leader could not be sent to for this long (0: never skip).',
  },
  allowAutoCreateTopics: {
    javaName: 'allow.auto.create.topics',
    type: 'boolean',
    default: true,
    doc: "Let brokers create a topic on the producer's first metadata request for it (when the broker allows it).",
  },
  transactionalId: {
    javaName: 'transactional.id',
    type: 'string',
    default: null,
    doc: 'Makes the producer transactional (implies idempotence): call initTransactions() once, then send inside beginTransaction() / commitTransaction() or abortTransaction(). A second producer with the same id fences this one.',
  },
  transactionTimeoutMs: {
    javaName: 'transaction.timeout.ms',
    type: 'int',
    default: 60_000,
    min: 1,
    doc: 'How long the coordinator lets a transaction stay open before aborting it.',
  },
  enableIdempotence: {
    javaName: 'enable.idempotence',
    type: 'boolean',
    default: true,
    doc: 'Exactly-once writes per partition: a producer id and per-partition sequence numbers let the broker drop duplicates from retries. Needs acks=all, retries > 0 and at most 5 requests in flight; when left at its default, a conflicting setting turns it off (as in Java), when set true explicitly a conflict is a ConfigError.',
  },
  metricsSampleWindowMs: {
    javaName: 'metrics.sample.window.ms',
    type: 'long',
    default: 30_000,
    min: 1,
    doc: 'Length of one sample of the windowed metrics (rates, averages, maxima) that metrics() reports.',
  },
  metricsNumSamples: {
    javaName: 'metrics.num.samples',
    type: 'int',
    default: 2,
    min: 1,
    doc: 'How many samples the windowed metrics keep; the window is metricsNumSamples x metricsSampleWindowMs.',
  },
} as const satisfies ConfigDefs;

export const allProducerConfigDefs: ConfigDefs = { ...networkConfigDefs, ...producerConfigDefs };

export interface ProducerConfig extends NetworkConfig {
  acks: 'all' | '-1' | '0' | '1';
  lingerMs: number;
  batchSize: number;
  bufferMemory: number;
  maxBlockMs: number;
  maxRequestSize: number;
  deliveryTimeoutMs: number;
  retries: number;
  compressionType: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  partitionerIgnoreKeys: boolean;
  partitionerAdaptivePartitioningEnable: boolean;
  partitionerAvailabilityTimeoutMs: number;
  allowAutoCreateTopics: boolean;
  transactionalId: string | null;
  transactionTimeoutMs: number;
  enableIdempotence: boolean;
  metricsSampleWindowMs: number;
  metricsNumSamples: number;
}

export type ProducerConfigInput = Omit<Partial<ProducerConfig>, 'bootstrapServers' | 'acks'> & {
  bootstrapServers: readonly string[] | string;
  acks?: 'all' | -1 | 0 | 1 | '-1' | '0' | '1';
};

/** Validates a producer config once (each error names its key) and returns it frozen. */
export function resolveProducerConfig(input: ProducerConfigInput): Readonly<ProducerConfig> {
  const raw: Record<string, unknown> = { ...input };
  if (typeof raw['acks'] === 'number') raw['acks'] = String(raw['acks']);
  const config = resolveConfig<ProducerConfig>(allProducerConfigDefs, raw);
  if (config.deliveryTimeoutMs < config.lingerMs + config.requestTimeoutMs) {
    throw new ConfigError(
      'deliveryTimeoutMs',
      `must be at least lingerMs + requestTimeoutMs (${config.lingerMs} + ${config.requestTimeoutMs}), got ${config.deliveryTimeoutMs}`,
    );
  }
  if (config.transactionalId !== null && !config.enableIdempotence) {
    throw new ConfigError(
      'transactionalId',
      'a transactional producer is idempotent; enableIdempotence cannot be false',
    );
  }
  if (config.enableIdempotence) {
    const conflicts = [
      config.acks !== 'all' && config.acks !== '-1' ? `acks must be all (is ${config.acks})` : '',
      config.retries === 0 ? 'retries must be > 0' : '',
      config.maxInFlightRequestsPerConnection > 5
        ? `maxInFlightRequestsPerConnection must be at most 5 (is ${config.maxInFlightRequestsPerConnection})`
        : '',
    ].filter(Boolean);
    if (conflicts.length > 0) {
      if (input.enableIdempotence === true)
        throw new ConfigError('enableIdempotence', `requires ${conflicts.join('; ')}`);
      // Left at its default: the conflicting setting wins and idempotence is off (the Java client's rule).
      return Object.freeze({
        ...config,
        enableIdempotence: false,
        acks: config.acks === '-1' ? 'all' : config.acks,
      });
    }
  }
  if (config.acks === '-1') return Object.freeze({ ...config, acks: 'all' });
  return config;
}

/** acks as the Produce request's int16. */
export function acksValue(acks: ProducerConfig['acks']): number {
  return acks === 'all' || acks === '-1' ? -1 : Number(acks);
}
