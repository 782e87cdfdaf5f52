/**
 * What the doctor's network layers found (DNS, TCP, TLS), as details and hints for people: pure
 * functions of what was observed, no I/O (unit-tested in test/unit/doctor-hints.test.ts).
 */
import type { DetailedPeerCertificate } from 'node:tls';
import type { Finding } from './steps.js';

/** The default port of a URL scheme (RFC 9110 §4.2, RFC 6455 §3). */
export function defaultPort(protocol: string): number {
  return protocol === 'https:' || protocol === 'wss:' ? 443 : 80;
}

/**
 * What a failed DNS lookup means.
 * @param code the lookup error's code (`ENOTFOUND`, `EAI_AGAIN`…), or `TIMEOUT`
 * @param timeoutMs the time the lookup was given (ms)
 */
export function dnsFailure(code: string | undefined, host: string, timeoutMs: number): Finding {
  const hint =
    `check the host name "${host}" for typos; if it is only known inside a VPN or tailnet ` +
    '(a Tailscale MagicDNS name, a corporate host), make sure that VPN is connected on this machine';
  switch (code) {
    case 'TIMEOUT':
      return { ok: false, detail: `looking up "${host}" took longer than ${timeoutMs} ms`, hint };
    case 'ENOTFOUND':
    case 'ENODATA':
      return { ok: false, detail: `"${host}" has no address (${code})`, hint };
    case 'EAI_AGAIN':
      return {
        ok: false,
        detail: `temporary DNS failure looking up "${host}" (EAI_AGAIN)`,
        hint: `the DNS server did not answer: check this machine's network connection; ${hint}`,
      };
    default:
      return { ok: false, detail: `looking up "${host}" failed (${code ?? 'unknown error'})`, hint };
  }
}

/**
 * What a failed TCP connect means.
 * @param code the socket error's code (`ECONNREFUSED`, `EHOSTUNREACH`…), or `TIMEOUT`
 * @param timeoutMs the connect timeout (ms)
 */
export function tcpFailure(code: string | undefined, host: string, port: number, timeoutMs: number): Finding {
  const where = `${host}:${port}`;
  const vpn =
    'a firewall may be dropping the packets, or the host is only reachable over a VPN or tailnet ' +
    `that is not connected; also check that port ${port} is open on the server`;
  switch (code) {
    case 'ECONNREFUSED':
      return {
        ok: false,
        detail: `connection refused by ${where}`,
        hint:
          `nothing listens on ${where}: is the server running, and is this the right port? ` +
          '(With an SSH tunnel: is the tunnel up, and forwarding this local port?)',
      };
    case 'TIMEOUT':
    case 'ETIMEDOUT':
      return { ok: false, detail: `no answer from ${where} within ${timeoutMs} ms`, hint: vpn };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return { ok: false, detail: `no route to ${where} (${code})`, hint: vpn };
    case 'ECONNRESET':
      return {
        ok: false,
        detail: `${where} reset the connection`,
        hint: 'something between here and the server (a firewall, a proxy) or the server itself closes connections at once',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        ok: false,
        detail: `connecting to ${where} is not permitted here (${code})`,
        hint: 'a local firewall or security policy blocks the connection',
      };
    default:
      return {
        ok: false,
        detail: `cannot connect to ${where} (${code ?? 'unknown error'})`,
        hint: vpn,
      };
  }
}

/** The certificate facts {@link tlsVerificationHint} refers to. */
export interface CertFacts {
  /** The host name the URL names. */
  host: string;
  /** The names the certificate is for: CN and subject alternative names. */
  names: string[];
  /** ISO 8601. */
  validFrom?: string;
  /** ISO 8601. */
  validTo?: string;
  /** The issuer of the server's certificate, e.g. `CN=Corp Root CA`. */
  issuer?: string;
}

/**
 * What to do about a certificate Node's TLS verification refused.
 * @param code `authorizationError` of the TLS socket (OpenSSL's verify code, or Node's
 *   `ERR_TLS_CERT_ALTNAME_INVALID` for a host name mismatch)
 * @returns what the problem is, for the detail, and the hint
 */
