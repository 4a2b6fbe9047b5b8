import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { TransportFactory, TransportHandler } from '@tributary/core';

/**
 * A real TLS terminator for the tests: Debian's stunnel (package `stunnel4`),
 * one process with a service per (scenario, broker), each accepting TLS on
 * 127.0.0.1 and forwarding plaintext to a broker of the test cluster.
 *
 * No orphans: stunnel runs in the foreground as our child, under
 * `setpriv --pdeathsig KILL` where util-linux has it (the kernel kills it if
 * this process dies), is stopped by `stop()`, and killed by an exit hook if a
 * test forgot.
 */

export interface StunnelService {
  name: string;
  /** The TLS port it listens on (127.0.0.1). */
  accept: number;
  /** The plaintext port it forwards to (127.0.0.1). */
  connect: number;
  certFile: string;
  keyFile: string;
  /** Require a client certificate signed by this CA (mTLS). */
  clientCaFile?: string;
}

export interface Stunnel {
  readonly pid: number;
  /** The log stunnel wrote so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function which(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

/** Ports on 127.0.0.1 that were free a moment ago (bound to port 0, noted, released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (s) =>
        new Promise<number>((resolve, reject) => {
          s.once('error', reject);
          s.listen({ host: '127.0.0.1', port: 0 }, () => resolve((s.address() as { port: number }).port));
        }),
    ),
  );
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts stunnel with `services` (config and log in `dir`); resolves once every service accepts. */
export async function startStunnel(dir: string, services: StunnelService[]): Promise<Stunnel> {
  if (!which('stunnel')) throw new Error('stunnel not found: install the Debian package stunnel4');
  const logFile = join(dir, 'stunnel.log');
  const config = [
    'foreground = yes',
    'pid =',
    `output = ${logFile}`,
    'debug = 4',
    ...services.flatMap((s) => [
      `[${s.name}]`,
      `accept = 127.0.0.1:${s.accept}`,
      `connect = 127.0.0.1:${s.connect}`,
      `cert = ${s.certFile}`,
      `key = ${s.keyFile}`,
      ...(s.clientCaFile === undefined
        ? []
        : [`CAfile = ${s.clientCaFile}`, 'verifyChain = yes', 'requireCert = yes']),
    ]),
  ].join('\n');
  const configFile = join(dir, 'stunnel.conf');
  writeFileSync(configFile, `${config}\n`);
  const [command, args] = which('setpriv')
    ? ['setpriv', ['--pdeathsig', 'KILL', 'stunnel', configFile]]
    : ['stunnel', [configFile]];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
    running.delete(child);
  });
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return stderr;
    }
  };

  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 10_000;
  for (const service of services) {
    while (!(await portAccepts(service.accept))) {
      if (exitCode !== undefined || Date.now() > deadline) {
        await stop();
        throw new Error(`stunnel did not start (exit ${exitCode}); its log:\n${log()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { pid: child.pid ?? -1, log, stop };
}

/** What a transport reported through `throughTls`. */
export interface TlsRoute {
  /** The factory to hand the producer. */
  factory: TransportFactory;
  /** Bootstrap servers: the TLS ports in front of the brokers. */
  bootstrapServers: string;
  /** Every connection attempt's port (after mapping). */
  connects: number[];
  /** Every non-undefined onClose error. */
  errors: Error[];
  /** Connections the route could not map: plaintext would have leaked. */
  unmapped: string[];
}

/**
 * Wraps a transport factory so that each broker's advertised (plaintext)
 * address goes to the TLS port in front of it: the brokers advertise their
 * own ports in metadata, and a transport factory is the seam for a
 * port-forward. Records what the transports report.
 */
export function throughTls(inner: TransportFactory, tlsPortByBrokerPort: Map<number, number>): TlsRoute {
  const tlsPorts = new Set(tlsPortByBrokerPort.values());
  const route: TlsRoute = {
    factory: (options, handler) => {
      let port = tlsPortByBrokerPort.get(options.port);
      if (port === undefined && tlsPorts.has(options.port)) port = options.port;
      if (port === undefined) {
        route.unmapped.push(`${options.host}:${options.port}`);
        port = 1; // nothing listens there: the connection fails rather than going out in plaintext
      }
      route.connects.push(port);
      const wrapped: TransportHandler = {
        onConnect: () => handler.onConnect(),
        onData: (chunk) => handler.onData(chunk),
        onDrain: () => handler.onDrain(),
        onClose: (error) => {
          if (error !== undefined) route.errors.push(error);
          handler.onClose(error);
        },
      };
      return inner({ ...options, port }, wrapped);
    },
    bootstrapServers: [...tlsPorts].map((p) => `127.0.0.1:${p}`).join(','),
    connects: [],
    errors: [],
    unmapped: [],
  };
  return route;
}
