import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ApiVersionsApi,
  isKafkaClientError,
  MetadataApi,
  NetworkClient,
  type NetworkConfig,
  networkConfigDefs,
  ProtocolError,
  Reader,
  readRequestHeader,
  resolveConfig,
  Selector,
  Writer,
} from '@tributary/core';
import { createTcpTransport } from '../src/index.js';

// A broker that misbehaves in ways a real one (and librdkafka's mock) never
// does on purpose: a scripted peer on loopback. It answers ApiVersions
// properly, then breaks the protocol on the first Metadata request in the way
// its mode says. Each case must end in a typed, retriable error for what was
// in flight, a closed connection, a live process, and a client that can
// reconnect and carry on.

type Mode =
  | 'wrong-correlation'
  | 'short-body'
  | 'frame-2gib'
  | 'unsolicited'
  | 'close-mid-frame'
  | 'well-behaved';

function frame(correlationId: number, body: Buffer): Buffer {
  const out = Buffer.alloc(8);
  out.writeInt32BE(body.length + 4, 0);
  out.writeInt32BE(correlationId, 4);
  return Buffer.concat([out, body]);
}

function apiVersionsBody(requestVersion: number): Buffer {
  const w = new Writer();
  // This broker speaks ApiVersions v0 only: a newer request gets
  // UNSUPPORTED_VERSION in the v0 layout with its ranges, as the protocol
  // guide prescribes, and the client retries at v0.
  ApiVersionsApi.encodeResponse(w, 0, {
    errorCode: requestVersion > 0 ? 35 : 0,
    apiKeys: [
      { apiKey: 3, minVersion: 0, maxVersion: 1 },
      { apiKey: 18, minVersion: 0, maxVersion: 0 },
    ],
  });
  return w.finish();
}

function metadataBody(): Buffer {
  const w = new Writer();
  MetadataApi.encodeResponse(w, 1, {
    brokers: [{ nodeId: 1, host: '127.0.0.1', port: 1, rack: null }],
    controllerId: 1,
    topics: [],
  });
  return w.finish();
}

class ScriptedBroker {
  mode: Mode = 'well-behaved';
  readonly server: Server;
  readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
          const size = buffered.readInt32BE(0);
          const request = buffered.subarray(4, 4 + size);
          buffered = buffered.subarray(4 + size);
          this.#answer(socket, request);
        }
      });
    });
  }

  #answer(socket: Socket, request: Buffer): void {
    const apiKey = request.readInt16BE(0);
    const header = readRequestHeader(new Reader(request), 1);
    if (apiKey === 18) {
      socket.write(frame(header.correlationId, apiVersionsBody(header.apiVersion)));
      return;
    }
    const good = frame(header.correlationId, metadataBody());
    switch (this.mode) {
      case 'well-behaved':
        socket.write(good);
        return;
      case 'wrong-correlation':
        socket.write(frame(header.correlationId + 1000, metadataBody()));
        return;
      case 'short-body': {
        // A well-framed response whose body stops in the middle of the broker list.
        const cut = good.subarray(0, 4 + 4 + 9);
        cut.writeInt32BE(cut.length - 4, 0);
        socket.write(cut);
        return;
      }
      case 'frame-2gib': {
        const size = Buffer.alloc(4);
        size.writeUInt32BE(0x80000000);
        socket.write(Buffer.concat([size, Buffer.alloc(100)]));
        return;
      }
      case 'unsolicited':
        socket.write(good);
        socket.write(good); // a second response nobody asked for
        return;
      case 'close-mid-frame':
        socket.end(good.subarray(0, good.length - 3));
        return;
    }
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port));
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('a misbehaving broker', () => {
  const broker = new ScriptedBroker();
  let port = 0;
  before(async () => {
    port = await broker.listen();
  });
  after(() => broker.close());

  const cases: Array<[Mode, RegExp]> = [
    ['wrong-correlation', /correlation id \d+, expected \d+/],
    ['short-body', /truncated/],
    ['frame-2gib', /invalid frame size -2147483648/],
    ['close-mid-frame', /was closed/],
  ];
  for (const [mode, message] of cases) {
    it(`${mode}: the request fails retriably, the connection is replaced`, async () => {
      const config = resolveConfig<NetworkConfig>(networkConfigDefs, {
        bootstrapServers: [`127.0.0.1:${port}`],
        reconnectBackoffMs: 10,
      });
      const client = new NetworkClient(config, new Selector(createTcpTransport, config.maxResponseBytes));
      const disconnects: Array<Error | undefined> = [];
      client.on('disconnect', (e) => disconnects.push(e.error));
      try {
        broker.mode = 'well-behaved';
        await client.request(-1, MetadataApi, { topics: [] });
        broker.mode = mode;
        await assert.rejects(client.request(-1, MetadataApi, { topics: [] }), (err: Error) => {
          assert.ok(isKafkaClientError(err), String(err));
          assert.equal(err.retriable, true, `${err.message} should be retriable`);
          assert.match(err.message, message);
          if (mode !== 'close-mid-frame')
            assert.ok(err.cause instanceof ProtocolError, 'the cause is a ProtocolError');
          return true;
        });
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(disconnects.length, 1);
        broker.mode = 'well-behaved';
        const again = await client.request(-1, MetadataApi, { topics: [] });
        assert.equal(again.brokers.length, 1, 'a new connection works');
      } finally {
        await client.close();
      }
    });
  }

  it('unsolicited: a response with nothing in flight closes the connection with a ProtocolError', async () => {
    const config = resolveConfig<NetworkConfig>(networkConfigDefs, {
      bootstrapServers: [`127.0.0.1:${port}`],
    });
    const client = new NetworkClient(config, new Selector(createTcpTransport, config.maxResponseBytes));
    const closed = new Promise<Error | undefined>((resolve) =>
      client.on('disconnect', (e) => resolve(e.error)),
    );
    try {
      broker.mode = 'unsolicited';
      const res = await client.request(-1, MetadataApi, { topics: [] });
      assert.equal(res.brokers.length, 1, 'the expected response still arrives');
      const error = await closed;
      assert.ok(error instanceof ProtocolError, String(error));
      assert.match(error.message, /no request in flight/);
    } finally {
      broker.mode = 'well-behaved';
      await client.close();
    }
  });
});