export function tlsVerificationHint(code: string, facts: CertFacts): { problem: string; hint: string } {
  const ownCa =
    "or, for a private CA (your organisation's, or a TLS-inspecting proxy's), trust its certificate for this endpoint: " +
    `re-add it with --ca FILE, FILE being ${facts.issuer ? `the certificate of ${facts.issuer}` : 'the CA certificate'} in PEM`;
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return {
        problem:
          code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
            ? 'self-signed certificate'
            : 'self-signed certificate in the chain',
        hint:
          'the server uses a self-signed certificate, which nothing here vouches for: give it a certificate ' +
          `from a CA this machine trusts (Let's Encrypt; \`tailscale cert\` on a tailnet), ${ownCa}`,
      };
    case 'CERT_HAS_EXPIRED':
      return {
        problem: `certificate expired${facts.validTo ? ` on ${facts.validTo}` : ''}`,
        hint: "renew the server's certificate (and check that this machine's clock is right)",
      };
    case 'CERT_NOT_YET_VALID':
      return {
        problem: `certificate not valid before ${facts.validFrom ?? 'its start date'}`,
        hint: "check the clocks of this machine and of the server; else reissue the server's certificate",
      };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return {
        problem: `host name mismatch: the certificate is for ${facts.names.join(', ') || 'no names'}, not "${facts.host}"`,
        hint:
          `connect with a host name the certificate covers (${facts.names.join(', ') || 'none'}), or reissue it ` +
          `with "${facts.host}" as a subject alternative name`,
      };
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return {
        problem: `certificate issuer not trusted (${code})`,
        hint: `the server may not send its intermediate certificates (serve the full chain), ${ownCa}`,
      };
    default:
      return {
        problem: `certificate not accepted (${code})`,
        hint: `fix the server's certificate, ${ownCa}`,
      };
  }
}

/**
 * What a TLS handshake that did not complete means.
 * @param code the error's code, or `TIMEOUT`
 */
export function tlsHandshakeFailure(
  code: string | undefined,
  message: string,
  where: string,
  timeoutMs: number,
): Finding {
  if (code === 'TIMEOUT') {
    return {
      ok: false,
      detail: `no TLS handshake with ${where} within ${timeoutMs} ms`,
      hint: 'the port may not speak TLS at all (is the URL http:// rather than https://?), or the server is overloaded',
    };
  }
  if (
    /WRONG_VERSION_NUMBER|wrong version number|packet length too long|http request/i.test(
      `${code} ${message}`,
    )
  ) {
    return {
      ok: false,
      detail: `${where} does not speak TLS (${code ?? message})`,
      hint: 'the server answers in plain text: use an http:// (or ws://) URL, or point the URL at its TLS port',
    };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return {
      ok: false,
      detail: `${where} closed the connection during the TLS handshake`,
      hint: 'the server may not speak TLS on this port, or it refuses this client (TLS version, SNI name, client certificate)',
    };
  }
  return {
    ok: false,
    detail: `TLS handshake with ${where} failed: ${message}`,
    hint: "check the server's TLS setup (protocol versions, ciphers, certificate)",
  };
}

/** A distinguished name for people: `CN=localhost, O=Example`. */
export function dn(name: Record<string, string | string[] | undefined> | undefined): string {
  if (!name) return '(none)';
  return (
    Object.entries(name)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
      .join(', ') || '(empty)'
  );
}

/** A certificate time (`Mar 1 12:00:00 2026 GMT`) as ISO 8601, or as given when unparsable. */
export function isoTime(d: string | undefined): string | undefined {
  const t = d ? Date.parse(d) : NaN;
  return Number.isNaN(t) ? d : new Date(t).toISOString();
}

/**
 * The chain a TLS server sent, leaf first: subject, issuer and validity of each certificate
 * (RFC 5280 §4.1.2.4-6), e.g. `1. subject CN=localhost; issuer CN=Corp CA; valid 2026-01-01T… to …`.
 */
export function certificateChain(leaf: DetailedPeerCertificate): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.fingerprint256; c = c.issuerCertificate) {
    if (seen.has(c.fingerprint256)) break; // a self-signed root is its own issuer
    seen.add(c.fingerprint256);
    lines.push(
      `${lines.length + 1}. subject ${dn(c.subject as unknown as Record<string, string>)}; issuer ${dn(
        c.issuer as unknown as Record<string, string>,
      )}; valid ${isoTime(c.valid_from)} to ${isoTime(c.valid_to)}`,
    );
  }
  return lines;
}
