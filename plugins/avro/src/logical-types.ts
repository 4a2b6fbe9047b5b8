import avsc, { type Schema, type Type } from 'avsc';

/**
 * Logical types for avsc, enabled with `logicalTypes: true`. avsc itself
 * ships none: without them a `timestamp-millis` field is a plain long, a
 * `decimal` plain bytes and a `uuid` a plain string (as the Avro
 * specification says readers must treat unknown logical types).
 *
 * | logical type                     | JavaScript value written                                   | read back as             |
 * | -------------------------------- | ---------------------------------------------------------- | ------------------------ |
 * | `timestamp-millis` (long)        | a Date, or an integer number of ms since the epoch          | a Date                   |
 * | `decimal` (bytes or fixed)       | a decimal string ("-12.30", "1e3"), a number or a bigint    | a string with `scale` fraction digits |
 * | `uuid` (string)                  | a UUID string (8-4-4-4-12 hex digits)                       | the string               |
 *
 * A decimal is never rounded: a value with more fraction digits than the
 * scale, or more digits than the precision, is refused. Decimals go through
 * BigInt, so they cost more than the other types (opt-in, per field).
 */

/** Thrown by a logical type's conversion; its message is passed on in the SerializationError. */
export class LogicalValueError extends Error {
  override readonly name = 'LogicalValueError';
}

const { LogicalType } = avsc.types;

function schemaAttr(schema: Schema, key: string): unknown {
  return (schema as unknown as Record<string, unknown>)[key];
}

/** `timestamp-millis` on a long: a Date. */
export class TimestampMillisType extends LogicalType {
  protected override _fromValue(val: unknown): Date {
    return new Date(val as number);
  }

  protected override _toValue(val: unknown): number {
    if (val instanceof Date) {
      const ms = val.getTime();
      if (Number.isNaN(ms)) throw new LogicalValueError('timestamp-millis: an invalid Date');
      return ms;
    }
    if (typeof val === 'number' && Number.isSafeInteger(val)) return val;
    throw new LogicalValueError('timestamp-millis: expected a Date or an integer number of milliseconds');
  }

  protected override _resolve(type: Type): ((v: unknown) => unknown) | undefined {
    if (avsc.Type.isType(type, 'long', 'logical:timestamp-millis')) return (v) => this._fromValue(v);
    return undefined;
  }
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** `uuid` on a string: checked to be a UUID. */
export class UuidType extends LogicalType {
  protected override _fromValue(val: unknown): string {
    return val as string;
  }

  protected override _toValue(val: unknown): string {
    if (typeof val === 'string' && UUID.test(val)) return val;
    throw new LogicalValueError('uuid: expected a UUID string (8-4-4-4-12 hexadecimal digits)');
  }

