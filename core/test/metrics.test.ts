import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openTelemetryName, WindowedStat } from '../src/index.js';

// The windowed statistics behind the producer's rates, averages and maxima,
// checked against values worked out by hand from Java's sampled-stat rules:
// N samples of W ms; a new sample starts when the current one is W old;
// samples older than N x W are dropped before measuring; a rate divides by the
// time the samples cover, padded to at least N - 1 whole windows.

/** Equal up to floating-point rounding. */
function close(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

describe('WindowedStat', () => {
  it('averages, maxima and rates over two 1 s samples', () => {
    const s = new WindowedStat(1000, 2, 0);
    assert.ok(Number.isNaN(s.avg(0)), 'no value yet: NaN, as Java reports');
    assert.ok(Number.isNaN(s.max(0)));
    close(s.rate(0), 0);
    s.record(10, 0);
    s.record(20, 500);
    // 30 over 900 ms padded by one whole window: 30 / 1.9 s.
    close(s.rate(900), 30 / 1.9);
    close(s.countRate(900), 2 / 1.9);
    assert.equal(s.avg(900), 15);
    assert.equal(s.max(900), 20);
    s.record(5, 1200); // opens the second sample
    assert.equal(s.avg(1500), 35 / 3);
    assert.equal(s.max(1500), 20);
    // 1500 ms covered, one whole window already: no padding.
    close(s.rate(1500), 35 / 1.5);
    // At 2100 the first sample (started at 0) is older than 2 x 1 s: dropped.
    assert.equal(s.avg(2100), 5);
    assert.equal(s.max(2100), 5);
    close(s.rate(2100), 5 / 1.9);
    assert.equal(s.totalCount, 3);
    assert.equal(s.totalSum, 35);
    // Long after: everything has aged out of the window, totals stay.
    assert.ok(Number.isNaN(s.avg(10_000)));
    assert.equal(s.rate(10_000), 0);
    assert.equal(s.totalSum, 35);
  });

  it('keeps the configured number of samples', () => {
    const s = new WindowedStat(100, 4, 0);
    for (let t = 0; t < 400; t += 100) s.record(t, t); // one value per sample: 0, 100, 200, 300
    assert.equal(s.avg(399), 150);
    s.record(400, 400); // a fifth sample replaces the first
    assert.equal(s.avg(400), 250);
    assert.equal(s.max(400), 400);
  });
});

describe('openTelemetryName', () => {
  it('turns Kafka metric names into dotted instrument names', () => {
    assert.equal(openTelemetryName('record-send-rate'), 'kafka.producer.record.send.rate');
    assert.equal(
      openTelemetryName('bufferpool-wait-time-ns-total', 'app.'),
      'app.bufferpool.wait.time.ns.total',
    );
  });
});
