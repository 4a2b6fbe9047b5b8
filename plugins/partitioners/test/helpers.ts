import { ClusterView, type PartitionMetadata, type TopicMetadata } from '@tributary/core';

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

/** A seeded PRNG (mulberry32), so randomised tests replay exactly. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomKey(random: () => number): Uint8Array {
  const key = new Uint8Array(1 + Math.floor(random() * 32));
  for (let i = 0; i < key.length; i++) key[i] = Math.floor(random() * 256);
  return key;
}
