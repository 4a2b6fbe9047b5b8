#!/usr/bin/env node
/**
 * The chaos soak: a producer (idempotent, acks=all, compression, 5 in flight;
 * transactional by default) writes a known sequence to a 3-broker testkit
 * cluster with 12 partitions while a seeded schedule injects faults (brokers
 * down and up, RTT spikes above requestTimeoutMs, Produce errors, Metadata
 * topic errors, leader moves). At the end kcat reads every partition and the
 * run is judged by the rules printed in the report; the exit code is 1 when
 * one is broken.
 *
 *   npm run soak -w @tributary/benchmarks -- --records 1000000 --seed 42 --out soak.md
 *   node benchmarks/dist/src/soak/index.js --help
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { readTopic, startCluster } from '@tributary/testkit';
import { SoakDriver } from './driver.js';
import { FaultInjector } from './faults.js';
import { Ledger, verify } from './ledger.js';
import { parseOptions, SoakMode, type SoakOptions, UsageError } from './options.js';
import { judge, renderMarkdown, type SoakResult } from './report.js';
import { WireTap } from './wire-tap.js';

const TOPIC = 'soak';
const crashes: string[] = [];
process.on('unhandledRejection', (reason) => {
  crashes.push(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`);
});
process.on('uncaughtException', (err) => {
  crashes.push(`uncaught exception: ${err.stack ?? err.message}`);
});

async function soak(o: SoakOptions): Promise<SoakResult> {
  const log = (s: string) => {
    if (!o.quiet) console.error(s);
  };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const cluster = await startCluster({
    brokers: o.brokers,
    topics: [{ name: TOPIC, partitions: o.partitions, replicationFactor: Math.min(3, o.brokers) }],
  });
  try {
    const run = String(o.seed);
    const ledger = new Ledger();
    const tap = new WireTap(run);
    const driver = new SoakDriver(o, ledger, cluster.bootstrapServers, TOPIC, run, tap);
    const faults = new FaultInjector(
      cluster,
      TOPIC,
      o.partitions,
      o.seed,
      o.faultEveryMs,
      o.requestTimeoutMs,
    );
    log(
      `soak: seed ${o.seed}, mode ${o.mode}, librdkafka ${cluster.librdkafkaVersion} mock at ${cluster.bootstrapServers}`,
    );

    const sendStart = performance.now();
    const stop = () =>
      ledger.sent >= o.records ||
      performance.now() - sendStart >= o.seconds * 1000 ||
      faults.error !== undefined;
    const progress = setInterval(() => {
      const s = (performance.now() - sendStart) / 1000;
      log(
        `  ${s.toFixed(0)} s: sent ${ledger.sent}, acked ${ledger.acked}, rejected ${ledger.rejected}, ` +
          `pending ${ledger.unsettled}, faults ${faults.total}, ${Math.round(ledger.acked / s)} acked/s`,
      );
    }, 5000);
    faults.start();
    try {
      await driver.run(stop);
    } finally {
      clearInterval(progress);
      await faults.stop();
    }
    if (faults.error !== undefined) crashes.push(`fault injection failed: ${faults.error.message}`);
    log(`soak: sending stopped after ${ledger.sent} records; waiting for every promise to settle`);
    const unsettledBeforeClose = await driver.settle(o.deliveryTimeoutMs * 2 + 30_000);
    const sendSeconds = (performance.now() - sendStart) / 1000;
    await driver.close();
    // close() settles what is left; give the reactions a turn to run.
    await new Promise((r) => setTimeout(r, 100));
    const unsettledAfterClose = ledger.unsettled;

    log('soak: reading the topic back with kcat');
    const records = await readTopic(cluster.bootstrapServers, TOPIC, {
      headers: false,
      isolationLevel: 'read_uncommitted',
      timeoutMs: 600_000,
    });
    const verification = verify(ledger, records, run, o.mode === SoakMode.Transactional, tap);
    const partial = {
      mode: o.mode,
      seed: o.seed,
      librdkafka: cluster.librdkafkaVersion,
      startedAt,
      elapsedSeconds: (performance.now() - t0) / 1000,
      sendSeconds,
      recordsPerSecond: ledger.acked / sendSeconds,
      options: {
        records: Number.isFinite(o.records) ? o.records : null,
        seconds: Number.isFinite(o.seconds) ? o.seconds : null,
        rate: Number.isFinite(o.rate) ? Math.round(o.rate) : null,
        faultEveryMs: o.faultEveryMs,
        window: o.window,
        ...(o.mode === SoakMode.Transactional ? { txnRecords: o.txnRecords, txnMs: o.txnMs } : {}),
        producer: {
          acks: 'all',
          enableIdempotence: true,
          compressionType: o.compression,
          maxInFlightRequestsPerConnection: 5,
          lingerMs: o.lingerMs,
          requestTimeoutMs: o.requestTimeoutMs,
          deliveryTimeoutMs: o.deliveryTimeoutMs,
          maxBlockMs: o.deliveryTimeoutMs,
        },
        valueBytes: o.valueBytes,
        brokers: o.brokers,
        partitions: o.partitions,
      },
      sent: ledger.sent,
      acked: ledger.acked,
      rejected: ledger.rejected,
      rejectedByError: Object.fromEntries(ledger.errors),
      errorExamples: Object.fromEntries(ledger.errorExamples),
      txnEndErrors: Object.fromEntries(ledger.txnErrors),
      unsettledBeforeClose,
      unsettledAfterClose,
      verification,
      faults: {
        total: faults.total,
        byKind: Object.fromEntries(faults.counts),
        injectedErrorCodes: Object.fromEntries(faults.codes),
      },
      faultLog: faults.log,
      trouble: driver.trouble,
      tapRequests: tap.requests,
      tapParseErrors: tap.parseErrors,
      crashes: [...crashes],
    };
    const violations = judge(partial);
    return { ...partial, violations, passed: violations.length === 0 };
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  let o: SoakOptions;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  console.log(`soak seed: ${o.seed}`);
  const result = await soak(o);
  const md = renderMarkdown(result, o);
  console.log(md);
  if (o.out !== undefined) writeFileSync(o.out, md);
  if (o.json !== undefined) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `soak ${result.passed ? 'passed' : 'FAILED'} (seed ${result.seed}): ${result.sent} sent, ${result.acked} acked, ` +
      `${result.verification.gaps} lost, ${result.verification.duplicates} duplicates, ` +
      `${result.unsettledBeforeClose + result.unsettledAfterClose} unsettled, ${result.faults.total} faults`,
  );
  process.exitCode = result.passed ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(`soak crashed: ${(err as Error)?.stack ?? String(err)}`);
  process.exitCode = 1;
});
