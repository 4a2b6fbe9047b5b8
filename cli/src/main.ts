#!/usr/bin/env node
// Placeholder: the tributary command line is being written.
console.error('tributary: not implemented yet');
process.exitCode = 2;
