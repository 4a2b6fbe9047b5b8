import {
  decodeRecordBatches,
  ProduceApi,
  Reader,
  readRequestHeader,
  requestHeaderVersion,
  type Transport,
  type TransportFactory,
} from '@tributary/core';
import { parseId } from './ledger.js';

/**
 * Watches the Produce requests the producer writes (a transport wrapped
 * around the runtime's own) and remembers, per record id, the producer stamp
 * (id, epoch, base sequence + position) it was sent with.
 *
 * Why: the librdkafka mock's duplicate check has a flaw (rdkafka_mock.c,
 * rd_kafka_mock_validate_records): when a retried batch is recognised as a
 * duplicate, the mock still pushes that batch's end onto its window of
 * recent sequences, which rewinds the sequence it expects next; the retry of
 * the *following* batch, already in the log too, then matches and is appended
 * a second time. A real broker compares a retry with the batches it keeps
 * (KIP-98) and drops it. So a record the mock holds twice is "a duplicate a
 * real broker would have dropped" exactly when every attempt that carried it
 * had the same producer id, epoch and sequence; if it went out under two
 * different sequences (the client re-stamped a batch), a real broker would
 * have kept both copies too, and that is a client bug. The tap is how the
 * soak tells the two apart; it only reads the bytes, never changes them.
 */
export class WireTap {
  /** Per record id: the first stamp seen, as `pid:epoch:seq`. */
  readonly #stamp = new Map<number, string>();
  /** Record ids sent under more than one stamp (a re-stamped batch), with the stamps. */
  readonly restamped = new Map<number, string[]>();
  /** Frames the tap could not parse (it never throws into the producer). */
  parseErrors = 0;
  requests = 0;
  readonly #run: string;

  constructor(run: string) {
    this.#run = run;
  }

  /** A transport factory that taps `inner`'s writes. */
  wrap(inner: TransportFactory): TransportFactory {
    return (options, handler) => {
      const t = inner(options, handler);
      const tapped: Transport = {
        write: (data: Buffer) => {
          this.#observe(data);
          return t.write(data);
        },
        destroy: (error?: Error) => t.destroy(error),
      };
      return tapped;
    };
  }

  stampOf(id: number): string | undefined {
    return this.#stamp.get(id);
  }

  /** Whether the record went out under two sequences of the same producer id and epoch (a client bug). */
  restampedInEpoch(id: number): boolean {
    const list = this.restamped.get(id);
    if (list === undefined) return false;
    const epochs = list.map((s) => s.slice(0, s.lastIndexOf(':')));
    return new Set(epochs).size < epochs.length;
  }

  /** `data` is one or more whole frames (the channel writes complete frames, possibly coalesced). */
  #observe(data: Buffer): void {
    let pos = 0;
    while (pos + 4 <= data.length) {
      const size = data.readInt32BE(pos);
      const start = pos + 4;
      const end = start + size;
      if (size < 8 || end > data.length) {
        this.parseErrors++;
        return;
      }
      pos = end;
      if (data.readInt16BE(start) !== ProduceApi.apiKey) continue;
      this.requests++;
      try {
        this.#produce(data, start, end);
      } catch {
        this.parseErrors++;
      }
    }
  }

  #produce(data: Buffer, start: number, end: number): void {
    const version = data.readInt16BE(start + 2);
    const r = new Reader(data, start, end);
    readRequestHeader(r, requestHeaderVersion(ProduceApi, version));
    const req = ProduceApi.decodeRequest(r, version);
    for (const t of req.topicData) {
      for (const p of t.partitionData) {
        if (p.records === null) continue;
        for (const batch of decodeRecordBatches(p.records)) {
          batch.records.forEach((rec, i) => {
            const id = parseId(rec.value, this.#run);
            if (id < 0) return;
            const stamp = `${batch.producerId}:${batch.producerEpoch}:${batch.baseSequence + i}`;
            const seen = this.#stamp.get(id);
            if (seen === undefined) this.#stamp.set(id, stamp);
            else if (seen !== stamp) {
              const list = this.restamped.get(id) ?? [seen];
              if (!list.includes(stamp)) list.push(stamp);
              this.restamped.set(id, list);
            }
          });
        }
      }
    }
  }
}
