import { ClusterView, type PartitionMetadata, type TopicMetadata } from '@tributary/core';
import { mulberry32 } from '@tributary/testkit';

/** A cluster whose topics have partitions with the given leaders (-1: none). */
export function clusterWith(topics: Record<string, number[]>): ClusterView {
  const map = new Map<string, TopicMetadata>();
  for (const [name, leaders] of Object.entries(topics)) {
    const partitions: PartitionMetadata[] = leaders.map((leader, partition) => ({
      partition,
      leader,
      leaderEpoch: 0,
      replicas: [],
      isr: [],
      offline: [],
      errorCode: 0,
    }));
    map.set(name, { name, topicId: Buffer.alloc(16), isInternal: false, partitions });
  }
  return new ClusterView(new Map(), map, new Map(), null, -1);
}

/** n partitions, all with a leader. */
export function led(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 + (i % 3));
}

/** A seeded PRNG (the testkit's mulberry32), so randomised tests replay exactly. */
export const seeded = mulberry32;

export function randomKey(random: () => number): Uint8Array {
  const key = new Uint8Array(1 + Math.floor(random() * 32));
  for (let i = 0; i < key.length; i++) key[i] = Math.floor(random() * 256);
  return key;
}
