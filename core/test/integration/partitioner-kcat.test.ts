import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, runKcat, startCluster } from '@tributary/testkit';
import { murmur2, partitionForKey } from '../../src/producer/partitioner.js';
import { mulberry32 } from '../prng.js';

// Our murmur2 partitioning against librdkafka's Java-compatible one: kcat
// produces random keys with `partitioner=murmur2_random` (murmur2 of the
// key, modulo the partition count, as the Java client does; random only for
// NULL keys), and every record must sit where partitionForKey puts its key.
// kcat always runs on Debian's librdkafka; the leg (TRIBUTARY_LIBRDKAFKA)
// changes the mock brokers, which store what they are sent.
//
// Empty keys: kcat sends the empty text before the key delimiter as an empty,
// non-NULL key (read back with length 0, not -1), and murmur2_random hashes
// it, so empty keys are part of this check; the assertions below pin both.

const leg = librdkafkaFromEnv();
const TOPIC = 'partitioner-kcat';
const PARTITIONS = 17;
const RECORDS = 10_000;
const KEY_DELIM = 0x01;
const MSG_DELIM = 0x02;
const EMPTY_KEYS = 200;

// Printable ASCII plus some multi-byte UTF-8 (bytes >= 0x80 exercise the
// unsigned byte reads); none of it contains the delimiter bytes.
const ALPHABET = [
  ...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)),
  'é',
  'ß',
  'Ж',
  '中',
  '✓',
  '🦀',
];

function randomKeys(): string[] {
  const random = mulberry32(0x794);
  const keys: string[] = [];
  for (let i = 0; i < RECORDS; i++) {
    if (i % (RECORDS / EMPTY_KEYS) === 0) {
      keys.push('');
      continue;
    }
    const length = 1 + Math.floor(random() * 48);
    let key = '';
    for (let j = 0; j < length; j++) key += ALPHABET[Math.floor(random() * ALPHABET.length)];
    keys.push(key);
  }
  return keys;
}

describe(`murmur2 partitioning agrees with librdkafka's murmur2_random (brokers: librdkafka ${leg})`, () => {
  let cluster: MockCluster;

  before(async () => {
    cluster = await startCluster({ brokers: 3, topics: [{ name: TOPIC, partitions: PARTITIONS }] });
  });
  after(async () => {
    await cluster?.stop();
  });

  it(`puts ${RECORDS} random keys where partitionForKey says`, async () => {
    const keys = randomKeys();
    const parts: Buffer[] = [];
    keys.forEach((key, i) => {
      // The value is the key's index, so each record read back finds its key.
      parts.push(
        Buffer.from(key, 'utf8'),
        Buffer.of(KEY_DELIM),
        Buffer.from(String(i)),
        Buffer.of(MSG_DELIM),
      );
    });
    await runKcat(
      [
        '-P',
        '-b',
        cluster.bootstrapServers,
        '-t',
        TOPIC,
        '-K',
        '\\x01',
        '-D',
        '\\x02',
        '-X',
        'partitioner=murmur2_random',
        '-X',
        'acks=all',
      ],
      { input: Buffer.concat(parts), timeoutMs: 60_000 },
    );

    const records = await readTopic(cluster.bootstrapServers, TOPIC, { headers: false });
    assert.equal(records.length, RECORDS);
    const seen = new Uint8Array(RECORDS);
    const perPartition = new Array<number>(PARTITIONS).fill(0);
    let emptyKeys = 0;
    for (const r of records) {
      const index = Number(r.value?.toString('utf8'));
      const sent = keys[index];
      assert.ok(sent !== undefined && seen[index] === 0, `unexpected or repeated value ${r.value}`);
      seen[index] = 1;
      assert.ok(r.key !== null, `record ${index}: kcat sent a NULL key for ${JSON.stringify(sent)}`);
      assert.equal(r.key.toString('utf8'), sent);
      const expected = partitionForKey(r.key, PARTITIONS);
      assert.equal(
        r.partition,
        expected,
        `key ${JSON.stringify(sent)} (murmur2 ${murmur2(r.key)}) went to ${r.partition}, we say ${expected}`,
      );
      if (r.key.length === 0) emptyKeys++;
      perPartition[r.partition]!++;
    }
    assert.equal(emptyKeys, EMPTY_KEYS);
    // A sanity check that the keys spread at all (each partition expects ~588).
    for (const n of perPartition) assert.ok(n > 400, `per partition: ${perPartition.join(',')}`);
  });
});
