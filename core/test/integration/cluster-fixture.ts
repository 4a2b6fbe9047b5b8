import { after, before } from 'node:test';
import { type ClusterOptions, type MockCluster, startCluster } from '@tributary/testkit';
import {
  createProducer,
  type KafkaProducer,
  type ProducerConfigInput,
  type Transport,
  type TransportFactory,
} from '../../src/index.js';

/**
 * One test cluster for a describe block: started before its tests, stopped
 * after them, with every producer made through `producer()` closed first.
 * `topic(n)` creates a fresh topic of n partitions named `<prefix><seq>`.
 */
export function useCluster(prefix: string, options: ClusterOptions = { brokers: 3 }) {
  let cluster: MockCluster | undefined;
  const open: KafkaProducer<unknown, unknown>[] = [];
  let seq = 0;
  before(async () => {
    cluster = await startCluster(options);
  });
  after(async () => {
    for (const p of open) await p.close({ timeoutMs: 0 });
    await cluster?.stop();
  });
  const started = (): MockCluster => {
    if (cluster === undefined) throw new Error('the test cluster is not started yet');
    return cluster;
  };
  return {
    get cluster(): MockCluster {
      return started();
    },
    /** A producer on this cluster (closed after the block). */
    async producer<K = unknown, V = unknown>(
      overrides: Partial<ProducerConfigInput> = {},
      createOptions: Parameters<typeof createProducer>[1] = {},
    ): Promise<KafkaProducer<K, V>> {
      const p = await createProducer<K, V>(
        { bootstrapServers: started().bootstrapServers, ...overrides },
        createOptions,
      );
      open.push(p as KafkaProducer<unknown, unknown>);
      return p;
    },
    async topic(partitions: number): Promise<string> {
      const name = `${prefix}${++seq}`;
      await started().createTopic(name, partitions, 1);
      return name;
    },
  };
}

/** The Node adapter's TCP transport, loaded by name at run time (the adapter depends on core). */
export async function nodeTcpTransport(): Promise<TransportFactory> {
  const specifier = '@tributary/adapter-node';
  return ((await import(specifier)) as { createTcpTransport: TransportFactory }).createTcpTransport;
}

/** A transport factory that shows `observe` every buffer written through `inner`'s transports, unchanged. */
export function tapWrites(inner: TransportFactory, observe: (data: Buffer) => void): TransportFactory {
  return (options, handler) => {
    const transport = inner(options, handler);
    const tapped: Transport = {
      write: (data: Buffer) => {
        observe(data);
        return transport.write(data);
      },
      destroy: (error?: Error) => transport.destroy(error),
    };
    return tapped;
  };
}
