/**
 * The benchmark harness (issue 9) lives here: Tributary and its peers on one
 * testkit cluster, in one run, reported as ratios. Benchmarks never run as tests.
 */
console.log('No benchmarks yet: the harness lands with the producer. See benchmarks/README.md.');
