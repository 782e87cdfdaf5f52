/**
 * Which certificate authorities an endpoint's TLS connections trust (RFC 5280 chains, checked by
 * Node's TLS):
 * - the runtime's defaults: Node's bundled Mozilla roots plus `NODE_EXTRA_CA_CERTS`;
 * - the OS trust store, where the runtime can read it: `tls.getCACertificates('system')` (Node
 *   22.15+/23.8+, and so the Node inside Electron); on Node 20 there is no such API, so the OS store
 *   is not used;
 * - the endpoint's own `ca`: PEM text from `--ca FILE`, added to the above, never replacing them.
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { PEM_CERT_RE, parsePemCertificates } from '../../common-node/net.js';
import { errorMessage } from '../../common/errors.js';

/** Where the trusted CAs of a runtime come from, for `doctor`. */
export interface TrustSources {
  /** True when the OS trust store is read (`tls.getCACertificates('system')` exists). */
  system: boolean;
  /** Number of CA certificates trusted before the endpoint's own. */
  defaults: number;
}

type CaKind = 'default' | 'system';
const getCACertificates = (tls as { getCACertificates?: (kind: CaKind) => string[] }).getCACertificates;

let base: string[] | undefined;

/**
 * The CAs trusted before any endpoint's own, computed once per process: the runtime's default store
 * (`tls.getCACertificates('default')`, or on Node 20 the bundled roots plus `NODE_EXTRA_CA_CERTS`,
 * which Node only adds to its implicit store) and the OS store where readable.
 */
function baseCas(): string[] {
  if (base) return base;
  if (getCACertificates) {
    let system: string[] = [];
    try {
      system = getCACertificates('system');
    } catch {
      // an OS store that cannot be read: the runtime's own CAs still apply
    }
    base = [...new Set([...getCACertificates('default'), ...system])];
  } else {
    const extra: string[] = [];
    const file = process.env['NODE_EXTRA_CA_CERTS'];
    if (file) {
      try {
        extra.push(...(readFileSync(file, 'utf8').match(PEM_CERT_RE) ?? []));
      } catch {
        // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at startup
      }
    }
    base = [...tls.rootCertificates, ...extra];
  }
  return base;
}

/** What {@link baseCas} draws on. */
export function trustSources(): TrustSources {
  return { system: getCACertificates !== undefined, defaults: baseCas().length };
}

/**
 * The TLS context of an endpoint: undefined when Node's own defaults are all it trusts (no OS store
 * to add, no `ca` of its own), so plain connections keep Node's default context. One context per
 * endpoint, so the CA list is parsed once, not on every connection. Never throws: stored PEM that
 * no longer parses is left out (`doctor` says so in its config step, {@link caProblem}).
 * @param ca the endpoint's PEM text (`EndpointConfig.ca`)
 */
export function secureContextFor(ca: string | undefined): tls.SecureContext | undefined {
  if (!ca && !getCACertificates) return undefined;
  const own = ca && caProblem(ca) === undefined ? (ca.match(PEM_CERT_RE) ?? []) : [];
  return tls.createSecureContext({ ca: [...baseCas(), ...own] });
}

/** Why an endpoint's stored `ca` cannot be used, or undefined when it can. */
export function caProblem(ca: string): string | undefined {
  try {
    parsePemCertificates(ca, "the endpoint's CA certificates");
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}
