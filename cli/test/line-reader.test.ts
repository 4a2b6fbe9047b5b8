import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { type LineSink, readLines } from '../src/line-reader.js';
import { InputError, RecordParser } from '../src/record-parser.js';

class Collect implements LineSink {
  stopping = false;
  readonly lines: string[] = [];
  readonly tooLongAt: number[] = [];
  full = false;
  #wake: (() => void) | undefined;
  mustWait(): boolean {
    return this.full;
  }
  room(): Promise<void> {
    return new Promise((r) => (this.#wake = r));
  }
  release(): void {
    this.full = false;
    this.#wake?.();
  }
  line(line: Buffer, _source: string, n: number): void {
    this.lines.push(`${n}:${line.toString('latin1')}`);
  }
  tooLong(_source: string, n: number): void {
    this.tooLongAt.push(n);
  }
}

function chunks(parts: Array<string | Buffer>): Readable {
  return Readable.from(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)),
    { objectMode: false },
  );
}

describe('readLines', () => {
  it('splits lines across chunk boundaries, keeps bytes, numbers lines, takes a last line without \\n', async () => {
    const sink = new Collect();
    const end = await readLines(chunks(['a\nb', 'c\r\n\n', 'd\xff', '', 'e\nlast']), 'in', sink, 100);
    assert.equal(end, 'eof');
    assert.deepEqual(sink.lines, ['1:a', '2:bc\r', '3:', '4:d\xffe', '5:last']);
  });

  it('drops a line longer than the limit without buffering it, and goes on', async () => {
    const sink = new Collect();
    const long = 'x'.repeat(40);
    await readLines(
      chunks(['ok\n', long, long, long, '\nnext\n', `${'y'.repeat(60)}\n${long}\n`]),
      'in',
      sink,
      50,
    );
    assert.deepEqual(sink.lines, ['1:ok', '3:next', `5:${long}`]);
    assert.deepEqual(sink.tooLongAt, [2, 4]);
  });

  it('stops pulling the stream while the sink is full', async () => {
    let pulled = 0;
    const total = 1000;
    const stream = new Readable({
      highWaterMark: 16,
      read() {
        pulled++;
        this.push(pulled <= total ? Buffer.from(`line ${pulled}\n`) : null);
      },
    });
    const sink = new Collect();
    sink.full = true;
    const done = readLines(stream, 'in', sink, 100);
    await new Promise((r) => setTimeout(r, 50));
    // Blocked before the first line: only the stream's own small read-ahead happened.
    assert.ok(pulled < 20, `pulled ${pulled} chunks while the sink was full`);
    assert.equal(sink.lines.length, 0);
    sink.release();
    assert.equal(await done, 'eof');
    assert.equal(sink.lines.length, total);
  });

  it('returns "stopped" once the sink stops, without handing over more lines', async () => {
    const sink = new Collect();
    sink.full = true;
    const done = readLines(chunks(['a\nb\nc\n']), 'in', sink, 100);
    await new Promise((r) => setTimeout(r, 10));
    sink.stopping = true;
    sink.release();
    assert.equal(await done, 'stopped');
    assert.deepEqual(sink.lines, []);
  });
});

describe('RecordParser', () => {
  const base = { topic: 't', headers: [] as Array<[string, Buffer | null]>, codec: undefined };

  it('lines: splits the key at the first delimiter; no delimiter means no key', () => {
    const p = new RecordParser({ ...base, format: 'lines', keyDelimiter: Buffer.from('::') });
    const r = p.parse(Buffer.from('k::v::w'));
    assert.deepEqual([String(r?.key), String(r?.value)], ['k', 'v::w']);
    const n = p.parse(Buffer.from('just a value'));
    assert.equal(n?.key, null);
    assert.equal(String(n?.value), 'just a value');
  });

  it('jsonl: reads every field and refuses what it does not know', () => {
    const p = new RecordParser({
      ...base,
      format: 'jsonl',
      keyDelimiter: undefined,
      headers: [['static', Buffer.from('1')]],
    });
    const r = p.parse(
      Buffer.from('{"key":"k","value":{"a":1},"headers":{"h":"v","n":null},"partition":2,"timestamp":5}'),
    );
    assert.equal(r?.key, 'k');
    assert.equal(r?.value, '{"a":1}');
    assert.deepEqual(r?.headers, [
      ['static', Buffer.from('1')],
      ['h', 'v'],
      ['n', null],
    ]);
    assert.equal(r?.partition, 2);
    assert.equal(r?.timestamp, 5);
    assert.equal(p.parse(Buffer.from('   ')), undefined, 'blank lines are skipped');
    for (const [line, why] of [
      ['{"value":1', /not valid JSON/],
      ['[1]', /expected a JSON object/],
      ['{"key":"k"}', /no "value"/],
      ['{"value":"v","extra":1}', /unknown field "extra"/],
      ['{"value":"v","partition":-1}', /"partition" must be an integer >= 0/],
      ['{"value":"v","timestamp":"now"}', /"timestamp" must be milliseconds/],
      ['{"value":"v","headers":{"h":1}}', /header "h" must be a string or null/],
      ['{"value":"v","headers":"h"}', /"headers" must be an object/],
    ] as const) {
      assert.throws(
        () => p.parse(Buffer.from(line)),
        (err: unknown) => {
          assert.ok(err instanceof InputError);
          assert.match(err.message, why);
          return true;
        },
      );
    }
  });
});
