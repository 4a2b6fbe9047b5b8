#!/usr/bin/env node
// Generates core/src/protocol/apis/<api>.ts from the definitions in apis.mjs:
// one module per API covering all its versions, per-version differences as
// inline guards. `--check` compares instead of writing, and fails when the
// committed files are stale (CI runs it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apis } from './apis.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'src', 'protocol', 'apis');
const check = process.argv.includes('--check');

const PRIMS = new Set([
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
]);
const SIZE = { int8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, float64: 8, bool: 1, uuid: 16 };

function parseRange(spec, api) {
  if (spec === undefined) return [api.lo, api.hi];
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return [Number(plus[1]), Number.POSITIVE_INFINITY];
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) return [Number(range[1]), Number(range[2])];
  throw new Error(`bad version range ${spec}`);
}

/** A guard expression for `version` within [a, b], given the API's [lo, hi]; 'true'/'false' when constant. */
function guard([a, b], api) {
  const lo = Math.max(a, api.lo);
  const hi = Math.min(b, api.hi);
  if (lo > hi) return 'false';
  const parts = [];
  if (lo > api.lo) parts.push(`version >= ${lo}`);
  if (hi < api.hi) parts.push(`version <= ${hi}`);
  return parts.length ? parts.join(' && ') : 'true';
}

const flexGuard = (api) =>
  api.flexible === null ? 'false' : guard([api.flexible, Number.POSITIVE_INFINITY], api);

/** Normalises a field: its kind, element type, ranges and nullability. */
function describe(field, api, structs) {
  let type = field.type;
  let nullableAll = false;
  if (type.endsWith('?')) {
    nullableAll = true;
    type = type.slice(0, -1);
  }
  const range = parseRange(field.versions, api);
  const present = guard(range, api);
  let nullable = 'false';
  if (nullableAll) nullable = 'true';
  else if (field.options.nullable) {
    const [a, b] = parseRange(field.options.nullable, api);
    nullable = guard([Math.max(a, range[0]), Math.min(b, range[1])], api);
  }
  const isArray = type.startsWith('[]');
  const elem = isArray ? type.slice(2) : type;
  const prim = PRIMS.has(elem);
  if (!prim) {
    if (field.fields) structs.set(elem, field.fields);
    else if (!structs.has(elem)) throw new Error(`${api.name}: unknown struct ${elem}`);
  }
  const tagged = field.options.tag !== undefined;
  const alwaysPresent = present === 'true' && !tagged;
  return { ...field, isArray, elem, prim, present, nullable, range, tagged, alwaysPresent };
}

function tsElem(d) {
  switch (d.elem) {
    case 'bool':
      return 'boolean';
    case 'string':
      return 'string';
    case 'bytes':
    case 'uuid':
    case 'records':
      return 'Buffer';
    default:
      return d.prim ? 'number' : d.elem;
  }
}

function tsType(d) {
  let t = tsElem(d);
  if (d.isArray) t = `${t}[]`;
  const canBeNull = d.nullable !== 'false' || d.elem === 'records';
  return canBeNull ? `${t} | null` : t;
}

/** The default value expression of a field (what an absent field decodes to). */
function defaultExpr(d) {
  const dv = d.options.default;
  if (d.isArray) return '[]';
  if (!d.prim) return `default${d.elem}()`;
  if (dv !== undefined) return JSON.stringify(dv);
  if (d.nullable === 'true' || d.elem === 'records') return 'null';
  switch (d.elem) {
    case 'bool':
      return 'false';
    case 'string':
      return "''";
    case 'bytes':
      return 'EMPTY_BYTES';
    case 'uuid':
      return 'ZERO_UUID';
    default:
      return '0';
  }
}

