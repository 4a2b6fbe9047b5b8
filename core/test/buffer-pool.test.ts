import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { BufferExhaustedError, IllegalStateError, isKafkaClientError } from '../src/errors.js';
import { DefaultBufferPool } from '../src/producer/buffer-pool.js';
import { mulberry32 } from './prng.js';

const K = 1024;

/** Lets queued microtasks (the pool's drain, promise continuations) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Tracks a promise's outcome without awaiting it. */
function track<T>(p: Promise<T>): { value: T | undefined; error: unknown; done: boolean } {
  const state: { value: T | undefined; error: unknown; done: boolean } = {
    value: undefined,
    error: undefined,
    done: false,
  };
  p.then(
    (v) => {
      state.value = v;
      state.done = true;
    },
    (e: unknown) => {
      state.error = e;
      state.done = true;
    },
  );
  return state;
}

function take(pool: DefaultBufferPool, size: number): Buffer {
  const b = pool.tryAllocate(size);
  assert.ok(b, `expected ${size} bytes to be available`);
  return b;
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('DefaultBufferPool', () => {
  describe('without waiting', () => {
    it('reuses buffers of the poolable size: the same object comes back', () => {
      const pool = new DefaultBufferPool(4 * K, K);
      const a = take(pool, K);
      assert.equal(a.length, K);
      assert.equal(pool.availableMemory, 3 * K);
      pool.deallocate(a);
      assert.equal(pool.availableMemory, 4 * K);
      const b = take(pool, K);
      assert.equal(b, a);
      assert.equal(pool.availableMemory, 3 * K);
    });

    it('accounts other sizes without pooling them', () => {
      const pool = new DefaultBufferPool(4 * K, K);
      const a = take(pool, 100);
      const b = take(pool, 2 * K + 1);
      assert.equal(a.length, 100);
      assert.equal(b.length, 2 * K + 1);
      assert.equal(pool.availableMemory, 4 * K - 100 - (2 * K + 1));
      pool.deallocate(a);
      pool.deallocate(b);
      assert.equal(pool.availableMemory, 4 * K);
      const c = take(pool, 100);
      assert.notEqual(c, a);
      assert.equal(pool.availableMemory, 4 * K - 100);
    });

    it('gives each buffer its own memory, not a slice of a shared slab', () => {
      const pool = new DefaultBufferPool(4 * K, 64);
      const a = take(pool, 64);
      assert.equal(a.byteOffset, 0);
      assert.equal(a.buffer.byteLength, 64);
    });

    it('returns null when the memory is not free, and allocates what fits', () => {
      const pool = new DefaultBufferPool(2 * K, K);
      const a = take(pool, K);
      take(pool, 1000);
      assert.equal(pool.tryAllocate(K), null);
      assert.equal(pool.availableMemory, K - 1000);
      pool.deallocate(a);
      assert.ok(pool.tryAllocate(K));
    });

    it('rejects a size over totalMemory (or not a size at all) with a RangeError', async () => {
      const pool = new DefaultBufferPool(4 * K, K);
      assert.throws(
        () => pool.tryAllocate(4 * K + 1),
        (e: unknown) => {
          assert.ok(e instanceof RangeError);
          assert.match(e.message, /4097 bytes.*4096 bytes \(bufferMemory\)/);
          return true;
        },
      );
      assert.throws(() => pool.tryAllocate(-1), RangeError);
      assert.throws(() => pool.tryAllocate(1.5), RangeError);
      assert.throws(() => pool.tryAllocate(Number.NaN), RangeError);
      await assert.rejects(pool.allocate(4 * K + 1, 1000), RangeError);
      assert.equal(pool.availableMemory, 4 * K);
      assert.ok(pool.tryAllocate(4 * K), 'exactly totalMemory is allowed');
    });

    it('drops free-list buffers to satisfy a larger request', () => {
      const pool = new DefaultBufferPool(4 * K, K);
      const bufs = [take(pool, K), take(pool, K), take(pool, K), take(pool, K)];
      for (const b of bufs) pool.deallocate(b);
      assert.equal(pool.availableMemory, 4 * K);
      const big = take(pool, 3000); // needs three of the four free buffers
      assert.equal(big.length, 3000);
      assert.equal(pool.availableMemory, 4 * K - 3000);
      const small = take(pool, K); // the one left on the free list
      assert.ok(bufs.includes(small));
      assert.equal(pool.availableMemory, 4 * K - 3000 - K);
      pool.deallocate(big);
      pool.deallocate(small);
      assert.equal(pool.availableMemory, 4 * K);
    });

    it('never pools empty buffers (batchSize 0)', () => {
      const pool = new DefaultBufferPool(K, 0);
      for (let i = 0; i < 3; i++) pool.deallocate(take(pool, 0));
      assert.equal(pool.availableMemory, K);
      pool.deallocate(take(pool, 100));
      assert.equal(pool.availableMemory, K);
    });

    it('refuses a deallocate that would exceed totalMemory (returned twice)', () => {
      const pool = new DefaultBufferPool(2 * K, K);
      const a = take(pool, 100);
      pool.deallocate(a);
      assert.throws(
        () => pool.deallocate(a),
        (e: unknown) => {
          assert.ok(e instanceof IllegalStateError);
          assert.match(e.message, /returned twice/);
          return true;
        },
      );
      assert.equal(pool.availableMemory, 2 * K);
    });
  });

  describe('waiting', () => {
    beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
    afterEach(() => mock.timers.reset());

    it('resolves at once when memory is free and nobody waits', async () => {
      const pool = new DefaultBufferPool(2 * K, K);
      const a = await pool.allocate(K, 1000);
      assert.equal(a.length, K);
      assert.equal(pool.queued, 0);
    });

    it('serves waiters first-in first-out; a large head holds back smaller ones', async () => {
      const pool = new DefaultBufferPool(3 * K, K);
      const held = [take(pool, K), take(pool, K), take(pool, K)];
      const order: string[] = [];
      const big = pool.allocate(2 * K, 10_000).then((b) => {
        order.push('big');
        return b;
      });
      const small1 = pool.allocate(K, 10_000).then((b) => {
        order.push('small1');
        return b;
      });
      const small2 = pool.allocate(100, 10_000).then((b) => {
        order.push('small2');
        return b;
      });
      assert.equal(pool.queued, 3);

      pool.deallocate(held[0]!);
      // Woken in a microtask, never inside deallocate.
      assert.equal(pool.queued, 3);
      assert.equal(pool.availableMemory, K);
      await settle();
      // The head reserved that buffer's memory; the small waiters behind it get nothing.
      assert.deepEqual(order, []);
      assert.equal(pool.queued, 3);
      assert.equal(pool.availableMemory, 0);
      // Free memory exists now, but tryAllocate yields to the waiters.
      pool.deallocate(held[1]!);
      assert.equal(pool.tryAllocate(100), null);

      await settle();
      assert.deepEqual(order, ['big']);
      assert.equal((await big).length, 2 * K);
      assert.equal(pool.queued, 2);

      pool.deallocate(held[2]!);
      await settle();
      assert.deepEqual(order, ['big', 'small1']);
      // small1 took the whole buffer; small2 is still queued.
      assert.equal(pool.queued, 1);
      pool.deallocate(await small1);
      await settle();
      assert.deepEqual(order, ['big', 'small1', 'small2']);
      assert.equal((await small2).length, 100);
      assert.equal(pool.queued, 0);
      assert.equal(pool.availableMemory, K - 100);
    });

    it('hands a freed poolable buffer straight to a poolable-size waiter', async () => {
      const pool = new DefaultBufferPool(2 * K, K);
      const a = take(pool, K);
      take(pool, K);
      const waiting = pool.allocate(K, 1000);
      pool.deallocate(a);
      assert.equal(await waiting, a);
    });

    it('times out with BufferExhaustedError, returns the reservation and serves the next waiter', async () => {
      const pool = new DefaultBufferPool(3 * K, K);
      const held = [take(pool, K), take(pool, K), take(pool, K)];
      const big = track(pool.allocate(3 * K, 100));
      const small = track(pool.allocate(K, 10_000));
      pool.deallocate(held[0]!);
      await settle();
      assert.equal(pool.availableMemory, 0, 'the head reserved the freed buffer');
      assert.equal(big.done, false);

      mock.timers.tick(99);
      await settle();
      assert.equal(big.done, false);
      mock.timers.tick(1);
      await settle();

      assert.equal(big.done, true);
      const err = big.error;
      assert.ok(err instanceof BufferExhaustedError);
      assert.ok(isKafkaClientError(err));
      assert.equal(err.code, 'BUFFER_EXHAUSTED');
      assert.equal(err.retriable, true);
      assert.match(err.message, /Failed to allocate 3072 bytes/);
      assert.match(err.message, /max blocking time 100 ms/);
      assert.match(err.message, /Total memory: 3072 bytes/);
      assert.match(err.message, /Available memory: 1024 bytes/);

      // The returned kilobyte went to the waiter behind it.
      assert.equal(small.done, true);
      assert.equal(small.value?.length, K);
      assert.equal(pool.queued, 0);
      assert.equal(pool.availableMemory, 0);
      pool.deallocate(small.value!);
      pool.deallocate(held[1]!);
      pool.deallocate(held[2]!);
      assert.equal(pool.availableMemory, 3 * K);
    });

    it('fails at once when maxBlockMs is 0 and memory is short', async () => {
      const pool = new DefaultBufferPool(K, K);
      take(pool, K);
      await assert.rejects(pool.allocate(K, 0), BufferExhaustedError);
      assert.equal(pool.queued, 0);
    });

    it('keeps waiting past the largest setTimeout delay', async () => {
      const pool = new DefaultBufferPool(K, K);
      const held = take(pool, K);
      const waiting = track(pool.allocate(K, 2 ** 31 + 5_000));
      mock.timers.tick(2 ** 31 - 1);
      await settle();
      assert.equal(waiting.done, false);
      mock.timers.tick(5_000);
      await settle();
      assert.equal(waiting.done, false);
      mock.timers.tick(1);
      await settle();
      assert.ok(waiting.error instanceof BufferExhaustedError);
      pool.deallocate(held);
      assert.equal(pool.availableMemory, K);
    });

    it('close() rejects every waiter with IllegalStateError and fails later allocations', async () => {
      const pool = new DefaultBufferPool(2 * K, K);
      const held = [take(pool, K), take(pool, K)];
      const a = track(pool.allocate(2 * K, 10_000));
      const b = track(pool.allocate(100, 10_000));
      pool.deallocate(held[0]!);
      await settle();
      assert.equal(pool.availableMemory, 0);

      pool.close();
      await settle();
      for (const w of [a, b]) {
        assert.ok(w.error instanceof IllegalStateError);
        assert.equal(w.error.code, 'ILLEGAL_STATE');
        assert.match(w.error.message, /the producer is closing/);
      }
      assert.equal(pool.queued, 0);
      assert.equal(pool.availableMemory, K, 'the partial reservation came back');

      assert.throws(() => pool.tryAllocate(10), IllegalStateError);
      await assert.rejects(pool.allocate(10, 1000), IllegalStateError);
      // In-flight batches still give their memory back.
      pool.deallocate(held[1]!);
      assert.equal(pool.availableMemory, 2 * K);
      pool.close(); // idempotent
    });

    it('stays consistent through a randomized sequence (seeded)', async () => {
      for (const seed of [1, 42, 20240607]) {
        const rand = mulberry32(seed);
        const total = 16 * K;
        const pool = new DefaultBufferPool(total, K);
        const inUse: Buffer[] = [];
        const pending: { state: ReturnType<typeof track<Buffer>>; collected: boolean }[] = [];
        const size = (): number => (rand() < 0.5 ? K : 1 + Math.floor(rand() * 6 * K));
        const check = (): void => {
          assert.ok(pool.availableMemory >= 0, `seed ${seed}: availableMemory ${pool.availableMemory} < 0`);
          assert.ok(pool.availableMemory <= total);
          if (pool.queued === 0) {
            let used = 0;
            for (const b of inUse) used += b.length;
            assert.equal(pool.availableMemory + used, total, `seed ${seed}: memory leaked or doubled`);
          }
        };
        const collect = (): void => {
          for (const p of pending) {
            if (p.collected || !p.state.done) continue;
            p.collected = true;
            if (p.state.value) inUse.push(p.state.value);
            else assert.ok(p.state.error instanceof BufferExhaustedError, String(p.state.error));
          }
        };

        for (let step = 0; step < 2000; step++) {
          const r = rand();
          if (r < 0.35) {
            const b = pool.tryAllocate(size());
            if (b) inUse.push(b);
          } else if (r < 0.55) {
            pending.push({
              state: track(pool.allocate(size(), 1 + Math.floor(rand() * 50))),
              collected: false,
            });
          } else if (r < 0.9) {
            if (inUse.length > 0) {
              const i = Math.floor(rand() * inUse.length);
              const [b] = inUse.splice(i, 1);
              pool.deallocate(b!);
            }
          } else {
            mock.timers.tick(Math.floor(rand() * 30));
          }
          await settle();
          collect();
          check();
        }

        // Wind down: return everything until no waiter is left, then everything they got.
        for (let guard = 0; guard < 10_000 && (pool.queued > 0 || inUse.length > 0); guard++) {
          const b = inUse.pop();
          if (b) pool.deallocate(b);
          else mock.timers.tick(50);
          await settle();
          collect();
          check();
        }
        assert.equal(pool.queued, 0);
        assert.equal(inUse.length, 0);
        assert.equal(pool.availableMemory, total, `seed ${seed}`);
      }
    });
  });

  describe('timers', () => {
    it('leaves no timer behind when a waiter is served, times out or is closed', async () => {
      const baseline = timeouts();
      const pool = new DefaultBufferPool(K, K);
      const held = take(pool, K);

      const served = pool.allocate(K, 60_000);
      assert.equal(timeouts(), baseline + 1);
      pool.deallocate(held);
      const b = await served;
      assert.equal(timeouts(), baseline);

      await assert.rejects(pool.allocate(K, 1), BufferExhaustedError);
      assert.equal(timeouts(), baseline);

      const closed = pool.allocate(K, 60_000);
      assert.equal(timeouts(), baseline + 1);
      pool.close();
      await assert.rejects(closed, IllegalStateError);
      assert.equal(timeouts(), baseline);
      pool.deallocate(b);
    });
  });
});
