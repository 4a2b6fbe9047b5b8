/**
 * A partitioner of your own, registered under core's PARTITIONER token.
 *
 *   BOOTSTRAP=localhost:9092 TOPIC=by-region node examples/dist/src/custom-partitioner.js
 *
 * Keys look like `<region>:<user>`. Every record of a known region goes to
 * that region's partition; anything else returns -1, which hands the record
 * to the built-in sticky partitioner (the Java client's behaviour for records
 * without a key).
 */
import 'reflect-metadata';
import { type ClusterView, createProducer, PARTITIONER, type Partitioner } from '@tributary/core';
import { container, type InjectionToken, inject, injectable } from 'tsyringe';

/** The regions, in partition order: a token of our own, so the partitioner can be configured through DI. */
const REGIONS: InjectionToken<readonly string[]> = Symbol('examples.Regions');

@injectable()
class RegionPartitioner implements Partitioner {
  // An explicit @inject for every parameter: nothing depends on emitted decorator metadata.
  constructor(@inject(REGIONS) private readonly regions: readonly string[]) {}

  partition(
    topic: string,
    key: unknown,
    _keyBytes: Uint8Array | null,
    _value: unknown,
    _valueBytes: Uint8Array | null,
    cluster: ClusterView,
  ): number {
    // Called synchronously for every record: no I/O, no allocation worth mentioning.
    if (typeof key !== 'string') return -1;
    const region = this.regions.indexOf(key.slice(0, key.indexOf(':')));
    if (region < 0) return -1;
    return region % cluster.partitionCount(topic);
  }
}

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9092';
const topic = process.env['TOPIC'] ?? 'by-region';

const c = container.createChildContainer();
c.register(REGIONS, { useValue: ['eu', 'us', 'ap'] });
c.register(PARTITIONER, { useClass: RegionPartitioner });

const producer = await createProducer<string, string>({ bootstrapServers }, { container: c });
try {
  const keys = ['eu:ada', 'us:grace', 'ap:linus', 'eu:alan', 'us:barbara', 'ap:ken', 'mars:marvin'];
  const results = await Promise.all(
    keys.map((key, i) => producer.send({ topic, key, value: `event ${i} from ${key}` })),
  );
  for (const [i, r] of results.entries()) console.log(`${keys[i]} -> partition ${r.partition}`);
  console.log(`custom-partitioner: ${results.length} records placed by region`);
} finally {
  await producer.close();
}
