import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescOneof,
  ScalarType,
} from '@bufbuild/protobuf';
import { isWrapperDesc } from '@bufbuild/protobuf/wkt';

/**
 * Checks a message, or a plain init object for one, against its descriptor
 * before it is encoded: @bufbuild/protobuf's `create()` copies init values
 * without checking them, and its binary writer coerces some (a number given
 * for a string field is written as its decimal text, anything truthy for a
 * bool as true). The first problem is returned with its path in the
 * JavaScript shape the user wrote (`address.zip`, `items[2].price`,
 * `labels["env"]`), or undefined when the value is fine.
 */
export interface InvalidField {
  /** '' for the value itself. */
  path: string;
  /** What is wrong, e.g. `should be int32, got the string "3"` or `is not a field of shop.Order`. */
  problem: string;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const FLOAT32_MAX = 3.4028234663852886e38;
const MAX_DEPTH = 100;

const SCALAR_NAMES: Record<ScalarType, string> = {
  [ScalarType.DOUBLE]: 'double',
  [ScalarType.FLOAT]: 'float',
  [ScalarType.INT64]: 'int64',
  [ScalarType.UINT64]: 'uint64',
  [ScalarType.INT32]: 'int32',
  [ScalarType.FIXED64]: 'fixed64',
  [ScalarType.FIXED32]: 'fixed32',
  [ScalarType.BOOL]: 'bool',
  [ScalarType.STRING]: 'string',
  [ScalarType.BYTES]: 'bytes',
  [ScalarType.UINT32]: 'uint32',
  [ScalarType.SFIXED32]: 'sfixed32',
  [ScalarType.SFIXED64]: 'sfixed64',
  [ScalarType.SINT32]: 'sint32',
  [ScalarType.SINT64]: 'sint64',
};

class Invalid {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly value: unknown,
    readonly unknownIn?: string,
  ) {}
}

