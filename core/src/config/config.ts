import { ConfigError } from '../errors.js';

/**
 * Config keys are Kafka's (Java) names in camelCase, with the Java client's
 * defaults. Each key is defined once, with its type, bounds, default and doc;
 * `resolveConfig` validates a user's object against the definitions once and
 * returns it frozen. The definitions also generate docs/configuration.md.
 */
export interface ConfigDef {
  /** The Java client's name for the key, e.g. `linger.ms`. */
  readonly javaName: string;
  readonly type: 'int' | 'long' | 'double' | 'string' | 'list' | 'boolean' | 'enum' | 'function' | 'object';
  /** Absent means required. */
  readonly default?: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly doc: string;
}

export type ConfigDefs = Readonly<Record<string, ConfigDef>>;

const INT_MAX = 2 ** 31 - 1;

/**
 * Null given for a key whose default is null: allowed by the 'object' and
 * 'string' types (every other type refuses null whatever its default).
 */
function isNullDefault(def: ConfigDef, value: unknown): boolean {
  return value === null && def.default === null;
}

function check(key: string, def: ConfigDef, value: unknown): unknown {
  const bad = (why: string) => new ConfigError(key, `${why} (got ${JSON.stringify(value) ?? String(value)})`);
  switch (def.type) {
    case 'int':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw bad('must be an integer');
      const max = def.max ?? (def.type === 'int' ? INT_MAX : Number.MAX_SAFE_INTEGER);
      if (def.min !== undefined && value < def.min) throw bad(`must be at least ${def.min}`);
      if (value > max) throw bad(`must be at most ${max}`);
      return value;
    }
    case 'double': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad('must be a finite number');
      if (def.min !== undefined && value < def.min) throw bad(`must be at least ${def.min}`);
      if (def.max !== undefined && value > def.max) throw bad(`must be at most ${def.max}`);
      return value;
    }
    case 'object':
      if (isNullDefault(def, value)) return value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('must be an object');
      return value;
    case 'string':
      if (typeof value !== 'string' && !isNullDefault(def, value)) throw bad('must be a string');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('must be a boolean');
      return value;
    case 'enum':
      if (typeof value !== 'string' || !def.values?.includes(value))
        throw bad(`must be one of ${def.values?.join(', ')}`);
      return value;
    case 'list': {
      const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) {
        throw bad('must be a non-empty list of strings (an array, or a comma-separated string)');
      }
      if (def.min !== undefined && list.length < def.min)
        throw bad(`needs at least ${def.min} entr${def.min === 1 ? 'y' : 'ies'}`);
      return Object.freeze([...list]);
    }
    case 'function':
      if (typeof value !== 'function') throw bad('must be a function');
      return value;
  }
}

/**
 * Validates `input` against `defs`: unknown keys, wrong types, out-of-range
 * values and missing required keys each throw a ConfigError naming the key.
 * Returns a frozen object with every key (defaults filled in).
 */
export function resolveConfig<T>(defs: ConfigDefs, input: Record<string, unknown>): Readonly<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(defs, key)) {
      const hint = Object.entries(defs).find(([, d]) => d.javaName === key);
      throw new ConfigError(key, hint ? `unknown key; did you mean ${hint[0]}?` : 'unknown key');
    }
  }
  for (const [key, def] of Object.entries(defs)) {
    const given = input[key];
    if (given === undefined) {
      if (!('default' in def)) throw new ConfigError(key, 'is required');
      out[key] = def.default;
    } else {
      out[key] = check(key, def, given);
    }
  }
  return Object.freeze(out) as Readonly<T>;
}
