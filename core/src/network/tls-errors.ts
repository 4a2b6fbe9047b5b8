/**
 * Why a TLS connection failed, in words a Kafka user can act on. Node reports
 * OpenSSL's verify result names as `code` (`CERT_HAS_EXPIRED`,
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, ...), its own `ERR_TLS_*` codes, and
 * alerts from the peer as `ERR_SSL_<ALERT>`; Bun reports the same verify
 * names, and alerts as `EPROTO` with the alert in the message. Both are
 * recognised here, so the two adapters' errors read the same: both
 * @tributary/adapter-node and @tributary/adapter-bun import this from
 * @tributary/core.
 */

/** The kinds of TLS failure, as an `as const` object (the values are stable strings). */
export const TlsFailure = {
  /** The broker's certificate does not chain to a trusted CA (`ca`). */
  UntrustedCertificate: 'untrusted-certificate',
  /** The broker's certificate is not for the host name connected to (ssl.endpoint.identification.algorithm=https). */
  HostnameMismatch: 'hostname-mismatch',
  CertificateExpired: 'certificate-expired',
  CertificateNotYetValid: 'certificate-not-yet-valid',
  CertificateRevoked: 'certificate-revoked',
  /** The broker refused our certificate, or its absence (mTLS). */
  ClientCertificateRejected: 'client-certificate-rejected',
  /** No TLS version (or cipher) both sides accept. */
  ProtocolVersion: 'protocol-version',
  /** The broker ended the handshake with a bare handshake_failure alert: no cipher in common, or (TLS 1.2) no client certificate. */
  HandshakeRefused: 'handshake-refused',
  /** The peer does not speak TLS (a plaintext listener). */
  NotTls: 'not-tls',
  /** Anything else during the handshake, e.g. the connection dropped mid-handshake. Retriable. */
  HandshakeFailed: 'handshake-failed',
  /** A TLS error on an established connection (a record that does not decrypt, an alert). Retriable. */
  SessionFailed: 'session-failed',
} as const;
export type TlsFailure = (typeof TlsFailure)[keyof typeof TlsFailure];

/**
 * A TLS connection failed. `code` is the runtime's (OpenSSL's verify result
 * name, `ERR_TLS_CERT_ALTNAME_INVALID`, `ERR_SSL_...`), `reason` says which kind,
 * `cause` is the runtime's error. `retriable` is false when retrying the same
 * connection cannot succeed until someone changes a certificate or the
 * configuration (every kind but `handshake-failed`), the way the Java client
 * treats an `SslAuthenticationException`.
 *
 * Identified by `name === 'TlsError'` and `tlsFailure` (a brand, not
 * `instanceof`: adapters and core may load different copies).
 */
export class TlsError extends Error {
  override readonly name = 'TlsError';
  readonly code: string;
  readonly reason: TlsFailure;
  readonly retriable: boolean;
  readonly host: string;
  readonly port: number;
  /** Brand: true on every TlsError. */
  readonly tlsFailure = true;

  constructor(reason: TlsFailure, code: string, host: string, port: number, cause: Error) {
    super(`${prefix(reason, host, port)}: ${explain(reason, host)} (${code}: ${cause.message})`, { cause });
    this.code = code;
    this.reason = reason;
    this.retriable = reason === TlsFailure.HandshakeFailed || reason === TlsFailure.SessionFailed;
    this.host = host;
    this.port = port;
  }
}

/** True for a TlsError from either adapter (by brand). */
export function isTlsError(error: unknown): error is TlsError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { tlsFailure?: unknown }).tlsFailure === true &&
    (error as { name?: unknown }).name === 'TlsError'
  );
}

function prefix(reason: TlsFailure, host: string, port: number): string {
  if (reason === TlsFailure.ClientCertificateRejected)
    return `TLS connection to ${host}:${port} refused by the broker`;
  if (reason === TlsFailure.SessionFailed) return `TLS connection to ${host}:${port} failed`;
  return `TLS handshake with ${host}:${port} failed`;
}