export function checkMessage(desc: DescMessage, value: unknown): InvalidField | undefined {
  const problem = message(desc, value, '', 0);
  if (problem === undefined) return undefined;
  return {
    path: problem.path,
    problem:
      problem.unknownIn === undefined
        ? `should be ${problem.expected}, got ${describeValue(problem.value)}`
        : `is not a field of ${problem.unknownIn}`,
  };
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const membersByDesc = new WeakMap<DescMessage, Map<string, DescField | DescOneof>>();

/** The message's fields and oneofs by JavaScript name, built once per descriptor. */
function members(desc: DescMessage): Map<string, DescField | DescOneof> {
  let map = membersByDesc.get(desc);
  if (map === undefined) {
    map = new Map(desc.members.map((m) => [m.localName, m]));
    membersByDesc.set(desc, map);
  }
  return map;
}

function message(desc: DescMessage, value: unknown, path: string, depth: number): Invalid | undefined {
  if (depth > MAX_DEPTH)
    return new Invalid(path, `message ${desc.typeName} nested at most ${MAX_DEPTH} deep`, value);
  if (!isPlainObject(value)) return new Invalid(path, `message ${desc.typeName}`, value);
  const typeName = value['$typeName'];
  if (typeName !== undefined && typeName !== desc.typeName) {
    return new Invalid(path, `message ${desc.typeName}`, value);
  }
  const byName = members(desc);
  for (const key in value) {
    if (key.charCodeAt(0) === 36 /* $ */) continue;
    const member = byName.get(key);
    if (member === undefined) return new Invalid(join(path, key), '', value[key], desc.typeName);
    const v = value[key];
    if (v === undefined || v === null) continue;
    const problem =
      member.kind === 'oneof'
        ? oneof(member, v, join(path, key), depth)
        : field(member, v, join(path, key), depth);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function oneof(desc: DescOneof, value: unknown, path: string, depth: number): Invalid | undefined {
  if (!isPlainObject(value)) return new Invalid(path, oneofExpected(desc), value);
  const c = value['case'];
  if (c === undefined) return undefined;
  const f = desc.fields.find((x) => x.localName === c);
  if (f === undefined) return new Invalid(`${path}.case`, oneofExpected(desc), c);
  return single(f, value['value'], `${path}.value`, depth);
}

/** What a oneof takes, for its error: built only on failure, not for every record. */
function oneofExpected(desc: DescOneof): string {
  const cases = desc.fields.map((f) => f.localName);
  return `a oneof { case, value } with case one of ${cases.map((c) => JSON.stringify(c)).join(', ')}`;
}

function field(f: DescField, value: unknown, path: string, depth: number): Invalid | undefined {
  switch (f.fieldKind) {
    case 'list': {
      if (!Array.isArray(value)) return new Invalid(path, `a list of ${itemName(f)}`, value);
      for (let i = 0; i < value.length; i++) {
        const problem = element(f, value[i], `${path}[${i}]`, depth);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case 'map': {
      if (!isPlainObject(value) || value['$typeName'] !== undefined) {
        return new Invalid(path, `a map (plain object) of ${itemName(f)}`, value);
      }
      for (const key of Object.keys(value)) {
        const at = `${path}[${JSON.stringify(key)}]`;
        const keyProblem = mapKey(f.mapKey, key, at);
        if (keyProblem !== undefined) return keyProblem;
        const problem = element(f, value[key], at, depth);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    default:
      return single(f, value, path, depth);
  }
}

function single(f: DescField, value: unknown, path: string, depth: number): Invalid | undefined {
  switch (f.fieldKind) {
    case 'scalar':
      return scalar(f.scalar, value, path);
    case 'enum':
      return enumValue(f.enum, value, path);
    case 'message':
      // Wrapper fields (google.protobuf.Int32Value, ...) hold the bare value in @bufbuild/protobuf v2.
      if (isWrapperDesc(f.message) && !(isPlainObject(value) && value['$typeName'] === f.message.typeName)) {
        return scalar(f.message.fields[0]!.scalar as ScalarType, value, path);
      }
      return message(f.message, value, path, depth + 1);
    default:
      return field(f, value, path, depth);
  }
}

/**
 * A list or map field: its items (map values) are a message, an enum or a
 * scalar, as its kind says; of `message`, `enum` and `scalar` it has that one.
 */
type CollectionField = Extract<DescField, { fieldKind: 'list' | 'map' }>;

/** What a list's items or a map's values are. */
function elementKind(f: CollectionField): 'message' | 'enum' | 'scalar' {
  return f.fieldKind === 'list' ? f.listKind : f.mapKind;
}

/** Checks one list item or map value. */
function element(f: CollectionField, value: unknown, path: string, depth: number): Invalid | undefined {
  switch (elementKind(f)) {
    case 'message':
      return message(f.message!, value, path, depth + 1);
    case 'enum':
      return enumValue(f.enum!, value, path);
    default:
      return scalar(f.scalar!, value, path);
  }
}

function itemName(f: CollectionField): string {
  switch (elementKind(f)) {
    case 'message':
      return `message ${f.message!.typeName}`;
    case 'enum':
      return `enum ${f.enum!.typeName}`;
    default:
      return SCALAR_NAMES[f.scalar!];
  }
}

function enumValue(desc: DescEnum, value: unknown, path: string): Invalid | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    return new Invalid(path, enumExpected(desc), value);
  }
  // A closed (proto2) enum cannot carry an unknown number.
  if (!desc.open && desc.value[value] === undefined) return new Invalid(path, enumExpected(desc), value);
  return undefined;
}

/** What an enum field takes, for its error: built only on failure, not for every record. */
function enumExpected(desc: DescEnum): string {
  return `enum ${desc.typeName} (a number${desc.open ? '' : ` of ${desc.values.map((v) => v.number).join(', ')}`})`;
}

function int64(value: unknown, min: bigint, max: bigint): boolean {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return false;
    n = BigInt(value);
  } else if (typeof value === 'string') {
    if (!/^-?\d{1,20}$/.test(value)) return false;
    n = BigInt(value);
  } else return false;
  return n >= min && n <= max;
}

function scalar(type: ScalarType, value: unknown, path: string): Invalid | undefined {
  let ok: boolean;
  switch (type) {
    case ScalarType.STRING:
      ok = typeof value === 'string';
      break;
    case ScalarType.BOOL:
      ok = typeof value === 'boolean';
      break;
    case ScalarType.BYTES:
      ok = value instanceof Uint8Array;
      break;
    case ScalarType.DOUBLE:
      ok = typeof value === 'number';
      break;
    case ScalarType.FLOAT:
      ok = typeof value === 'number' && (!Number.isFinite(value) || Math.abs(value) <= FLOAT32_MAX);
      break;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      ok = typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
      break;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      ok = typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
      break;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      ok = int64(value, INT64_MIN, INT64_MAX);
      break;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      ok = int64(value, 0n, UINT64_MAX);
      break;
  }
  if (ok) return undefined;
  const name = SCALAR_NAMES[type];
  const detail =
    type === ScalarType.INT64 || type === ScalarType.SINT64 || type === ScalarType.SFIXED64
      ? `${name} (a bigint, an integer string or a safe integer)`
      : type === ScalarType.UINT64 || type === ScalarType.FIXED64
        ? `${name} (a non-negative bigint, integer string or safe integer)`
        : name;
  return new Invalid(path, detail, value);
}

function mapKey(type: ScalarType, key: string, path: string): Invalid | undefined {
  switch (type) {
    case ScalarType.STRING:
      return undefined;
    case ScalarType.BOOL:
      return key === 'true' || key === 'false'
        ? undefined
        : new Invalid(path, 'a bool map key ("true" or "false")', key);
    default: {
      const ok = /^-?\d+$/.test(key) && scalar(type, bigOrNumber(type, key), path) === undefined;
      return ok ? undefined : new Invalid(path, `a ${SCALAR_NAMES[type]} map key`, key);
    }
  }
}

function bigOrNumber(type: ScalarType, key: string): unknown {
  switch (type) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return BigInt(key);
    default:
      return Number(key);
  }
}

/** A short, safe rendering of a value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `the string ${JSON.stringify(s)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${value}`;
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const typeName = (value as { $typeName?: unknown }).$typeName;
  if (typeof typeName === 'string') return `a message ${typeName}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
