import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { isKafkaClientError, KafkaClientError } from '../../src/errors.js';
import { createProducer, type KafkaProducer, type ProducerRecord } from '../../src/index.js';
import { estimateSizeInBytesUpperBound, type RecordHeader } from '../../src/protocol/record-batch.js';

// The producer fed hostile input, one case per test, against the mock
// cluster: each bad record ends in a typed error (class and a message naming
// the problem) through its promise, never a synchronous throw or a crash;
// and the producer keeps working: a good record sent after the bad one is
// delivered, and kcat reads it back.
//
// The mock broker enforces no per-message size limit (only librdkafka's
// receive.message.max.bytes, 100 MB per request), so the size limit under
// test is the producer's own maxRequestSize.

const leg = librdkafkaFromEnv();
const PARTITIONS = 3;
const MAX_REQUEST = 200_000;

type AnyProducer = KafkaProducer<unknown, unknown>;

describe(`hostile producer inputs (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  let producer: AnyProducer;
  const topic = 'hostile';
  let goodSeq = 0;

  before(async () => {
    cluster = await startCluster({ brokers: 3, topics: [{ name: topic, partitions: PARTITIONS }] });
    producer = await createProducer({
      bootstrapServers: cluster.bootstrapServers,
      lingerMs: 1,
      maxRequestSize: MAX_REQUEST,
      maxBlockMs: 5000,
    });
  });
  after(async () => {
    await producer?.close({ timeoutMs: 0 });
    await cluster?.stop();
  });

  /**
   * Sends `record` (never letting send() throw past here unnoticed), and
   * returns the rejection after asserting its class, code and message.
   */
  async function rejects(
    record: unknown,
    code: string,
    message: RegExp,
    send: (r: ProducerRecord<unknown, unknown>) => Promise<unknown> = (r) => producer.send(r),
  ): Promise<KafkaClientError> {
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      promise = send(record as ProducerRecord<unknown, unknown>);
    }, 'send() must not throw synchronously');
    assert.ok(promise instanceof Promise, 'send() returns a promise');
    const err = await promise.then(
      () => assert.fail('the hostile record was accepted'),
      (e: unknown) => e,
    );
    assert.ok(
      isKafkaClientError(err),
      `a typed error, got ${(err as Error)?.name}: ${(err as Error)?.message}`,
    );
    assert.ok(err instanceof KafkaClientError);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return err;
  }

  /** A good record after the bad ones: delivered, and kcat finds it at the acknowledged position. */
  async function stillWorks(): Promise<void> {
    const value = `good-${++goodSeq}-${Date.now()}`;
    const m = await producer.send({ topic, key: 'good', value });
    const back = await readTopic(cluster.bootstrapServers, topic, { partition: m.partition, headers: false });
    const found = back.find((r) => r.offset === m.offset);
    assert.equal(found?.value?.toString(), value, 'kcat reads the good record where it was acknowledged');
  }

  // -- records that are not records ------------------------------------------------------

  for (const [what, record] of [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'topic=hostile'],
    ['an array', [topic, 'value']],
    ['an object without a topic', { value: 'v' }],
    ['an object with a numeric topic', { topic: 7, value: 'v' }],
  ] as const) {
    it(`rejects a record that is ${what}`, async () => {
      await rejects(record, 'INVALID_RECORD', /a record must be an object with a string topic, got/);
      await stillWorks();
    });
  }

  it('rejects a send callback that is not a function', async () => {
    await rejects(
      { topic, value: 'v' },
      'INVALID_CALLBACK',
      /callback must be a function, got number 5/,
      (r) => producer.send(r, 5 as never),
    );
    await stillWorks();
  });

  // -- topic names ------------------------------------------------------------------------

  for (const [what, name, message] of [
    ['empty', '', /cannot be empty/],
    ['longer than 249 characters', 't'.repeat(250), /at most 249 characters, this one has 250/],
    ['"."', '.', /not a valid topic name/],
    ['".."', '..', /not a valid topic name/],
    ['with a slash', 'a/b', /characters other than ASCII letters/],
    ['with a space', 'a b', /characters other than ASCII letters/],
    ['with non-ASCII letters', 'tōpic', /characters other than ASCII letters/],
    // A lone surrogate: a JS string that has no valid UTF-8 encoding.
    ['that is not valid UTF-16 (a lone surrogate)', 'bad\ud800name', /characters other than ASCII letters/],
    ['with a NUL byte', 'a\u0000b', /characters other than ASCII letters/],
  ] as const) {
    it(`rejects a topic name ${what}`, async () => {
      await rejects({ topic: name, value: 'v' }, 'INVALID_TOPIC_EXCEPTION', message);
      await stillWorks();
    });
  }

  it('rejects a topic given as bytes (invalid UTF-8) instead of a string', async () => {
    await rejects(
      { topic: Buffer.from([0xc3, 0x28]), value: 'v' },
      'INVALID_RECORD',
      /string topic, got an object/,
    );
    await stillWorks();
  });

  // -- timestamps -------------------------------------------------------------------------

  for (const [what, timestamp] of [
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['not an integer', 1_700_000_000_000.5],
    ['beyond 2^53', 2 ** 60],
    ['a string', '1700000000000'],
  ] as const) {
    it(`rejects a timestamp that is ${what}`, async () => {
      await rejects(
        { topic, value: 'v', timestamp },
        'INVALID_TIMESTAMP',
        /invalid timestamp .* non-negative integer/,
      );
      await stillWorks();
    });
  }

  // -- partitions -------------------------------------------------------------------------

  for (const [what, partition] of [
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['not an integer', 1.5],
    ['out of range (= the partition count)', PARTITIONS],
    ['far out of range', 2 ** 31],
    ['a string', '1'],
    ['null', null],
  ] as const) {
    it(`rejects a partition that is ${what}`, async () => {
      await rejects(
        { topic, value: 'v', partition },
        'INVALID_PARTITION',
        new RegExp(`partition .* is not in \\[0, ${PARTITIONS - 1}\\] for topic ${topic}`),
      );
      await stillWorks();
    });
  }

  // -- headers ----------------------------------------------------------------------------

  for (const [what, headers, message] of [
    ['a number value', { h: 5 }, /header h: values must be strings, bytes or null, got number 5/],
    ['an object value', { h: { nested: true } }, /header h: values must be .* got an object/],
    ['a boolean value', [['h', true]], /header h: values must be .* got boolean true/],
    ['a numeric key', [[1, 'v']], /header keys must be strings, got number 1/],
    ['an entry that is not a pair', ['h'], /a header must be a \[key, value\] pair, got the string "h"/],
    ['headers that are a string', 'h=v', /headers must be a plain object or an array .* got the string/],
    [
      'headers that are a Map',
      new Map([['h', 'v']]),
      /headers must be a plain object .* got an object \(Map\)/,
    ],
    ['headers that are null', null, /headers must be a plain object .* got null/],
  ] as const) {
    it(`rejects headers with ${what}`, async () => {
      await rejects({ topic, value: 'v', headers }, 'INVALID_HEADER', message);
      await stillWorks();
    });
  }

  it('delivers 10,000 headers, every one read back by kcat', async () => {
    const headers = Array.from({ length: 10_000 }, (_, i) => [`h${i}`, `v${i}`] as [string, string]);
    const m = await producer.send({ topic, key: 'many', value: 'many headers', headers });
    const back = await readTopic(cluster.bootstrapServers, topic, { partition: m.partition });
    const got = back.find((r) => r.offset === m.offset);
    assert.equal(got?.headers.length, 10_000);
    for (const i of [0, 1, 4999, 9999]) {
      assert.equal(got?.headers[i]?.[0], `h${i}`);
      assert.equal(got?.headers[i]?.[1]?.toString(), `v${i}`);
    }
    await stillWorks();
  });

  /** A header value of `n` bytes, and the record's size estimate with it. */
  const withHeaderBytes = (n: number) => {
    const headers: RecordHeader[] = [{ key: 'big', value: Buffer.alloc(n, 0x61) }];
    return { headers, size: estimateSizeInBytesUpperBound(null, Buffer.from('v'), headers) };
  };
  /** The largest header value whose record still fits maxRequestSize. */
  const headerFit = (() => {
    let n = MAX_REQUEST - 200;
    while (withHeaderBytes(n + 1).size <= MAX_REQUEST) n++;
    return n;
  })();

  it('delivers headers totalling just under maxRequestSize', async () => {
    const big = Buffer.alloc(headerFit, 0x61);
    const m = await producer.send({ topic, value: 'v', headers: [['big', big]] });
    const back = await readTopic(cluster.bootstrapServers, topic, { partition: m.partition });
    const got = back.find((r) => r.offset === m.offset);
    assert.ok(got?.headers[0]?.[1]?.equals(big), 'the header came back byte-exact');
    await stillWorks();
  });

  it('rejects headers totalling more than maxRequestSize', async () => {
    await rejects(
      { topic, value: 'v', headers: [['big', Buffer.alloc(headerFit + 1, 0x61)]] },
      'RECORD_TOO_LARGE',
      new RegExp(`larger than maxRequestSize \\(${MAX_REQUEST}\\)`),
    );
    // Many small headers adding up past the limit, too.
    const many = Array.from({ length: 2000 }, (_, i) => [`k${i}`, Buffer.alloc(100)] as [string, Buffer]);
    await rejects({ topic, value: 'v', headers: many }, 'RECORD_TOO_LARGE', /larger than maxRequestSize/);
    await stillWorks();
  });

  // -- keys and values around maxRequestSize ---------------------------------------------

  /** The largest value (with a 3-byte key) whose record fits maxRequestSize: the record is then exactly at the limit or within a varint byte of it. */
  const valueFit = (() => {
    const key = Buffer.from('key');
    let n = MAX_REQUEST - 200;
    while (estimateSizeInBytesUpperBound(key, Buffer.alloc(n + 1)) <= MAX_REQUEST) n++;
    return n;
  })();

  for (const [what, delta] of [
    ['at', 0],
    ['just below', -1],
  ] as const) {
    it(`delivers a value ${what} maxRequestSize`, async () => {
      const value = Buffer.alloc(valueFit + delta, 0x42);
      value.write('edge', 0);
      const m = await producer.send({ topic, key: 'key', value });
      const back = await readTopic(cluster.bootstrapServers, topic, {
        partition: m.partition,
        headers: false,
      });
      assert.ok(
        back.find((r) => r.offset === m.offset)?.value?.equals(value),
        'kcat reads the value byte-exact',
      );
      await stillWorks();
    });
  }

  it('rejects a value just above maxRequestSize', async () => {
    await rejects(
      { topic, key: 'key', value: Buffer.alloc(valueFit + 1) },
      'RECORD_TOO_LARGE',
      new RegExp(
        `is ${estimateSizeInBytesUpperBound(Buffer.from('key'), Buffer.alloc(valueFit + 1))} bytes .* larger than maxRequestSize \\(${MAX_REQUEST}\\) for topic ${topic}`,
      ),
    );
    await stillWorks();
  });

  it('delivers a key at maxRequestSize and rejects one just above it', async () => {
    const keyFit = (() => {
      let n = MAX_REQUEST - 200;
      while (estimateSizeInBytesUpperBound(Buffer.alloc(n + 1), null) <= MAX_REQUEST) n++;
      return n;
    })();
    const key = Buffer.alloc(keyFit, 0x4b);
    const m = await producer.send({ topic, key, value: null });
    const back = await readTopic(cluster.bootstrapServers, topic, { partition: m.partition, headers: false });
    assert.ok(back.find((r) => r.offset === m.offset)?.key?.equals(key));
    await rejects(
      { topic, key: Buffer.alloc(keyFit + 1), value: null },
      'RECORD_TOO_LARGE',
      /larger than maxRequestSize/,
    );
    await stillWorks();
  });

  it('rejects a value far above maxRequestSize (10x) without sending it', async () => {
    await rejects(
      { topic, value: Buffer.alloc(MAX_REQUEST * 10) },
      'RECORD_TOO_LARGE',
      /larger than maxRequestSize/,
    );
    await stillWorks();
  });

  // -- keys and values of types the default serializer does not take ---------------------

  for (const [what, value] of [
    ['a number', 42],
    ['a boolean', true],
    ['a plain object', { a: 1 }],
    ['a bigint', 10n],
    ['a symbol', Symbol('s')],
    ['a function', () => 1],
    ['a Date', new Date(0)],
    ['undefined', undefined],
  ] as const) {
    it(`rejects a value that is ${what} without a serializer for it`, async () => {
      await rejects(
        { topic, value },
        'SERIALIZATION_ERROR',
        new RegExp(
          `failed to serialize the value of a record for topic "${topic}" with value serializer DefaultSerializer`,
        ),
      );
      await stillWorks();
    });
  }

  for (const [what, key] of [
    ['a number', 7],
    ['an array', ['k']],
    ['a Map', new Map()],
  ] as const) {
    it(`rejects a key that is ${what} without a serializer for it`, async () => {
      await rejects(
        { topic, key, value: 'v' },
        'SERIALIZATION_ERROR',
        /failed to serialize the key of a record .* the default serializer accepts a Uint8Array/,
      );
      await stillWorks();
    });
  }
});
