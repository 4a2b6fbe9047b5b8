/**
 * One leg of `bench:adapters` (adapters.ts), run in its own process under
 * Node or Bun: the producer over one transport adapter, the same workload
 * each time. Reads its settings from the TRIBUTARY_BENCH env variable (JSON),
 * prints one JSON line: the median records/s and CPU µs/record over rounds.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createProducer, type TransportFactory } from '@tributary/core';

interface Settings {
  adapter: 'node' | 'bun';
  tls: boolean;
  bootstrapServers: string;
  /** Broker port -> TLS port (stunnel), for tls. */
  route: Record<string, number>;
  caFile: string;
  topic: string;
  records: number;
  rounds: number;
}

interface AdapterModule {
  createTcpTransport: TransportFactory;
  tlsTransport(options: { ca: string }): TransportFactory;
}

const s = JSON.parse(process.env['TRIBUTARY_BENCH'] ?? '{}') as Settings;
const specifier = s.adapter === 'bun' ? '@tributary/adapter-bun' : '@tributary/adapter-node';
const mod = (await import(specifier)) as AdapterModule;
let transport: TransportFactory = mod.createTcpTransport;
let bootstrap = s.bootstrapServers;
if (s.tls) {
  const inner = mod.tlsTransport({ ca: readFileSync(s.caFile, 'utf8') });
  const route = new Map(Object.entries(s.route).map(([k, v]) => [Number(k), v]));
  const tlsPorts = new Set(route.values());
  // Brokers advertise their plaintext ports: map each to the TLS port in front of it.
  transport = (options, handler) => {
    const port = route.get(options.port) ?? (tlsPorts.has(options.port) ? options.port : 1);
    return inner({ ...options, port }, handler);
  };
  bootstrap = [...tlsPorts].map((p) => `127.0.0.1:${p}`).join(',');
}
const producer = await createProducer({ bootstrapServers: bootstrap, lingerMs: 5 }, { transport });
const key = Buffer.alloc(16, 0x6b);
const value = Buffer.alloc(100, 0x76);
await producer.send({ topic: s.topic, key, value });
const runs: Array<{ rps: number; cpuUs: number }> = [];
for (let round = 0; round < s.rounds; round++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sends = new Array<Promise<unknown>>(s.records);
  for (let i = 0; i < s.records; i++) sends[i] = producer.send({ topic: s.topic, key, value });
  await Promise.all(sends);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  runs.push({ rps: (s.records / ms) * 1000, cpuUs: (cpu.user + cpu.system) / s.records });
}
await producer.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(JSON.stringify({ rps: median(runs.map((r) => r.rps)), cpuUs: median(runs.map((r) => r.cpuUs)) }));
