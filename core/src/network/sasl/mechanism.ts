/**
 * The SASL plug-in point. A mechanism is a named factory of sessions; a
 * session is one authentication exchange on one connection (a fresh one for
 * every connection and every KIP-368 re-authentication).
 *
 * The network client runs the exchange: it sends SaslHandshake v1 with the
 * mechanism's name, then calls `evaluate(undefined)` for the initial response
 * and sends it in a SaslAuthenticate request; while the broker answers with no
 * error, it hands the broker's bytes to `evaluate` and sends what comes back,
 * until `evaluate` returns `undefined` (the exchange is complete: the
 * mechanism has checked whatever the server had to prove). A broker error
 * ends the exchange with an AuthenticationError naming the mechanism and the
 * broker's message; so does a throw from `evaluate` (throw an
 * AuthenticationError to choose its code and message).
 */

/** Where a session authenticates: one connection to one broker. */
export interface SaslContext {
  /** The broker's node id (negative for a bootstrap address). */
  readonly nodeId: number;
  /** The host and port connected to (as configured or advertised, before any transport mapping). */
  readonly host: string;
  readonly port: number;
  /** True when this exchange re-authenticates a live connection (KIP-368). */
  readonly reauthentication: boolean;
}

/** One exchange. `evaluate` may be async (a token fetch, PBKDF2). */
export interface SaslSession {
  /**
   * `challenge` is undefined on the first call (return the initial
   * response), then each message from the broker. Return the bytes to send
   * next, or `undefined` when the exchange is complete.
   */
  evaluate(challenge: Buffer | undefined): Buffer | undefined | Promise<Buffer | undefined>;
}

/**
 * A SASL mechanism: `name` is what SaslHandshake asks for (`saslMechanism`
 * selects it), `start` begins an exchange. Register custom ones under the
 * `SASL_MECHANISM` DI token or in the `sasl.mechanisms` config option.
 */
export interface SaslMechanism {
  readonly name: string;
  start(context: SaslContext): SaslSession | Promise<SaslSession>;
}