function writePrim(elem, expr, flexExpr, nullableExpr, field) {
  switch (elem) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'int64':
    case 'float64':
    case 'uuid':
      return `w.${elem}(${expr});`;
    case 'bool':
      return `w.bool(${expr});`;
    case 'string':
      if (nullableExpr === 'false') return `w.stringV(${expr}, ${flexExpr});`;
      if (nullableExpr === 'true') return `w.nullableStringV(${expr}, ${flexExpr});`;
      return `if (${nullableExpr}) w.nullableStringV(${expr}, ${flexExpr}); else w.stringV(notNull(${expr}, '${field}'), ${flexExpr});`;
    case 'bytes':
    case 'records':
      if (nullableExpr === 'false' && elem === 'bytes') return `w.bytesV(${expr} as Buffer, ${flexExpr});`;
      return `w.nullableBytesV(${expr}, ${flexExpr});`;
    default:
      throw new Error(elem);
  }
}

function readPrim(elem, flexExpr, nullableExpr, name) {
  const q = `'${name}'`;
  switch (elem) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'int64':
    case 'float64':
    case 'uuid':
    case 'bool':
      return `r.${elem}(${q})`;
    case 'string':
      if (nullableExpr === 'false') return `r.stringV(${flexExpr}, ${q})`;
      if (nullableExpr === 'true') return `r.nullableStringV(${flexExpr}, ${q})`;
      return `(${nullableExpr} ? r.nullableStringV(${flexExpr}, ${q}) : r.stringV(${flexExpr}, ${q}))`;
    case 'bytes':
    case 'records':
      if (nullableExpr === 'false' && elem === 'bytes') return `r.bytesV(${flexExpr}, ${q})`;
      return `r.nullableBytesV(${flexExpr}, ${q})`;
    default:
      throw new Error(elem);
  }
}

