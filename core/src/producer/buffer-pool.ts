import { BufferExhaustedError, IllegalStateError } from '../errors.js';
import type { BufferPool } from './types.js';

/** setTimeout's largest delay (about 24.8 days); a longer one would fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** One `allocate` that found too little memory and is queued for more. */
interface Waiter {
  readonly size: number;
  readonly maxBlockMs: number;
  /** Wait still to come after the current timer fires: > 0 only for waits longer than MAX_TIMER_MS. */
  remainingMs: number;
  /** Bytes already reserved for this waiter (Java's `accumulated`); returned if it times out or the pool closes. */
  accumulated: number;
  /** A free-list buffer handed over whole (only when `size === poolableSize`). */
  buffer: Buffer | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve: (buffer: Buffer) => void;
  reject: (err: Error) => void;
}

/**
 * Memory for record batches: `totalMemory` bytes (`bufferMemory`) in all, with
 * buffers of exactly `poolableSize` bytes (`batchSize`) kept on a free list
 * and reused, as in the Java client's `BufferPool`.
 *
 * Accounting: `availableMemory` = never-allocated (non-pooled) bytes + the
 * free list. Buffers of other sizes are counted while in use and left to the
 * GC on `deallocate`; free-list buffers are dropped, newest first, when a
 * request needs more than the non-pooled memory alone.
 *
 * Fairness: waiters are served strictly first-in first-out. The head waiter
 * reserves memory as it is returned until it has all it asked for, so a large
 * request at the head holds back smaller ones behind it (Java does the same:
 * without this a stream of small batches could starve a large one).
 * `tryAllocate` yields to any waiter. A waiter that times out or is failed by
 * `close()` gives its partial reservation back.
 *
 * Buffers are not zeroed: the batch builder overwrites what it uses. They are
 * made with `Buffer.allocUnsafeSlow`, so each owns its memory rather than a
 * slice of Node's shared 8 KiB slab, which a long-lived pooled buffer would
 * otherwise pin. `deallocate` must get back the very buffer `allocate` gave
 * (its `length` is what gets returned), not a view of it.
 */
export class DefaultBufferPool implements BufferPool {
  readonly #totalMemory: number;
  readonly #poolableSize: number;
  /** Free buffers of exactly `poolableSize`; used and dropped from the end (LIFO: the most recently used is warmest). */
  readonly #free: Buffer[] = [];
  /** Bytes neither in use, nor reserved by a waiter, nor on the free list. */
  #nonPooledAvailable: number;
  /** FIFO. Waiters are rare and bounded by the callers blocked in send(), so an array with shift/splice is fine. */
  readonly #waiters: Waiter[] = [];
  #drainScheduled = false;
  #closed = false;
  // Bound once so scheduling a drain or a waiter timeout allocates no closure.
  readonly #drain = (): void => this.#serveWaiters();
  readonly #expire = (waiter: Waiter): void => this.#timeOut(waiter);

  constructor(totalMemory: number, poolableSize: number) {
    if (!Number.isSafeInteger(totalMemory) || totalMemory < 0) {
      throw new RangeError(`totalMemory must be a non-negative integer, got ${totalMemory}`);
    }
    if (!Number.isSafeInteger(poolableSize) || poolableSize < 0) {
      throw new RangeError(`poolableSize must be a non-negative integer, got ${poolableSize}`);
    }
    this.#totalMemory = totalMemory;
    this.#poolableSize = poolableSize;
    this.#nonPooledAvailable = totalMemory;
  }

  get totalMemory(): number {
    return this.#totalMemory;
  }

  /** Bytes not in use: never allocated plus the free list. Memory reserved by a waiter is not available. */
  get availableMemory(): number {
    return this.#nonPooledAvailable + this.#free.length * this.#poolableSize;
  }

  get poolableSize(): number {
    return this.#poolableSize;
  }

