/**
 * What the layers of one `mcp-tether doctor` run of an endpoint reached by URL share: the
 * endpoint, where it is, its agents and trust, what earlier layers found (credentials, the proxy)
 * and what is to be ended when the run finishes.
 */
import { isIP } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { EndpointCredentials } from '../../auth/credentials.js';
import { secureContextFor } from '../../net/ca.js';
import type { ProxyChoice } from '../../net/proxy.js';
import { createAgents, type Agents } from '../../upstream/http.js';
import type { HttpEndpointConfig } from './http-findings.js';
import { defaultPort } from './network-findings.js';

/** Largest response body the doctor reads from one raw request (bytes). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Time allowed for ending a session the doctor opened (ms). */
export const CLOSE_TIMEOUT_MS = 2000;

/** See the module comment. */
export class DoctorTarget {
  readonly url: URL;
  /** The URL's host, without the brackets of an IPv6 address. */
  readonly host: string;
  readonly port: number;
  /** The bound of every network action (ms): the endpoint's `connectTimeoutMs`. */
  readonly timeoutMs: number;
  /** The endpoint's own agents: its CAs and its proxy, as the relay uses them. */
  readonly agents: Agents;
  /** The endpoint's TLS trust (its CAs), as its agents have it. */
  readonly secureContext: SecureContext | undefined;
  /** The proxy the endpoint's connections go through, when one applies (found by the proxy step). */
  proxyChoice: ProxyChoice | undefined;
  /** The endpoint's credentials for this run (read at the config step), never shown. */
  creds: Record<string, string> = {};
  /** What to end when the run finishes (raw responses, sessions, sockets), in order of creation. */
  readonly cleanups: (() => Promise<void> | void)[] = [];

  /** @throws TypeError when `config.url` is not a URL */
  constructor(
    readonly name: string,
    readonly config: HttpEndpointConfig,
    readonly auth?: EndpointCredentials,
  ) {
    this.url = new URL(config.url);
    this.host = this.url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(this.url.port) || defaultPort(this.url.protocol);
    this.timeoutMs = config.connectTimeoutMs;
    this.agents = createAgents(undefined, { name, config });
    this.secureContext = secureContextFor(config.ca);
  }

  /** `host:port` for people (IPv6 in brackets). */
  get where(): string {
    return `${isIP(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port}`;
  }
}