function explain(reason: TlsFailure, host: string): string {
  switch (reason) {
    case TlsFailure.UntrustedCertificate:
      return "the broker's certificate is not signed by a trusted CA (check `ca`)";
    case TlsFailure.HostnameMismatch:
      return `the broker's certificate is not valid for the host name ${JSON.stringify(host)} (check its subjectAltName, or \`servername\`)`;
    case TlsFailure.CertificateExpired:
      return "the broker's certificate has expired";
    case TlsFailure.CertificateNotYetValid:
      return "the broker's certificate is not valid yet (check the clocks)";
    case TlsFailure.CertificateRevoked:
      return "the broker's certificate has been revoked";
    case TlsFailure.ClientCertificateRejected:
      return 'it requires a client certificate it trusts (check `cert` and `key`)';
    case TlsFailure.ProtocolVersion:
      return 'no TLS version or cipher suite in common (check `minVersion`)';
    case TlsFailure.HandshakeRefused:
      return 'the broker refused the handshake (no cipher suite in common, or it wants a client certificate it trusts)';
    case TlsFailure.NotTls:
      return 'the broker does not speak TLS on this port (a plaintext listener?)';
    case TlsFailure.HandshakeFailed:
      return 'the connection failed during the TLS handshake';
    case TlsFailure.SessionFailed:
      return 'TLS error on the established connection';
  }
}

const VERIFY_REASONS: Record<string, TlsFailure> = {
  UNABLE_TO_GET_ISSUER_CERT: TlsFailure.UntrustedCertificate,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TlsFailure.UntrustedCertificate,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TlsFailure.UntrustedCertificate,
  SELF_SIGNED_CERT_IN_CHAIN: TlsFailure.UntrustedCertificate,
  DEPTH_ZERO_SELF_SIGNED_CERT: TlsFailure.UntrustedCertificate,
  CERT_UNTRUSTED: TlsFailure.UntrustedCertificate,
  CERT_SIGNATURE_FAILURE: TlsFailure.UntrustedCertificate,
  CERT_CHAIN_TOO_LONG: TlsFailure.UntrustedCertificate,
  INVALID_CA: TlsFailure.UntrustedCertificate,
  PATH_LENGTH_EXCEEDED: TlsFailure.UntrustedCertificate,
  INVALID_PURPOSE: TlsFailure.UntrustedCertificate,
  CERT_REJECTED: TlsFailure.UntrustedCertificate,
  ERR_TLS_CERT_ALTNAME_INVALID: TlsFailure.HostnameMismatch,
  HOSTNAME_MISMATCH: TlsFailure.HostnameMismatch,
  IP_ADDRESS_MISMATCH: TlsFailure.HostnameMismatch,
  CERT_HAS_EXPIRED: TlsFailure.CertificateExpired,
  CERT_NOT_YET_VALID: TlsFailure.CertificateNotYetValid,
  CERT_REVOKED: TlsFailure.CertificateRevoked,
};

/** Alert names (Node's `ERR_SSL_..._ALERT_<NAME>` codes, Bun's messages) meaning the peer refused us. */
const CLIENT_REJECTED =
  /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED|CERTIFICATE_EXPIRED|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|DECRYPT_ERROR)|PEER_DID_NOT_RETURN_A_CERTIFICATE/i;
const PROTOCOL =
  /ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|NO_SHARED_CIPHER|ALERT_INSUFFICIENT_SECURITY/i;
const REFUSED = /ALERT_HANDSHAKE_FAILURE/i;
const NOT_TLS =
  /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|RECORD_LENGTH_MISMATCH|UNKNOWN_PROTOCOL/i;

/**
 * Classifies `error`, raised by a TLS socket to `host:port`, as a TlsError, or
 * returns it unchanged when it is not about TLS (ECONNREFUSED, a reset after
 * the handshake, our own connect timeout). `handshakeDone` says whether the
 * handshake had completed: a reset before that is a failed handshake.
 */
export function classifyTlsError(error: Error, host: string, port: number, handshakeDone: boolean): Error {
  if (isTlsError(error)) return error;
  const raw = (error as { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : '';
  const text = `${code} ${error.message}`;
  const verify = VERIFY_REASONS[code];
  let reason: TlsFailure | undefined = verify;
  if (reason === undefined) {
    if (CLIENT_REJECTED.test(text)) reason = TlsFailure.ClientCertificateRejected;
    else if (PROTOCOL.test(text)) reason = TlsFailure.ProtocolVersion;
    else if (REFUSED.test(text)) reason = TlsFailure.HandshakeRefused;
    else if (NOT_TLS.test(text)) reason = TlsFailure.NotTls;
    else if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
      reason = handshakeDone ? TlsFailure.SessionFailed : TlsFailure.HandshakeFailed;
    } else if (!handshakeDone && (code === 'ECONNRESET' || code === 'EPIPE')) {
      reason = TlsFailure.HandshakeFailed;
    }
  }
  if (reason === undefined) return error;
  return new TlsError(reason, code || 'ERR_TLS', host, port, error);
}