  /** Allocations waiting for memory. */
  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * A buffer of `size` bytes if the memory is free now and nobody is waiting,
   * else null (then call `allocate`). Throws IllegalStateError after `close()`,
   * RangeError if `size` exceeds `totalMemory` (it could never be satisfied).
   */
  tryAllocate(size: number): Buffer | null {
    this.#checkSize(size);
    if (this.#closed)
      throw new IllegalStateError('the producer is closing: buffer memory can no longer be allocated');
    if (this.#waiters.length > 0) return null;
    return this.#takeNow(size);
  }

  /**
   * A buffer of `size` bytes, waiting up to `maxBlockMs` behind earlier
   * waiters for memory to be deallocated. Rejects with BufferExhaustedError
   * when the wait runs out, IllegalStateError if the pool is or becomes
   * closed, RangeError if `size` exceeds `totalMemory`.
   */
  allocate(size: number, maxBlockMs: number): Promise<Buffer> {
    try {
      this.#checkSize(size);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#waiters.length === 0) {
      const buffer = this.#takeNow(size);
      if (buffer !== null) return Promise.resolve(buffer);
    }
    if (!(maxBlockMs > 0)) return Promise.reject(this.#exhaustedError(size, maxBlockMs));

    return new Promise<Buffer>((resolve, reject) => {
      const waiter: Waiter = {
        size,
        maxBlockMs,
        remainingMs: maxBlockMs > MAX_TIMER_MS ? maxBlockMs - MAX_TIMER_MS : 0,
        accumulated: 0,
        buffer: undefined,
        timer: undefined,
        resolve,
        reject,
      };
      // Stays referenced: a caller blocked in send() must get its answer even if nothing else keeps the loop alive.
      waiter.timer = setTimeout(this.#expire, Math.min(maxBlockMs, MAX_TIMER_MS), waiter);
      this.#waiters.push(waiter);
      // If it is the only waiter, memory that is already free counts towards it at once (Java reserves it on
      // its first wake-up, which comes with the next deallocate: same outcome, since nothing else may take it).
      if (this.#waiters.length === 1) this.#scheduleDrain();
    });
  }

  /**
   * Returns a buffer's memory. A buffer of exactly `poolableSize` goes on the
   * free list; any other size is counted as free and left to the GC. Waiters
   * are served in a microtask, never synchronously here, so the caller's own
   * state is consistent before another allocation's continuation runs.
   * Allowed after `close()` (in-flight batches still complete).
   */
  deallocate(buffer: Buffer): void {
    const size = buffer.length;
    // Cheap guard against a double or foreign deallocate, which would silently lift the memory bound.
    // (It cannot catch every such bug: memory reserved by waiters is not counted here.)
    if (this.availableMemory + size > this.#totalMemory) {
      throw new IllegalStateError(
        `deallocate of ${size} bytes would make available memory exceed totalMemory (${this.#totalMemory}): ` +
          'a buffer was returned twice or did not come from this pool',
      );
    }
    // A poolable size of 0 (batchSize=0) is never pooled: empty buffers would grow the free list without bound.
    if (size === this.#poolableSize && size > 0) this.#free.push(buffer);
    else this.#nonPooledAvailable += size;
    if (this.#waiters.length > 0) this.#scheduleDrain();
  }

  /** Fails every waiter with IllegalStateError; later allocations fail at once. Deallocation still works. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiters = this.#waiters.splice(0);
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i] as Waiter;
      this.#release(w);
      w.reject(this.#closedError());
    }
  }

  #checkSize(size: number): void {
    if (!(size >= 0 && size <= this.#totalMemory) || !Number.isInteger(size)) {
      throw new RangeError(
        `cannot allocate ${size} bytes from a buffer pool of ${this.#totalMemory} bytes (bufferMemory): ` +
          'the size must be an integer from 0 to bufferMemory',
      );
    }
  }

  /** The allocation if the memory is available now; callers have already checked that nobody waits. */
  #takeNow(size: number): Buffer | null {
    if (size === this.#poolableSize && this.#free.length > 0) return this.#free.pop() as Buffer;
    if (this.#nonPooledAvailable + this.#free.length * this.#poolableSize < size) return null;
    this.#freeUp(size);
    this.#nonPooledAvailable -= size;
    return Buffer.allocUnsafeSlow(size);
  }

  /** Drops free-list buffers (to the GC) until the non-pooled memory covers `size`, or the free list is empty. */
  #freeUp(size: number): void {
    while (this.#nonPooledAvailable < size && this.#free.length > 0) {
      this.#free.pop();
      this.#nonPooledAvailable += this.#poolableSize;
    }
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(this.#drain);
  }

  /** Gives memory to waiters in order; stops at the first one that cannot be completed. */
  #serveWaiters(): void {
    this.#drainScheduled = false;
    while (this.#waiters.length > 0) {
      const w = this.#waiters[0] as Waiter;
      if (w.accumulated === 0 && w.size === this.#poolableSize && this.#free.length > 0) {
        w.buffer = this.#free.pop() as Buffer;
        w.accumulated = w.size;
      } else {
        const need = w.size - w.accumulated;
        this.#freeUp(need);
        const got = Math.min(need, this.#nonPooledAvailable);
        this.#nonPooledAvailable -= got;
        w.accumulated += got;
      }
      if (w.accumulated < w.size) return;
      this.#waiters.shift();
      clearTimeout(w.timer);
      w.timer = undefined;
      w.resolve(w.buffer ?? Buffer.allocUnsafeSlow(w.size));
    }
  }

  #timeOut(w: Waiter): void {
    w.timer = undefined;
    const i = this.#waiters.indexOf(w);
    if (i < 0) return; // already served or failed
    if (w.remainingMs > 0) {
      // Infinity stays Infinity: wait for ever.
      const next = Math.min(w.remainingMs, MAX_TIMER_MS);
      w.remainingMs -= next;
      w.timer = setTimeout(this.#expire, next, w);
      return;
    }
    this.#waiters.splice(i, 1);
    this.#release(w);
    w.reject(this.#exhaustedError(w.size, w.maxBlockMs));
    // The new head may be satisfiable now, with the memory this waiter held or that it held back.
    if (this.#waiters.length > 0) this.#scheduleDrain();
  }

  /** Returns a failed waiter's partial reservation (or its free-list buffer) and stops its timer. */
  #release(w: Waiter): void {
    if (w.timer !== undefined) {
      clearTimeout(w.timer);
      w.timer = undefined;
    }
    if (w.buffer !== undefined) this.#free.push(w.buffer);
    else this.#nonPooledAvailable += w.accumulated;
    w.buffer = undefined;
    w.accumulated = 0;
  }

  #exhaustedError(size: number, maxBlockMs: number): BufferExhaustedError {
    return new BufferExhaustedError(
      `Failed to allocate ${size} bytes within the configured max blocking time ${maxBlockMs} ms. ` +
        `Total memory: ${this.#totalMemory} bytes. Available memory: ${this.availableMemory} bytes. ` +
        `Poolable size: ${this.#poolableSize} bytes`,
    );
  }

  #closedError(): IllegalStateError {
    return new IllegalStateError('the producer is closing: buffer memory can no longer be allocated');
  }
}
