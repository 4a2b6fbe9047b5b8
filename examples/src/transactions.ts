/**
 * Transactions: records that become visible together, or not at all.
 *
 *   BOOTSTRAP=localhost:9092 TOPIC=payments node examples/dist/src/transactions.js
 *
 * One transaction is committed, a second is aborted: a consumer reading
 * with isolation.level=read_committed sees the first five records and never
 * the three of the aborted one. The transactional id identifies the producer
 * across restarts: a new instance with the same id fences the old one.
 */
import 'reflect-metadata';
import { createProducer, isKafkaClientError } from '@tributary/core';

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9092';
const topic = process.env['TOPIC'] ?? 'payments';
const transactionalId = process.env['TRANSACTIONAL_ID'] ?? 'payments-writer-1';

// A transactional id implies idempotence (acks=all, a producer id, sequence numbers).
const producer = await createProducer<string, string>({ bootstrapServers, transactionalId });
try {
  await producer.initTransactions(); // once: registers the id with its coordinator

  producer.beginTransaction();
  for (let i = 0; i < 5; i++) {
    // No need to await each send: commitTransaction() flushes first, and fails if any record failed.
    producer.send({ topic, key: `account-${i}`, value: `committed payment ${i}` }).catch(() => {});
  }
  await producer.commitTransaction();
  console.log('committed 5 records');

  producer.beginTransaction();
  const pending = [];
  for (let i = 0; i < 3; i++) {
    pending.push(producer.send({ topic, key: `account-${i}`, value: `aborted payment ${i}` }));
  }
  await Promise.all(pending); // written to the log, but not yet visible to read_committed readers
  await producer.abortTransaction();
  console.log('aborted 3 records: read_committed consumers skip them');

  // Misuse is a typed error naming what to call first.
  try {
    await producer.commitTransaction();
  } catch (err) {
    if (!isKafkaClientError(err) || err.code !== 'ILLEGAL_STATE') throw err;
    console.log(`commit without a transaction: ${err.message}`);
  }
  console.log('transactions: 1 committed, 1 aborted');
} finally {
  await producer.close();
}
