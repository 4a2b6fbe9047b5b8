import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { librdkafkaFromEnv, type MockCluster, startCluster } from '@tributary/testkit';
import { createProducer } from '../../src/index.js';

// After close(), a producer leaves nothing behind: no sockets, no timers, no
// listeners; and creating, using and closing producers over and over keeps
// the heap flat.

const resources = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'FSReqCallback')
    .sort();

describe(`producer resource hygiene (librdkafka ${librdkafkaFromEnv()})`, () => {
  let cluster: MockCluster;
  before(async () => {
    cluster = await startCluster({ brokers: 3, topics: [{ name: 'leaks', partitions: 3 }] });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('leaves no socket, timer or listener after close()', async () => {
    const before = resources();
    const p = await createProducer({ bootstrapServers: cluster.bootstrapServers, lingerMs: 5 });
    const subscription = p.records$.subscribe();
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) => p.send({ topic: 'leaks', key: `k${i % 10}`, value: 'x' })),
    );
    assert.ok(resources().length > before.length, 'the producer held sockets while open');
    await p.close();
    subscription.unsubscribe();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(resources(), before);
  });

  it('keeps the heap flat over 100 create/produce/close cycles', { timeout: 120_000 }, async () => {
    const cycle = async () => {
      const p = await createProducer({ bootstrapServers: cluster.bootstrapServers, lingerMs: 1 });
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          p.send({ topic: 'leaks', partition: i % 3, value: 'y'.repeat(100) }),
        ),
      );
      await p.close();
    };
    // A forced collection before each reading, so what remains is what is still referenced.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 10; i++) await cycle(); // warm-up
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const start = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) await cycle();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const grown = process.memoryUsage().heapUsed - start;
    // A producer left behind per cycle (its buffers, maps, sockets) would be
    // several megabytes over 100 cycles.
    assert.ok(grown < 4 * 1024 * 1024, `heap grew ${(grown / 1024 / 1024).toFixed(1)} MiB over 100 cycles`);
    assert.deepEqual(
      resources().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWRAP'),
      [],
    );
  });
});
