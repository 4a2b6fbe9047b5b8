// The testkit's seeded PRNG, under the name core's tests import.
export { mulberry32 } from '@tributary/testkit';