function genApi(api) {
  const [lo, hi] = api.versions.split('-').map(Number);
  const ctx = { name: api.name, lo, hi, flexible: api.flexible };
  const structs = new Map();
  for (const st of api.structs ?? []) structs.set(st.struct, st.fields);
  const F = flexGuard(ctx);
  const out = [];
  const interfaces = [];
  const fns = [];
  const done = new Set();

  // Emits the interface, default factory, encoder and decoder of a struct
  // (the message itself is the struct named `${api.name}Request`/`Response`).
  // Request structs: fields a version lacks are optional (callers build requests).
  // Response structs: every field is present (decoders fill defaults), so none is optional.
  function genStruct(name, fields, isTop, direction) {
    if (done.has(name)) return;
    done.add(name);
    const ds = fields.map((fl) => describe(fl, ctx, structs));
    const lines = [`export interface ${name} {`];
    for (const d of ds) {
      const opt = d.alwaysPresent || direction === 'response' ? '' : '?';
      lines.push(`  ${d.name}${opt}: ${tsType(d)}${opt ? ' | undefined' : ''};`);
    }
    lines.push('}');
    interfaces.push(lines.join('\n'));

    if (!isTop) {
      fns.push(
        [
          `function default${name}(): ${name} {`,
          `  return { ${ds.map((d) => `${d.name}: ${defaultExpr(d)}`).join(', ')} };`,
          '}',
        ].join('\n'),
      );
    }

    // encoder
    const param = direction === 'response' ? `ResponseInit<${name}>` : name;
    const enc = [
      isTop
        ? `function encode${name}(w: Writer, version: number, m: ${param}): void {\n  const flexible = ${F};`
        : `function encode${name}(w: Writer, version: number, flexible: boolean, m: ${param}): void {`,
    ];
    for (const d of ds.filter((x) => !x.tagged)) {
      const body = encodeField(d, `m.${d.name}`, 1, direction);
      if (d.present === 'true') enc.push(...body);
      else if (d.present !== 'false') enc.push(`  if (${d.present}) {`, ...body.map((l) => `  ${l}`), '  }');
    }
    const tagged = ds.filter((x) => x.tagged).sort((a, b) => a.options.tag - b.options.tag);
    if (F !== 'false') {
      if (tagged.length === 0) enc.push('  if (flexible) w.emptyTaggedFields();');
      else {
        enc.push('  if (flexible) {');
        enc.push('    let tags = 0;');
        for (const d of tagged)
          enc.push(`    if (${d.present} && !${isDefaultExpr(d, `m.${d.name}`)}) tags++;`);
        enc.push('    w.uvarint(tags);');
        for (const d of tagged) {
          enc.push(`    if (${d.present} && !${isDefaultExpr(d, `m.${d.name}`)}) {`);
          enc.push('      const t = scratch();');
          enc.push('      const outer = w;');
          enc.push('      {');
          enc.push('        const w = t;');
          enc.push(...encodeField(d, `m.${d.name}`, 4, direction));
          enc.push('      }');
          enc.push(`      outer.uvarint(${d.options.tag}).uvarint(t.pos).raw(t.view());`);
          enc.push('      release(t);');
          enc.push('    }');
        }
        enc.push('  }');
      }
    }
    enc.push('}');
    fns.push(enc.join('\n'));

    // decoder
    const dec = [
      isTop
        ? `function decode${name}(r: Reader, version: number): ${name} {\n  const flexible = ${F === 'false' ? 'false' : F};`
        : `function decode${name}(r: Reader, version: number, flexible: boolean): ${name} {`,
    ];
    for (const d of ds.filter((x) => !x.tagged)) {
      if (d.isArray) {
        dec.push(`  let ${d.name}_: ${tsType(d)}${d.present === 'true' ? '' : ` = ${defaultExpr(d)}`};`);
        if (d.present !== 'false') {
          const body = decodeArray(d, `${d.name}_`, 2);
          dec.push(d.present === 'true' ? '  {' : `  if (${d.present}) {`, ...body, '  }');
        }
      } else if (d.present === 'true') dec.push(`  const ${d.name}_ = ${decodeField(d)};`);
      else if (d.present === 'false') dec.push(`  const ${d.name}_ = ${defaultExpr(d)};`);
      else dec.push(`  const ${d.name}_ = ${d.present} ? ${decodeField(d)} : ${defaultExpr(d)};`);
    }
    for (const d of tagged) dec.push(`  let ${d.name}_: ${tsType(d)} = ${defaultExpr(d)};`);
    if (F !== 'false') {
      if (tagged.length === 0) dec.push('  if (flexible) skipTaggedFields(r);');
      else {
        dec.push('  if (flexible) {');
        dec.push("    const count = r.uvarint('tagged fields');");
        dec.push('    for (let i = 0; i < count; i++) {');
        dec.push("      const tag = r.uvarint('tag');");
        dec.push("      const end = tagEnd(r, r.uvarint('tag size'));");
        dec.push('      switch (tag) {');
        for (const d of tagged) {
          dec.push(`        case ${d.options.tag}:`);
          if (d.isArray) {
            dec.push(`          if (${d.present}) {`, ...decodeArray(d, `${d.name}_`, 6), '          }');
          } else dec.push(`          if (${d.present}) ${d.name}_ = ${decodeField(d)};`);
          dec.push('          break;');
        }
        dec.push('      }');
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the generated code.
        dec.push("      if (r.pos > end) throw r.fail(`tag ${tag} overran its size`, 'tagged fields');");
        dec.push('      r.pos = end;');
        dec.push('    }');
        dec.push('  }');
      }
    }
    dec.push(`  return { ${ds.map((d) => `${d.name}: ${d.name}_`).join(', ')} };`);
    dec.push('}');
    fns.push(dec.join('\n'));

    for (const d of ds) if (!d.prim) genStruct(d.elem, structs.get(d.elem), false, direction);
  }

  function isDefaultExpr(d, v) {
    if (d.isArray) return `(${v} === undefined || ${v} === null || ${v}.length === 0)`;
    if (!d.prim) {
      const sub = structs.get(d.elem).map((fl) => describe(fl, ctx, structs));
      return `(${v} === undefined || (${sub.map((x) => `${v}.${x.name} === ${defaultExpr(x)}`).join(' && ')}))`;
    }
    return `(${v} === undefined || ${v} === ${defaultExpr(d)})`;
  }

  function encodeField(d, v, depth, direction) {
    const ind = '  '.repeat(depth);
    // Response inits may omit anything (tests and scripted peers build them): defaults fill in.
    // Only an omitted (undefined) field takes the default: an explicit null is a value.
    const val =
      d.alwaysPresent && direction !== 'response' ? v : `(${v} === undefined ? ${defaultExpr(d)} : ${v})`;
    if (!d.isArray) {
      if (d.prim) return [ind + writePrim(d.elem, val, 'flexible', d.nullable, d.name)];
      return [`${ind}encode${d.elem}(w, version, flexible, ${val});`];
    }
    const lines = [];
    const a = `a_${d.name}`;
    lines.push(`${ind}const ${a} = ${val};`);
    const each = d.prim
      ? writePrim(d.elem, 'e', 'flexible', 'false')
      : `encode${d.elem}(w, version, flexible, e);`;
    if (d.nullable === 'false') {
      lines.push(`${ind}w.arrayLengthV(${a}.length, flexible);`);
      lines.push(`${ind}for (const e of ${a}) ${each}`);
      return lines;
    }
    if (d.nullable !== 'true') {
      lines.push(`${ind}if (${a} === null && !(${d.nullable})) throw nullNotAllowed('${d.name}', version);`);
    }
    lines.push(`${ind}if (${a} === null) w.arrayLengthV(-1, flexible);`);
    lines.push(`${ind}else {`);
    lines.push(`${ind}  w.arrayLengthV(${a}.length, flexible);`);
    lines.push(`${ind}  for (const e of ${a}) ${each}`);
    lines.push(`${ind}}`);
    return lines;
  }

  function decodeField(d) {
    if (d.prim) return readPrim(d.elem, 'flexible', d.nullable, d.name);
    return `decode${d.elem}(r, version, flexible)`;
  }

  /** Statements reading an array into `target` (declared by the caller), loops inlined: no closure per array. */
  function decodeArray(d, target, depth) {
    const ind = '  '.repeat(depth);
    const min = d.prim ? (SIZE[d.elem] ?? 1) : 1;
    const elem = d.prim
      ? readPrim(d.elem, 'flexible', 'false', d.name)
      : `decode${d.elem}(r, version, flexible)`;
    const lines = [`${ind}const n = r.arrayLengthV(flexible, '${d.name}', ${min});`];
    if (d.nullable === 'false') {
      lines.push(`${ind}if (n < 0) throw r.fail('null array', '${d.name}');`);
    } else if (d.nullable !== 'true') {
      lines.push(`${ind}if (n < 0 && !(${d.nullable})) throw r.fail('null array', '${d.name}');`);
    }
    if (d.nullable === 'false') {
      lines.push(`${ind}const arr: ${tsElem(d)}[] = [];`);
      lines.push(`${ind}for (let i = 0; i < n; i++) arr.push(${elem});`);
      lines.push(`${ind}${target} = arr;`);
    } else {
      lines.push(`${ind}if (n < 0) ${target} = null;`);
      lines.push(`${ind}else {`);
      lines.push(`${ind}  const arr: ${tsElem(d)}[] = [];`);
      lines.push(`${ind}  for (let i = 0; i < n; i++) arr.push(${elem});`);
      lines.push(`${ind}  ${target} = arr;`);
      lines.push(`${ind}}`);
    }
    return lines;
  }

  genStruct(`${api.name}Request`, api.request, true, 'request');
  genStruct(`${api.name}Response`, api.response, true, 'response');

  // Drop default factories nothing calls, and mark `version` unused where no guard reads it.
  for (let i = fns.length - 1; i >= 0; i--) {
    const m = /^function (default\w+)\(/.exec(fns[i]);
    if (m && !fns.some((other, j) => j !== i && other.includes(`${m[1]}(`))) fns.splice(i, 1);
  }
  for (let i = 0; i < fns.length; i++) {
    const [first, ...rest] = fns[i].split('\n');
    if (!/\bversion\b/.test(rest.join('\n')))
      fns[i] = [first.replace('version: number', '_version: number'), ...rest].join('\n');
  }
  const usesZeroUuid = [...interfaces, ...fns].some((s) => s.includes('ZERO_UUID'));
  const usesEmpty = fns.some((s) => s.includes('EMPTY_BYTES'));
  const helpers = ['nullNotAllowed', 'skipTaggedFields', 'tagEnd', 'scratch', 'release', 'notNull'].filter(
    (h) => fns.some((s) => s.includes(`${h}(`)),
  );
  if (usesZeroUuid) helpers.push('ZERO_UUID');
  const header = [
    `// GENERATED by core/codegen/generate.mjs from core/codegen/apis.mjs; do not edit.`,
    `// ${api.name} (api key ${api.key}), versions ${lo}-${hi}${api.flexible === null ? ', never flexible' : `, flexible from v${api.flexible}`}.`,
    '',
    `import type { ApiDescriptor, ResponseInit } from '../api.js';`,
    helpers.length ? `import { ${helpers.sort(byName).join(', ')} } from '../codec-helpers.js';` : '',
    `import type { Reader } from '../reader.js';`,
    usesEmpty
      ? `import { EMPTY_BYTES, type Writer } from '../writer.js';`
      : `import type { Writer } from '../writer.js';`,
    '',
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '');
  out.push(...header);
  out.push(interfaces.join('\n\n'));
  out.push('');
  out.push(fns.join('\n\n'));
  out.push('');
  out.push(`/** ${api.name}: codecs for every version, and the range this client implements. */`);
  out.push(`export const ${api.name}Api: ApiDescriptor<${api.name}Request, ${api.name}Response> = {`);
  out.push(`  name: '${api.name}',`);
  out.push(`  apiKey: ${api.key},`);
  out.push(`  minVersion: ${lo},`);
  out.push(`  maxVersion: ${hi},`);
  out.push(`  flexibleVersion: ${api.flexible === null ? -1 : api.flexible},`);
  out.push(`  encodeRequest: encode${api.name}Request,`);
  out.push(`  decodeRequest: decode${api.name}Request,`);
  out.push(`  encodeResponse: encode${api.name}Response,`);
  out.push(`  decodeResponse: decode${api.name}Response,`);
  out.push('};');
  return `${out.join('\n')}\n`;
}

/** Biome's import order: case-insensitive, so the committed output passes `biome check` untouched. */
function byName(a, b) {
  return a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;
}

function fileName(name) {
  return `${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.ts`;
}

let stale = 0;
const index = [`// GENERATED by core/codegen/generate.mjs; do not edit.`, ''];
for (const api of [...apis].sort((a, b) => byName(fileName(a.name), fileName(b.name)))) {
  const file = fileName(api.name);
  const code = genApi(api);
  const path = join(outDir, file);
  index.push(`export * from './${file.replace(/\.ts$/, '.js')}';`);
  if (check) {
    if (!existsSync(path) || readFileSync(path, 'utf8') !== code) {
      console.error(`stale: ${path}`);
      stale++;
    }
  } else writeFileSync(path, code);
}
const indexCode = `${index.join('\n')}\n`;
const indexPath = join(outDir, 'index.ts');
if (check) {
  if (!existsSync(indexPath) || readFileSync(indexPath, 'utf8') !== indexCode) {
    console.error(`stale: ${indexPath}`);
    stale++;
  }
  if (stale) {
    console.error(`${stale} generated protocol file(s) are stale: run node core/codegen/generate.mjs`);
    process.exit(1);
  }
  console.log('generated protocol files are current');
} else {
  writeFileSync(indexPath, indexCode);
  console.log(`wrote ${apis.length} API modules to ${outDir}`);
}
