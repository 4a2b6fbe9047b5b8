import type { ApiDescriptor } from '../src/protocol/api.js';
import * as generated from '../src/protocol/apis/index.js';
import type { Reader } from '../src/protocol/reader.js';
import type { Writer } from '../src/protocol/writer.js';

// Test-side interpretation of our protocol definitions (core/codegen/apis.mjs),
// independent of the generated codecs: random messages for any API, version
// and direction, with the values a decoder must return.

export interface FieldDef {
  name: string;
  type: string;
  versions?: string;
  options: { nullable?: string; default?: unknown; tag?: number };
  fields?: FieldDef[];
}
export interface ApiDef {
  name: string;
  versions: string;
  flexible: number | null;
  structs?: Array<{ struct: string; fields: FieldDef[] }>;
  request: FieldDef[];
  response: FieldDef[];
}

export function inRange(spec: string | undefined, v: number): boolean {
  if (spec === undefined) return true;
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return v >= Number(plus[1]);
  const [a, b] = spec.split('-').map(Number) as [number, number];
  return v >= a && v <= b;
}

export class Gen {
  readonly structs = new Map<string, FieldDef[]>();
  constructor(
    readonly rand: () => number,
    api: ApiDef,
  ) {
    for (const s of api.structs ?? []) this.structs.set(s.struct, s.fields);
    const walk = (fields: FieldDef[]) => {
      for (const f of fields) {
        if (f.fields) {
          this.structs.set(f.type.replace(/^\[\]/, '').replace(/\?$/, ''), f.fields);
          walk(f.fields);
        }
      }
    };
    walk(api.request);
    walk(api.response);
    for (const s of api.structs ?? []) walk(s.fields);
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  bytes(max: number): Buffer {
    return Buffer.from(Array.from({ length: this.int(0, max) }, () => this.int(0, 255)));
  }

  string(): string {
    const alphabet = ['a', 'Z', '0', '-', '.', '_', 'é', '✓', '😀', ' '];
    return Array.from({ length: this.int(0, 12) }, () => alphabet[this.int(0, alphabet.length - 1)]).join('');
  }

  prim(type: string): unknown {
    switch (type) {
      case 'int8':
        return this.int(-128, 127);
      case 'int16':
        return this.int(-32768, 32767);
      case 'uint16':
        return this.int(0, 65535);
      case 'int32':
        return this.int(-(2 ** 31), 2 ** 31 - 1);
      case 'int64':
        return this.int(-(2 ** 53) + 1, 2 ** 53 - 1);
      case 'float64':
        return this.rand() * 1e6 - 5e5;
      case 'bool':
        return this.rand() < 0.5;
      case 'string':
        return this.string();
      case 'bytes':
      case 'records':
        return this.bytes(40);
      case 'uuid':
        return Buffer.from(Array.from({ length: 16 }, () => this.int(0, 255)));
      default:
        throw new Error(type);
    }
  }

  defaultOf(f: FieldDef): unknown {
    const nullableAll = f.type.endsWith('?');
    const t = f.type.replace(/\?$/, '');
    if (t.startsWith('[]')) return [];
    if (!isPrim(t))
      return Object.fromEntries((this.structs.get(t) ?? []).map((s) => [s.name, this.defaultOf(s)]));
    if (f.options.default !== undefined) return f.options.default;
    if (nullableAll || t === 'records') return null;
    switch (t) {
      case 'bool':
        return false;
      case 'string':
        return '';
      case 'bytes':
        return Buffer.alloc(0);
      case 'uuid':
        return Buffer.alloc(16);
      default:
        return 0;
    }
  }

  /** [input to encode, expected after decode] for a struct's fields at version v. */
  message(
    fields: FieldDef[],
    v: number,
    flexible: boolean,
    depth: number,
  ): [Record<string, unknown>, Record<string, unknown>] {
    const input: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const f of fields) {
      const present = inRange(f.versions, v) && (f.options.tag === undefined || flexible);
      if (!present) {
        expected[f.name] = this.defaultOf(f);
        continue;
      }
      if (f.options.tag !== undefined && this.rand() < 0.3) {
        expected[f.name] = this.defaultOf(f);
        continue;
      }
      const nullable =
        f.type.endsWith('?') || (f.options.nullable !== undefined && inRange(f.options.nullable, v));
      const t = f.type.replace(/\?$/, '');
      if (nullable && this.rand() < 0.2) {
        input[f.name] = null;
        expected[f.name] = null;
        continue;
      }
      if (t.startsWith('[]')) {
        const elem = t.slice(2);
        const n = depth > 3 ? 0 : this.int(f.options.tag === undefined ? 0 : 1, 3);
        const ins: unknown[] = [];
        const exps: unknown[] = [];
        for (let i = 0; i < n; i++) {
          if (isPrim(elem)) {
            const x = this.prim(elem);
            ins.push(x);
            exps.push(x);
          } else {
            const [a, b] = this.message(this.structs.get(elem) ?? [], v, flexible, depth + 1);
            ins.push(a);
            exps.push(b);
          }
        }
        input[f.name] = ins;
        expected[f.name] = exps;
      } else if (isPrim(t)) {
        let x = this.prim(t);
        // A tagged scalar equal to its default is not written, and so reads back as the default anyway.
        if (f.options.tag !== undefined && x === this.defaultOf(f))
          x = typeof x === 'boolean' ? !x : (x as number) + 1;
        input[f.name] = x;
        expected[f.name] = x;
      } else {
        const [a, b] = this.message(this.structs.get(t) ?? [], v, flexible, depth + 1);
        input[f.name] = a;
        expected[f.name] = b;
      }
    }
    return [input, expected];
  }
}

export function isPrim(t: string): boolean {
  return [
    'int8',
    'int16',
    'uint16',
    'int32',
    'int64',
    'float64',
    'bool',
    'string',
    'bytes',
    'uuid',
    'records',
  ].includes(t);
}

const defsUrl = new URL('../../codegen/apis.mjs', import.meta.url);
export const apiDefs: ApiDef[] = ((await import(defsUrl.href)) as { apis: ApiDef[] }).apis;

export function descriptorOf(api: ApiDef): ApiDescriptor<unknown, unknown> {
  const d = (generated as unknown as Record<string, ApiDescriptor<unknown, unknown>>)[`${api.name}Api`];
  if (!d) throw new Error(`no descriptor ${api.name}Api`);
  return d;
}

export type Direction = 'request' | 'response';

/** The fields, encoder and decoder of one direction of an API. */
export function directions(
  api: ApiDef,
  d: ApiDescriptor<unknown, unknown>,
): Array<{
  kind: Direction;
  fields: FieldDef[];
  encode: (w: Writer, v: number, m: unknown) => void;
  decode: (r: Reader, v: number) => unknown;
}> {
  return [
    { kind: 'request', fields: api.request, encode: d.encodeRequest, decode: d.decodeRequest },
    { kind: 'response', fields: api.response, encode: d.encodeResponse, decode: d.decodeResponse },
  ];
}

export function versionRange(api: ApiDef): [number, number] {
  return api.versions.split('-').map(Number) as [number, number];
}
