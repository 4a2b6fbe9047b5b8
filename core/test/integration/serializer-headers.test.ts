import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { container } from 'tsyringe';
import { createProducer, type RecordHeader, type Serializer, VALUE_SERIALIZER } from '../../src/index.js';

// A serializer may add headers to the record it serializes (as Java's
// Serializer.serialize(topic, headers, data) may): schema-id headers are the
// common case. What it adds belongs to that record only, whether or not the
// record came with headers of its own. Read back by kcat.

const leg = librdkafkaFromEnv();

/** Adds a `seq` header with a running number to every value it serializes. */
class TaggingSerializer implements Serializer<string> {
  #n = 0;
  serialize(_topic: string, data: string, headers: RecordHeader[]): Uint8Array {
    headers.push({ key: 'seq', value: Buffer.from(String(this.#n++)) });
    return Buffer.from(data);
  }
}

describe(`serializers adding headers (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  before(async () => {
    cluster = await startCluster({ brokers: 1 });
    await cluster.createTopic('tagged', 1, 1);
  });
  after(async () => {
    await cluster?.stop();
  });

  it('gives each record exactly the headers added while serializing it', async () => {
    const c = container.createChildContainer();
    c.registerInstance(VALUE_SERIALIZER, new TaggingSerializer());
    const p = await createProducer<unknown, string>(
      { bootstrapServers: cluster.bootstrapServers },
      { container: c },
    );
    try {
      const sends = [];
      for (let i = 0; i < 20; i++) {
        // Every third record brings a header of its own; the others bring none.
        sends.push(
          p.send({ topic: 'tagged', value: `v${i}`, ...(i % 3 === 0 ? { headers: { own: `o${i}` } } : {}) }),
        );
      }
      await Promise.all(sends);
    } finally {
      await p.close();
    }
    const records = await readTopic(cluster.bootstrapServers, 'tagged', { headers: true });
    assert.equal(records.length, 20);
    records.forEach((r, i) => {
      const expected: Array<[string, string]> =
        i % 3 === 0
          ? [
              ['own', `o${i}`],
              ['seq', String(i)],
            ]
          : [['seq', String(i)]];
      assert.deepEqual(
        r.headers.map(([k, v]) => [k, v?.toString()]),
        expected,
        `record ${i}`,
      );
    });
  });
});
