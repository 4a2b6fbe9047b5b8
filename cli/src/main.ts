#!/usr/bin/env node
/**
 * `tributary`: produce records from stdin or files, print cluster metadata,
 * start the embedded test cluster. See cli/README.md.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { clusterCommand, clusterUsage } from './cluster.js';
import { CliError, ExitCode, messageOf } from './errors.js';
import { metadataCommand, metadataUsage } from './metadata.js';
import { produceCommand, produceUsage } from './produce.js';

const usage = `Usage: tributary <command> [options]

Commands:
  produce    records from stdin or files, one per line or JSON lines (Avro, Protobuf optional)
  metadata   the cluster's brokers, topics and partitions
  cluster    start the embedded test cluster (librdkafka's mock) until Ctrl-C

Run tributary <command> --help for a command's options.

  -h, --help     this text
  -v, --version  the version`;

const commands: Record<string, { run: (args: string[]) => Promise<number | undefined>; usage: string }> = {
  produce: { run: produceCommand, usage: produceUsage },
  metadata: { run: metadataCommand, usage: metadataUsage },
  cluster: { run: clusterCommand, usage: clusterUsage },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<number | undefined> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const text = topic !== undefined && commands[topic] ? commands[topic].usage : usage;
    if (first === undefined) {
      console.error(text);
      return ExitCode.Usage;
    }
    console.log(text);
    return ExitCode.Ok;
  }
  if (first === '-v' || first === '--version') {
    console.log(version());
    return ExitCode.Ok;
  }
  const command = commands[first];
  if (command === undefined) {
    throw new CliError(
      `unknown command ${JSON.stringify(first)} (commands: produce, metadata, cluster)`,
      ExitCode.Usage,
    );
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    // undefined: a long-running command (cluster) keeps the process alive itself.
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`tributary: ${messageOf(err)}`);
      process.exit(err.exitCode);
    }
    // Not an error the user can fix from its message: show where it came from.
    console.error('tributary: unexpected error:', err);
    process.exit(ExitCode.RecordsFailed);
  },
);
