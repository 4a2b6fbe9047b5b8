import { parseHostPort } from '@tributary/core';
import { messageOf, usageError } from './errors.js';

/**
 * Runs a node:util `parseArgs` call (strict, for one command) and turns its
 * errors into usage errors (exit code 2) that name the command.
 */
export function parsingArgs<R>(command: string, parse: () => R): R {
  try {
    return parse();
  } catch (err) {
    throw usageError(`${command}: ${messageOf(err)} (see tributary ${command} --help)`, err);
  }
}

/** An integer flag within [min, max]; undefined when the flag was not given. */
export function intFlag(
  name: string,
  raw: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw usageError(`--${name} must be an integer ${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** One of `choices`; undefined when the flag was not given. */
export function choiceFlag<C extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly C[],
): C | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw usageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as C;
}

/** `--bootstrap HOST:PORT[,HOST:PORT]` (repeatable): the list, each address checked. */
export function bootstrapFlag(raw: readonly string[] | undefined): string[] {
  const servers = (raw ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw usageError('--bootstrap HOST:PORT is required');
  for (const s of servers) {
    try {
      parseHostPort(s);
    } catch {
      throw usageError(`--bootstrap: ${JSON.stringify(s)} is not HOST:PORT`);
    }
  }
  return servers;
}

/**
 * `--headers k=v,k2=v2` (repeatable): pairs in the order given, split at the
 * first `=` (a value may contain `=`; `k=` is an empty value, a bare `k` a
 * null one). Values are UTF-8.
 */
export function headersFlag(raw: readonly string[] | undefined): Array<[string, Buffer | null]> {
  const out: Array<[string, Buffer | null]> = [];
  for (const group of raw ?? []) {
    for (const item of group.split(',')) {
      if (item === '') continue;
      const at = item.indexOf('=');
      const key = at < 0 ? item : item.slice(0, at);
      if (key === '') throw usageError(`--headers: ${JSON.stringify(item)} has no header name`);
      out.push([key, at < 0 ? null : Buffer.from(item.slice(at + 1), 'utf8')]);
    }
  }
  return out;
}
