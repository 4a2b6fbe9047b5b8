/**
 * TLS: verify the brokers against your CA (and, optionally, present a client certificate).
 *
 *   BOOTSTRAP=broker1:9093 TLS_CA_FILE=ca.crt TOPIC=secure node examples/dist/src/tls.js
 *
 * Optional: TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS), TLS_KEY_PASSPHRASE.
 *
 * TLS_PORT_MAP is only for a TLS terminator (stunnel, a load balancer) in
 * front of brokers that advertise their plaintext ports, as the examples'
 * runner does with the test cluster: `9092=19092,9093=19093` sends each
 * connection to a broker's advertised port to the TLS port in front of it.
 * Against real brokers with a TLS listener, leave it unset.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { tlsTransport } from '@tributary/adapter-node';
import { createProducer, type TlsTransportOptions, type TransportFactory } from '@tributary/core';

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9093';
const topic = process.env['TOPIC'] ?? 'secure';
const caFile = process.env['TLS_CA_FILE'];
if (caFile === undefined)
  throw new Error('set TLS_CA_FILE to the CA certificate (PEM) that signed the brokers');

const options: TlsTransportOptions = { ca: readFileSync(caFile, 'utf8') };
if (process.env['TLS_CERT_FILE'] !== undefined && process.env['TLS_KEY_FILE'] !== undefined) {
  options.cert = readFileSync(process.env['TLS_CERT_FILE'], 'utf8');
  options.key = readFileSync(process.env['TLS_KEY_FILE'], 'utf8');
  if (process.env['TLS_KEY_PASSPHRASE'] !== undefined) options.passphrase = process.env['TLS_KEY_PASSPHRASE'];
}
// Options are checked, and the certificates parsed, here: a bad file fails now, not on every connect.
let transport: TransportFactory = tlsTransport(options);

if (process.env['TLS_PORT_MAP'] !== undefined) {
  const map = new Map(
    process.env['TLS_PORT_MAP'].split(',').map((pair) => pair.split('=').map(Number) as [number, number]),
  );
  const tls = transport;
  // A transport factory is the seam for a port-forward: it sees every connection's host and port.
  // A port not in the map is dialled as is, still over TLS: nothing can go out in plaintext.
  transport = (connection, handler) => {
    const port = map.get(connection.port) ?? connection.port;
    return tls({ ...connection, port }, handler);
  };
}

const producer = await createProducer<string, string>(
  { bootstrapServers, clientId: 'tls-example' },
  { transport },
);
try {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => producer.send({ topic, key: `k${i}`, value: `secret #${i}` })),
  );
  console.log(`tls: ${results.length} records delivered over TLS to ${topic}`);
} finally {
  await producer.close();
}
