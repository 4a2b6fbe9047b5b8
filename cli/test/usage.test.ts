import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lines, runCli } from './helpers.js';

// The command line's own checks, before any broker is contacted: help,
// version, flags, schema and input files. The bootstrap address is never
// reached (nothing listens on port 1), so each case must stop at its check.

const NOWHERE = ['--bootstrap', '127.0.0.1:1', '--topic', 't', '--timeout-ms', '20000'];

describe('tributary: usage and configuration errors (exit code 2)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help for the tool and for each command, and the version', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    for (const cmd of ['produce', 'metadata', 'cluster']) assert.match(top.stdout, new RegExp(cmd));
    for (const [cmd, flag] of [
      ['produce', '--key-delimiter'],
      ['metadata', '--json'],
      ['cluster', '--partitions'],
    ] as const) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`tributary ${cmd}`));
      assert.ok(r.stdout.includes(flag), `${cmd} --help mentions ${flag}`);
    }
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.equal(v.stdout.trim(), pkg.version);
  });

  it('refuses an unknown command, an unknown flag, a missing or bad value', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['produce', ...NOWHERE, '--frob'], /Unknown option '--frob'/],
      [['produce', '--topic', 't'], /--bootstrap HOST:PORT is required/],
      [['produce', '--bootstrap', 'localhost'], /"localhost" is not HOST:PORT/],
      [['produce', '--bootstrap', '127.0.0.1:1'], /--topic is required/],
      [['produce', '--bootstrap', '127.0.0.1:1', '--topic', 'a b'], /--topic: .*characters other than/],
      [['produce', ...NOWHERE, '--acks', '2'], /--acks must be one of all, -1, 1, 0/],
      [['produce', ...NOWHERE, '--compression', 'brotli'], /--compression must be one of none, gzip/],
      [['produce', ...NOWHERE, '--linger-ms=-1'], /--linger-ms must be an integer >= 0, got "-1"/],
      [['produce', ...NOWHERE, '--format', 'csv'], /--format must be one of lines, jsonl/],
      [['produce', ...NOWHERE, '--headers', '=v'], /--headers: "=v" has no header name/],
      [
        ['produce', ...NOWHERE, '--registry', 'http://localhost:8081'],
        /--registry needs --avro-schema or --proto/,
      ],
      [['metadata', '--bootstrap', '127.0.0.1:1', '--timeout-ms', 'soon'], /--timeout-ms must be an integer/],
      [['cluster', '--brokers', '0'], /--brokers must be an integer in 1\.\.64/],
    ];
    for (const [args, expected] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      assert.equal(lines(r.stderr).length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr, expected);
      assert.ok(r.elapsedMs < 15_000, 'no broker was waited for');
    }
  });

  it('names an unreadable input file', async () => {
    const missing = join(dir, 'missing.txt');
    const r = await runCli(['produce', ...NOWHERE, missing]);
    assert.equal(r.code, 2);
    assert.equal(lines(r.stderr).length, 1);
    assert.ok(r.stderr.includes(`cannot read input file ${missing}`), r.stderr);
  });

  it('names a schema file that is missing, not JSON, or not an Avro schema', async () => {
    const notJson = join(dir, 'broken.avsc');
    await writeFile(notJson, '{"type": "record", "name": "X", "fields": [');
    const notAvro = join(dir, 'wrong.avsc');
    await writeFile(
      notAvro,
      JSON.stringify({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'strin' }] }),
    );
    const missing = join(dir, 'nowhere.avsc');
    for (const [file, why] of [
      [notJson, /not valid JSON/],
      [notAvro, /not a valid Avro schema.*strin/],
      [missing, /cannot read the file.*ENOENT/],
    ] as const) {
      const r = await runCli(['produce', ...NOWHERE, '--avro-schema', file], 'x\n');
      assert.equal(r.code, 2, r.stderr);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.ok(r.stderr.includes(`--avro-schema ${file}`), r.stderr);
      assert.match(r.stderr, why);
    }
  });

  it('names bad .proto source by line, a missing message, and a bad descriptor set', async () => {
    const broken = join(dir, 'broken.proto');
    await writeFile(broken, 'syntax = "proto3";\nmessage Greeting { string text = ; }\n');
    let r = await runCli(['produce', ...NOWHERE, '--proto', broken, '--message', 'Greeting']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--proto .*broken\.proto: .*line 2/);
    assert.equal(lines(r.stderr).length, 1);

    const source = join(dir, 'greeting.proto');
    await writeFile(source, 'syntax = "proto3";\npackage demo;\nmessage Greeting { string text = 1; }\n');
    r = await runCli(['produce', ...NOWHERE, '--proto', source, '--message', 'demo.Farewell']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /greeting\.proto: no message demo\.Farewell \(it has demo\.Greeting\)/);

    const garbage = join(dir, 'garbage.binpb');
    await writeFile(garbage, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    r = await runCli(['produce', ...NOWHERE, '--proto', garbage, '--message', 'Greeting']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /garbage\.binpb: not a valid FileDescriptorSet/);

    const empty = join(dir, 'empty.binpb');
    await writeFile(empty, Buffer.alloc(0));
    r = await runCli(['produce', ...NOWHERE, '--proto', empty, '--message', 'Greeting']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /empty\.binpb: no message Greeting/);

    r = await runCli(['produce', ...NOWHERE, '--proto', empty]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --message/);
  });
});
