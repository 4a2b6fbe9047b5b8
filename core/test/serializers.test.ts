import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKafkaClientError, SerializationError } from '../src/errors.js';
import {
  BytesSerializer,
  DefaultSerializer,
  JsonSerializer,
  StringSerializer,
  serializeOrThrow,
} from '../src/producer/serializers.js';
import type { Serializer } from '../src/producer/types.js';

const utf8 = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('utf8'));
// Serializers are called with whatever the user passes at run time, typed or not.
const call = (s: Serializer<never>, data: unknown): Uint8Array | null =>
  (s as Serializer<unknown>).serialize('t', data, []);

describe('BytesSerializer', () => {
  const s = new BytesSerializer();

  it('passes bytes through without copying, and null as null', () => {
    const u = new Uint8Array([1, 2, 3]);
    const b = Buffer.from([4, 5]);
    assert.equal(s.serialize('t', u, []), u);
    assert.equal(s.serialize('t', b, []), b);
    assert.equal(s.serialize('t', null, []), null);
  });

  it('throws a TypeError for anything else', () => {
    for (const bad of ['text', 7, {}, [1, 2], new ArrayBuffer(2), undefined]) {
      assert.throws(() => call(s, bad), TypeError);
    }
    assert.throws(() => call(s, 'x'), /BytesSerializer expects a Uint8Array, a Buffer or null, got a string/);
  });
});

describe('StringSerializer', () => {
  const s = new StringSerializer();

  it('encodes UTF-8; null stays null', () => {
    assert.deepEqual([...s.serialize('t', 'héllo €', [])!], [...Buffer.from('héllo €', 'utf8')]);
    assert.equal(s.serialize('t', '', [])?.length, 0);
    assert.equal(s.serialize('t', null, []), null);
  });

  it('throws a TypeError for non-strings', () => {
    assert.throws(() => call(s, 42), /StringSerializer expects a string or null, got a number/);
    assert.throws(() => call(s, Buffer.from('x')), /got a Buffer/);
    assert.throws(() => call(s, undefined), TypeError);
  });
});

describe('JsonSerializer', () => {
  const s = new JsonSerializer();

  it('writes JSON as UTF-8', () => {
    assert.equal(
      utf8(s.serialize('t', { a: 1, b: ['x', null], c: 'é' }, [])),
      '{"a":1,"b":["x",null],"c":"é"}',
    );
    assert.equal(utf8(s.serialize('t', 'str', [])), '"str"');
    assert.equal(utf8(s.serialize('t', 0, [])), '0');
    assert.equal(utf8(s.serialize('t', false, [])), 'false');
  });

  it('makes null a tombstone, not the text "null"', () => {
    assert.equal(s.serialize('t', null, []), null);
  });

  it('throws for undefined and what JSON cannot represent', () => {
    assert.throws(() => s.serialize('t', undefined, []), /JsonSerializer cannot serialize undefined/);
    assert.throws(() => s.serialize('t', () => 1, []), TypeError);
    assert.throws(() => s.serialize('t', Symbol('x'), []), TypeError);
    assert.throws(() => s.serialize('t', 10n, []), TypeError);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    assert.throws(() => s.serialize('t', cycle, []), TypeError);
  });
});

describe('DefaultSerializer', () => {
  const s = new DefaultSerializer();

  it('takes bytes as they are, strings as UTF-8, null as null', () => {
    const u = new Uint8Array([9]);
    assert.equal(s.serialize('t', u, []), u);
    assert.equal(utf8(s.serialize('t', 'key-1', [])), 'key-1');
    assert.equal(s.serialize('t', null, []), null);
  });

  it('tells the user to configure a serializer for anything else', () => {
    for (const bad of [{ id: 1 }, 12, true, undefined, new Date(0)]) {
      assert.throws(
        () => call(s, bad),
        (e: unknown) =>
          e instanceof TypeError && /configure a keySerializer or valueSerializer/.test(e.message),
      );
    }
    assert.throws(() => call(s, { id: 1 }), /got an object/);
    assert.throws(() => call(s, new Date(0)), /got a Date/);
  });
});

describe('serializeOrThrow', () => {
  it('returns what the serializer produced', () => {
    const headers = [{ key: 'h', value: null }];
    let seen: unknown[] = [];
    const spy: Serializer = {
      serialize(topic, data, h) {
        seen = [topic, data, h];
        return Buffer.from('ok');
      },
    };
    assert.equal(utf8(serializeOrThrow(spy, 'Spy', 'orders', 5, headers, 'value')), 'ok');
    assert.deepEqual(seen, ['orders', 5, headers]);
    assert.equal(
      serializeOrThrow(new StringSerializer(), 'StringSerializer', 'orders', null, [], 'value'),
      null,
    );
  });

  it('passes an absent key to the serializer as null', () => {
    const json = new JsonSerializer();
    assert.equal(serializeOrThrow(json, 'JsonSerializer', 'orders', undefined, [], 'key'), null);
    // An undefined value is a mistake, not a tombstone.
    assert.throws(
      () => serializeOrThrow(json, 'JsonSerializer', 'orders', undefined, [], 'value'),
      SerializationError,
    );
  });

  it('wraps a throw in a SerializationError naming topic, key/value and serializer, with the cause', () => {
    const cause = new TypeError('boom');
    const failing: Serializer = {
      serialize() {
        throw cause;
      },
    };
    assert.throws(
      () => serializeOrThrow(failing, 'AvroSerializer', 'orders', { a: 1 }, [], 'key'),
      (e: unknown) => {
        assert.ok(e instanceof SerializationError);
        assert.ok(isKafkaClientError(e));
        assert.equal(e.code, 'SERIALIZATION_ERROR');
        assert.equal(e.retriable, false);
        assert.equal(e.cause, cause);
        assert.match(e.message, /the key of a record for topic "orders" with AvroSerializer: boom/);
        return true;
      },
    );
  });

  it('wraps a thrown non-Error too', () => {
    const failing: Serializer = {
      serialize() {
        throw 'plain string';
      },
    };
    assert.throws(
      () => serializeOrThrow(failing, 'Odd', 't', 1, [], 'value'),
      (e: unknown) =>
        e instanceof SerializationError && e.cause === 'plain string' && /plain string/.test(e.message),
    );
  });

  it('rejects a result that is neither bytes nor null', () => {
    for (const [result, described] of [
      ['text', 'a string'],
      [undefined, 'undefined'],
      [[1, 2], 'an array'],
      [new ArrayBuffer(1), 'an ArrayBuffer'],
    ] as const) {
      const bad = { serialize: () => result } as unknown as Serializer;
      assert.throws(
        () => serializeOrThrow(bad, 'BadSerializer', 'orders', 1, [], 'value'),
        (e: unknown) => {
          assert.ok(e instanceof SerializationError);
          assert.ok(e.cause instanceof TypeError);
          assert.match(e.message, /the value of a record for topic "orders" with BadSerializer/);
          assert.ok(e.message.includes(`returned ${described}, not a Uint8Array or null`), e.message);
          return true;
        },
      );
    }
  });

  it('wraps the built-in serializers\u2019 TypeErrors', () => {
    assert.throws(
      () => serializeOrThrow(new DefaultSerializer(), 'DefaultSerializer', 'orders', { id: 1 }, [], 'value'),
      (e: unknown) =>
        e instanceof SerializationError &&
        e.cause instanceof TypeError &&
        /configure a keySerializer/.test(e.message),
    );
  });
});
