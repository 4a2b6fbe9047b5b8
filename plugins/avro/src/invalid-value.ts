import type { Type } from 'avsc';

/**
 * Finds where a value stops matching an Avro type, for error messages: the
 * first failing path as avsc's `isValid` reports it, rendered as
 * `address.zip`, `items[2].price` or `attrs["color"]`, with what the schema
 * expected and what the value had. Runs only after an encode failed, so the
 * happy path pays nothing for it.
 */
export interface InvalidValue {
  /** '' when the value itself (not a field of it) is wrong. */
  path: string;
  expected: string;
  got: string;
  /** True when the failing type is a logical type (its own error message says more). */
  logical: boolean;
}

type AnyType = Type & {
  fields?: { name: string; type: Type }[];
  itemsType?: Type;
  valuesType?: Type;
  types?: Type[];
  underlyingType?: Type;
  symbols?: string[];
  size?: number;
};

export function findInvalid(type: Type, value: unknown): InvalidValue | undefined {
  let found: { path: string[]; value: unknown; type: Type } | undefined;
  type.isValid(value, {
    errorHook: (path, val, t) => {
      found ??= { path, value: val, type: t };
    },
  });
  if (found === undefined) return undefined;
  return {
    path: renderPath(type, found.path),
    expected: describeType(found.type),
    got: describeValue(found.value),
    logical: (found.type as AnyType).underlyingType !== undefined,
  };
}

function unwrap(type: AnyType): AnyType {
  return (type.underlyingType ?? type) as AnyType;
}

/** Walks the type along avsc's path segments to tell field names, array indexes and map keys apart. */
function renderPath(root: Type, segments: string[]): string {
  let out = '';
  let type: AnyType | undefined = root as AnyType;
  for (const seg of segments) {
    type = type === undefined ? undefined : unwrap(type);
    // An unwrapped union is transparent in avsc's paths: continue in the branch that can hold this segment.
    if (type?.types !== undefined && (type.typeName === 'union:unwrapped' || type.typeName === 'union')) {
      type = type.types
        .map((t) => unwrap(t as AnyType))
        .find(
          (t) =>
            t.fields?.some((f) => f.name === seg) || t.itemsType !== undefined || t.valuesType !== undefined,
        );
    }
    if (type?.fields !== undefined) {
      out += out === '' ? seg : `.${seg}`;
      type = type.fields.find((f) => f.name === seg)?.type as AnyType | undefined;
    } else if (type?.itemsType !== undefined) {
      out += `[${seg}]`;
      type = type.itemsType as AnyType;
    } else if (type?.valuesType !== undefined) {
      out += `[${JSON.stringify(seg)}]`;
      type = type.valuesType as AnyType;
    } else {
      out += out === '' ? seg : `.${seg}`;
      type = undefined;
    }
  }
  return out;
}

/** "string", "enum shop.Color (RED, GREEN)", "decimal(10,2)", "one of null | string"... */
export function describeType(type: Type): string {
  const t = type as AnyType;
  const schema = t.schema({ exportAttrs: true }) as unknown;
  const logical =
    typeof schema === 'object' && schema !== null
      ? (schema as Record<string, unknown>)['logicalType']
      : undefined;
  if (typeof logical === 'string') {
    const s = schema as Record<string, unknown>;
    return logical === 'decimal' ? `decimal(${s['precision']},${s['scale']})` : logical;
  }
  switch (t.typeName) {
    case 'record':
    case 'error':
      return `record ${t.name}`;
    case 'enum':
      return `enum ${t.name} (${t.symbols!.join(', ')})`;
    case 'fixed':
      return `fixed ${t.name} (${t.size} bytes)`;
    case 'array':
      return `an array of ${describeType(t.itemsType!)}`;
    case 'map':
      return `a map of ${describeType(t.valuesType!)}`;
    case 'union:unwrapped':
    case 'union:wrapped':
      return `one of ${t.types!.map(describeType).join(' | ')}`;
    default:
      return t.typeName;
  }
}

/** A short, safe rendering of a value (no full dumps of large objects). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `the string ${JSON.stringify(s)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${value}`;
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value instanceof Date)
    return `a Date (${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