  protected override _resolve(type: Type): ((v: unknown) => unknown) | undefined {
    if (avsc.Type.isType(type, 'string', 'logical:uuid')) return (v) => v;
    return undefined;
  }
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** `decimal` on bytes or fixed: two's-complement big-endian unscaled value, as the Avro specification says. */
export class DecimalType extends LogicalType {
  readonly precision: number;
  readonly scale: number;
  /** The fixed size, or undefined on bytes. */
  readonly #size: number | undefined;

  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    const precision = schemaAttr(schema, 'precision');
    const scale = schemaAttr(schema, 'scale') ?? 0;
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) {
      throw new Error(`decimal: precision must be a positive integer, got ${String(precision)}`);
    }
    if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error(`decimal: scale must be an integer in [0, precision], got ${String(scale)}`);
    }
    const underlying = this.underlyingType as Type & { size?: number };
    if (underlying.typeName === 'fixed') {
      this.#size = underlying.size!;
      const maxDigits = Math.floor(Math.log10(2) * (8 * this.#size - 1));
      if (precision > maxDigits) {
        throw new Error(`decimal: precision ${precision} does not fit in fixed(${this.#size})`);
      }
    } else if (underlying.typeName !== 'bytes') {
      throw new Error('decimal: the underlying type must be bytes or fixed');
    }
    this.precision = precision;
    this.scale = scale;
  }

  protected override _export(attrs: Schema): void {
    const out = attrs as unknown as Record<string, unknown>;
    out['precision'] = this.precision;
    out['scale'] = this.scale;
  }

  protected override _fromValue(val: unknown): string {
    const buf = val as Buffer;
    let n = 0n;
    for (const b of buf) n = (n << 8n) | BigInt(b);
    if (buf.length > 0 && (buf[0]! & 0x80) !== 0) n -= 1n << BigInt(8 * buf.length);
    const negative = n < 0n;
    const digits = (negative ? -n : n).toString().padStart(this.scale + 1, '0');
    const int = digits.slice(0, digits.length - this.scale);
    const frac = digits.slice(digits.length - this.scale);
    return `${negative ? '-' : ''}${int}${this.scale > 0 ? `.${frac}` : ''}`;
  }

  protected override _toValue(val: unknown): Buffer {
    const unscaled = this.#unscaled(val);
    const digits = (unscaled < 0n ? -unscaled : unscaled).toString();
    if (unscaled !== 0n && digits.length > this.precision) {
      throw new LogicalValueError(
        `decimal(${this.precision},${this.scale}): ${String(val)} has ${digits.length} digits, more than the precision ${this.precision}`,
      );
    }
    return toTwosComplement(unscaled, this.#size);
  }

  protected override _resolve(type: Type): ((v: unknown) => unknown) | undefined {
    if (type instanceof DecimalType && type.scale === this.scale && type.precision <= this.precision) {
      return (v) => v;
    }
    return undefined;
  }

  /** The value times 10^scale, exactly, or a LogicalValueError. */
  #unscaled(val: unknown): bigint {
    if (typeof val === 'bigint') return val * 10n ** BigInt(this.scale);
    let text: string;
    if (typeof val === 'number') {
      if (!Number.isFinite(val)) throw new LogicalValueError(`decimal: ${val} is not a finite number`);
      text = String(val);
    } else if (typeof val === 'string') {
      text = val.trim();
    } else {
      throw new LogicalValueError('decimal: expected a decimal string, a number or a bigint');
    }
    const m = DECIMAL.exec(text);
    if (m === null || (m[2] === '' && (m[3] ?? '') === '')) {
      throw new LogicalValueError(`decimal: ${JSON.stringify(text)} is not a decimal number`);
    }
    const [, sign, int = '', frac = '', exp = '0'] = m;
    // digits * 10^(exponent - frac.length), rescaled to this.scale
    let digits = `${int}${frac}`.replace(/^0+(?=\d)/, '');
    const shift = Number(exp) - frac.length + this.scale;
    if (shift >= 0) {
      digits = digits === '0' ? digits : digits + '0'.repeat(shift);
    } else {
      const dropped = digits.slice(Math.max(0, digits.length + shift));
      if (/[1-9]/.test(dropped)) {
        throw new LogicalValueError(
          `decimal(${this.precision},${this.scale}): ${text} has more fraction digits than the scale ${this.scale} (no rounding)`,
        );
      }
      digits = digits.slice(0, Math.max(0, digits.length + shift)) || '0';
    }
    const n = BigInt(digits);
    return sign === '-' ? -n : n;
  }
}

/** Minimal two's complement, big-endian; sign-extended to `size` bytes for fixed. */
function toTwosComplement(n: bigint, size: number | undefined): Buffer {
  let length = 1;
  while (n < -(1n << BigInt(8 * length - 1)) || n >= 1n << BigInt(8 * length - 1)) length++;
  if (size !== undefined) {
    if (length > size) throw new LogicalValueError(`decimal: ${n} does not fit in fixed(${size})`);
    length = size;
  }
  const out = Buffer.alloc(length);
  let v = n < 0n ? (1n << BigInt(8 * length)) + n : n;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** avsc `logicalTypes` for `timestamp-millis`, `decimal` and `uuid`. */
export const avroLogicalTypes = {
  'timestamp-millis': TimestampMillisType,
  decimal: DecimalType,
  uuid: UuidType,
} as const;
