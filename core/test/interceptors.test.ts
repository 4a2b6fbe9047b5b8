import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../src/network/logger.js';
import { ProducerInterceptors } from '../src/producer/interceptors.js';
import type { Interceptor, ProducerRecord, RecordMetadata } from '../src/producer/types.js';

interface Entry {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}

function capturingLogger(): Logger & { entries: Entry[] } {
  const entries: Entry[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    entries.push({ level, message, fields });
  };
  return {
    entries,
    debugEnabled: true,
    infoEnabled: true,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

type Rec = ProducerRecord<string, string>;

class Tag implements Interceptor<string, string> {
  constructor(readonly tag: string) {}
  onSend(record: Rec): Rec {
    return { ...record, value: `${record.value}+${this.tag}` };
  }
}

class Thrower implements Interceptor<string, string> {
  onSend(): Rec {
    throw new Error('onSend broke');
  }
  onAcknowledgement(): void {
    throw new Error('ack broke');
  }
  close(): void {
    throw new Error('close broke');
  }
}

class Recorder implements Interceptor<string, string> {
  readonly acks: [RecordMetadata | undefined, Error | undefined][] = [];
  closed = 0;
  onAcknowledgement(metadata: RecordMetadata | undefined, error: Error | undefined): void {
    this.acks.push([metadata, error]);
  }
  close(): void {
    this.closed++;
  }
}

const record = (): Rec => ({ topic: 'orders', key: 'k', value: 'v' });
const metadata: RecordMetadata = {
  topic: 'orders',
  partition: 2,
  offset: 41,
  timestamp: 1_700_000_000_000,
  serializedKeySize: 1,
  serializedValueSize: 1,
};

describe('ProducerInterceptors', () => {
  it('is empty without interceptors and then passes records through', () => {
    const chain = new ProducerInterceptors<string, string>([], capturingLogger());
    assert.equal(chain.empty, true);
    const r = record();
    assert.equal(chain.onSend(r), r);
    chain.onAcknowledgement(metadata, undefined);
    chain.onSendError(r, 0, new Error('x'));
    chain.close();
    assert.equal(new ProducerInterceptors([new Recorder()], capturingLogger()).empty, false);
  });

  it('runs onSend in order, each on the previous result', () => {
    const chain = new ProducerInterceptors<string, string>(
      [new Tag('a'), new Tag('b'), new Tag('c')],
      capturingLogger(),
    );
    const original = record();
    const out = chain.onSend(original);
    assert.equal(out.value, 'v+a+b+c');
    assert.equal(original.value, 'v', 'the caller’s record is not changed by replacing interceptors');
  });

  it('lets an interceptor replace the record entirely', () => {
    const reroute: Interceptor<string, string> = {
      onSend: (r) => ({ topic: `${r.topic}-audit`, value: r.value, partition: 3 }),
    };
    const out = new ProducerInterceptors([reroute, new Tag('x')], capturingLogger()).onSend(record());
    assert.deepEqual(out, { topic: 'orders-audit', value: 'v+x', partition: 3 });
  });

  it('skips and logs an interceptor that throws; the record continues from the step before', () => {
    const log = capturingLogger();
    const chain = new ProducerInterceptors<string, string>([new Tag('a'), new Thrower(), new Tag('b')], log);
    assert.equal(chain.onSend(record()).value, 'v+a+b');
    assert.equal(log.entries.length, 1);
    const [e] = log.entries;
    assert.equal(e?.level, 'warn');
    assert.match(e?.message ?? '', /onSend threw/);
    assert.equal(e?.fields?.['interceptor'], 'Thrower');
    assert.equal(e?.fields?.['topic'], 'orders');
    assert.equal(e?.fields?.['error'], 'Error: onSend broke');
  });

  it('skips and logs an onSend that returns no record (nothing, a primitive, or a promise)', async () => {
    const log = capturingLogger();
    const interceptors: Interceptor<string, string>[] = [
      { onSend: () => undefined as unknown as Rec },
      { onSend: () => 'nope' as unknown as Rec },
      { onSend: () => ({ value: 'no topic' }) as unknown as Rec },
      { onSend: (async () => Promise.reject(new Error('async broke'))) as unknown as () => Rec },
      new Tag('ok'),
    ];
    const chain = new ProducerInterceptors(interceptors, log);
    assert.equal(chain.onSend(record()).value, 'v+ok');
    await new Promise<void>((resolve) => setImmediate(resolve));
    const warns = log.entries.filter((e) => e.level === 'warn');
    assert.deepEqual(
      warns.map((e) => e.fields?.['interceptor']),
      ['interceptor #0', 'interceptor #1', 'interceptor #2', 'interceptor #3', 'interceptor #3'],
    );
    assert.match(String(warns[0]?.fields?.['error']), /returned undefined/);
    assert.match(String(warns[1]?.fields?.['error']), /returned string/);
    assert.match(String(warns[3]?.fields?.['error']), /returned a promise/);
    // The async interceptor's rejection is logged, not left unhandled.
    assert.match(String(warns[4]?.fields?.['error']), /async broke/);
  });

  it('delivers acknowledgements to every interceptor even if one throws', () => {
    const log = capturingLogger();
    const first = new Recorder();
    const last = new Recorder();
    const chain = new ProducerInterceptors<string, string>(
      [first, new Thrower(), new Tag('no-ack'), last],
      log,
    );
    const err = new Error('failed');
    chain.onAcknowledgement(metadata, undefined);
    chain.onAcknowledgement(undefined, err);
    assert.deepEqual(first.acks, [
      [metadata, undefined],
      [undefined, err],
    ]);
    assert.deepEqual(last.acks, first.acks);
    assert.equal(log.entries.length, 2);
    assert.equal(log.entries[0]?.fields?.['interceptor'], 'Thrower');
    assert.equal(log.entries[0]?.fields?.['method'], 'onAcknowledgement');
    assert.equal(log.entries[0]?.fields?.['error'], 'Error: ack broke');
  });

  it('reports a send that failed before batching as an acknowledgement with offset -1', () => {
    const rec = new Recorder();
    const chain = new ProducerInterceptors<string, string>([rec, new Thrower()], capturingLogger());
    const err = new Error('serialization failed');
    chain.onSendError({ ...record(), partition: 4 }, undefined, err);
    chain.onSendError({ ...record(), partition: 5 }, -1, err);
    chain.onSendError(record(), 7, err);
    chain.onSendError(record(), undefined, err);
    chain.onSendError(undefined, undefined, err);
    const parts = rec.acks.map(([m]) => m?.partition);
    assert.deepEqual(parts, [4, 5, 7, -1, undefined]);
    const [m, e] = rec.acks[2]!;
    assert.deepEqual(m, {
      topic: 'orders',
      partition: 7,
      offset: -1,
      timestamp: -1,
      serializedKeySize: -1,
      serializedValueSize: -1,
    });
    assert.equal(e, err);
    assert.ok(Object.isFrozen(m));
  });

  it('closes every interceptor, logging the ones that throw', async () => {
    const log = capturingLogger();
    const a = new Recorder();
    const b = new Recorder();
    const asyncClose: Interceptor<string, string> = {
      close: (async () => {
        throw new Error('async close broke');
      }) as unknown as () => void,
    };
    new ProducerInterceptors<string, string>(
      [a, new Thrower(), asyncClose, b, new Tag('no-close')],
      log,
    ).close();
    assert.equal(a.closed, 1);
    assert.equal(b.closed, 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(
      log.entries.map((e) => [e.fields?.['interceptor'], e.fields?.['method'], e.fields?.['error']]),
      [
        ['Thrower', 'close', 'Error: close broke'],
        ['interceptor #2', 'close', 'Error: async close broke'],
      ],
    );
  });
});
