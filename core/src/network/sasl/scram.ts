import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../../errors.js';
import type { SaslContext, SaslMechanism, SaslSession } from './mechanism.js';

/** The SCRAM variants Kafka brokers offer (RFC 7677 for SHA-256; SHA-512 follows the same rules). SHA-1 is RFC 5802's. */
export const ScramHash = {
  'SCRAM-SHA-1': { digest: 'sha1', bytes: 20 },
  'SCRAM-SHA-256': { digest: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { digest: 'sha512', bytes: 64 },
} as const;
export type ScramMechanismName = keyof typeof ScramHash;

export interface ScramOptions {
  username: string;
  password: string;
  /** Sent as `a=` in the GS2 header (authorization identity); Kafka brokers ignore it unless it equals `username`. */
  authorizationId?: string;
  /**
   * The fewest PBKDF2 iterations accepted from the server. Default 4096, the
   * Kafka client's minimum: a server asking for fewer is refused (a
   * downgrade would make offline guessing of the password cheaper).
   */
  minIterations?: number;
  /** The client nonce; default 24 random bytes in base64. Tests fix it to replay RFC vectors. */
  nonce?: () => string;
}

/**
 * SCRAM (RFC 5802, RFC 7677) for a Kafka SaslAuthenticate exchange:
 *
 * 1. client-first `n,,n=<user>,r=<client nonce>`;
 * 2. server-first `r=<client nonce + server nonce>,s=<salt>,i=<iterations>`:
 *    the nonce must extend ours, the count be at least `minIterations`;
 * 3. client-final `c=<GS2 header>,r=<nonce>,p=<proof>`, where
 *    SaltedPassword = PBKDF2(password, salt, i), ClientKey =
 *    HMAC(SaltedPassword, "Client Key"), proof = ClientKey XOR
 *    HMAC(H(ClientKey), AuthMessage);
 * 4. server-final `v=<signature>`, checked (in constant time) against
 *    HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage): a server that
 *    cannot prove it knows the credentials is refused with an
 *    AuthenticationError, as is an `e=` error.
 *
 * PBKDF2 runs on libuv's thread pool (`crypto.pbkdf2`), not the event loop.
 * The username is escaped as RFC 5802 says (`,` and `=`); SASLprep is not
 * applied, as in the Java client (Kafka user names are used as given).
 */
export function scramMechanism(name: ScramMechanismName, options: ScramOptions): SaslMechanism {
  const hash = ScramHash[name];
  if (hash === undefined) throw new TypeError(`unknown SCRAM mechanism ${JSON.stringify(name)}`);
  const minIterations = options.minIterations ?? 4096;
  const makeNonce = options.nonce ?? (() => randomBytes(24).toString('base64'));
  const gs2Header = `n,${options.authorizationId === undefined ? '' : `a=${saslName(options.authorizationId)}`},`;
  return {
    name,
    start(context: SaslContext): SaslSession {
      return new ScramSession(
        name,
        hash,
        options.password,
        minIterations,
        gs2Header,
        saslName(options.username),
        makeNonce(),
        context,
      );
    },
  };
}

class ScramSession implements SaslSession {
  #step = 0;
  readonly #clientFirstBare: string;
  #serverSignature: Buffer | undefined;

  constructor(
    readonly mechanism: string,
    readonly hash: { digest: string; bytes: number },
    readonly password: string,
    readonly minIterations: number,
    readonly gs2Header: string,
    user: string,
    readonly nonce: string,
    readonly context: SaslContext,
  ) {
    if (nonce.length === 0 || nonce.includes(',') || !/^[\x21-\x7e]+$/.test(nonce)) {
      throw new TypeError('a SCRAM nonce is printable ASCII without commas');
    }
    this.#clientFirstBare = `n=${user},r=${nonce}`;
  }

  async evaluate(challenge: Buffer | undefined): Promise<Buffer | undefined> {
    switch (this.#step++) {
      case 0:
        return Buffer.from(this.gs2Header + this.#clientFirstBare, 'utf8');
      case 1:
        return this.#clientFinal(required(challenge, this).toString('utf8'));
      case 2:
        this.#verifyServerFinal(required(challenge, this).toString('utf8'));
        return undefined;
      default:
        throw this.#fail('the server sent a message after its final one');
    }
  }

  async #clientFinal(serverFirst: string): Promise<Buffer> {
    const attrs = parseAttributes(serverFirst);
    const error = attrs.get('e');
    if (error !== undefined) throw this.#fail(`the server refused the client-first message: ${error}`);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations)) {
      throw this.#fail(`malformed server-first message ${JSON.stringify(serverFirst)}`);
    }
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) {
      throw this.#fail('the server nonce does not extend the client nonce');
    }
    if (iterations < this.minIterations) {
      throw this.#fail(
        `the server asks for ${iterations} iterations, fewer than the minimum ${this.minIterations}`,
      );
    }
    const salted = await pbkdf2Async(this.password, Buffer.from(salt, 'base64'), iterations, this.hash);
    const withoutProof = `c=${Buffer.from(this.gs2Header, 'utf8').toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const clientKey = hmac(this.hash.digest, salted, 'Client Key');
    const storedKey = createHash(this.hash.digest).update(clientKey).digest();
    const proof = hmac(this.hash.digest, storedKey, authMessage);
    for (let i = 0; i < proof.length; i++) proof[i] = (proof[i] as number) ^ (clientKey[i] as number);
    this.#serverSignature = hmac(this.hash.digest, hmac(this.hash.digest, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  #verifyServerFinal(serverFinal: string): void {
    const attrs = parseAttributes(serverFinal);
    const error = attrs.get('e');
    if (error !== undefined) throw this.#fail(`the server refused the proof: ${error}`);
    const v = attrs.get('v');
    const expected = this.#serverSignature as Buffer;
    const given = v === undefined ? Buffer.alloc(0) : Buffer.from(v, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw this.#fail(
        "the server's signature does not verify: it does not know the credentials (a misconfigured or impostor broker)",
      );
    }
  }

  #fail(why: string): AuthenticationError {
    return new AuthenticationError(
      'SASL_AUTHENTICATION_FAILED',
      `${this.mechanism} authentication with node ${this.context.nodeId} (${this.context.host}:${this.context.port}) failed: ${why}`,
      { mechanism: this.mechanism, nodeId: this.context.nodeId },
    );
  }
}

function required(challenge: Buffer | undefined, session: ScramSession): Buffer {
  if (challenge === undefined || challenge.length === 0) {
    throw new AuthenticationError(
      'SASL_AUTHENTICATION_FAILED',
      `${session.mechanism} authentication with node ${session.context.nodeId} failed: the server sent an empty message`,
      { mechanism: session.mechanism, nodeId: session.context.nodeId },
    );
  }
  return challenge;
}

/** `a=1,b=2` -> Map; values may contain `=`. */
function parseAttributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part.slice(0, 1), part.slice(2));
  }
  return out;
}

/** RFC 5802 saslname: `=` as `=3D`, `,` as `=2C`. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function hmac(digest: string, key: Buffer, data: string): Buffer {
  return createHmac(digest, key).update(data, 'utf8').digest();
}

function pbkdf2Async(
  password: string,
  salt: Buffer,
  iterations: number,
  hash: { digest: string; bytes: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, hash.bytes, hash.digest, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
