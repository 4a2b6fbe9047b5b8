import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionForKey } from '@tributary/core';
import { FieldPartitioner } from '../src/index.js';
import { clusterWith, led } from './helpers.js';

describe('FieldPartitioner', () => {
  const cluster = clusterWith({ orders: led(12) });
  const byCustomer = new FieldPartitioner((_k, v) => (v as { customer?: string } | null)?.customer);

  it('places a record by the field, hashed as Kafka hashes keys', () => {
    for (const customer of ['c-1', 'c-2', 'ünïcødé', '']) {
      assert.equal(
        byCustomer.partition('orders', 'ignored key', null, { customer }, null, cluster),
        partitionForKey(Buffer.from(customer), 12),
      );
    }
  });

  it('keeps one field value on one partition whatever the key', () => {
    const ps = new Set(
      ['a', 'b', 'c', null].map((k) =>
        byCustomer.partition('orders', k, null, { customer: 'same' }, null, cluster),
      ),
    );
    assert.equal(ps.size, 1);
  });

  it('leaves records without the field to the default (-1), and unknown topics too', () => {
    assert.equal(byCustomer.partition('orders', 'k', null, { other: 1 }, null, cluster), -1);
    assert.equal(byCustomer.partition('orders', 'k', null, null, null, cluster), -1);
    assert.equal(byCustomer.partition('unknown', 'k', null, { customer: 'x' }, null, cluster), -1);
  });

  it('accepts bytes', () => {
    const raw = new FieldPartitioner(() => Uint8Array.of(1, 2, 3));
    assert.equal(
      raw.partition('orders', null, null, null, null, cluster),
      partitionForKey(Uint8Array.of(1, 2, 3), 12),
    );
  });
});
