/**
 * `mcp-tether doctor <name>`: diagnoses one endpoint layer by layer and stops at the first layer
 * that fails, saying what was found and what to try.
 *
 * Layers, in order: config → proxy → dns → tcp → tls (https/wss only) → http (http/https only) →
 * transport → initialize → ping. The proxy layer says which proxy the endpoint's connections use
 * and where that came from (--proxy, the environment, the OS settings) and opens a CONNECT tunnel
 * through it; with a proxy, dns and tcp are the proxy's business and are skipped, and tls runs over
 * the tunnel. The layers up to transport look at the network with plain requests of their own
 * (through the endpoint's own agents: its CAs and proxy); the last two go through the product's own
 * upstream code ({@link openUpstream}), so they fail exactly where the relay would.
 *
 * Guarantees: every network action is bounded by the endpoint's `connectTimeoutMs`; network
 * failures become failed steps, never exceptions; only the configured URL's origin is contacted
 * (the wrong-path probes of {@link COMMON_PATHS} stay on that origin); every session the doctor
 * opens is ended (Streamable HTTP: DELETE) and every socket is closed before it returns.
 */
import { lookup } from 'node:dns/promises';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import {
  connect as tlsConnect,
  type DetailedPeerCertificate,
  type PeerCertificate,
  type SecureContext,
} from 'node:tls';
import WebSocket from 'ws';
import type { DoctorReport, DoctorStep } from '../../common/domain.js';
import { ErrorCode, TetherError, toTetherError } from '../../common/errors.js';
import type { JsonRpcMessage } from '../../common/jsonrpc.js';
import type { EndpointConfig, TransportKind } from '../../common/schemas.js';
import type { EndpointCredentials } from '../auth/credentials.js';

/** An endpoint reached directly by URL (not over SSH). */
type HttpEndpointConfig = EndpointConfig & { url: string };
import {
  discoverProbe,
  internalHandlers,
  legacyHandshake,
  liveness,
  type ModernContext,
} from '../protocol/handshake.js';
import { classifyProbeAnswer, LATEST_LEGACY_VERSION, type Era } from '../protocol/versions.js';
import { InternalCalls } from '../relay/internal-calls.js';
import { addMessageHeaders } from '../upstream/headers.js';
import { caProblem, secureContextFor, trustSources } from '../net/ca.js';
import { chooseProxy, describeProxy, openTunnel, proxyCredentials, type ProxyChoice } from '../net/proxy.js';
import { createAgents, readBody, readSse, sendHttp, type Agents } from '../upstream/http.js';
import { shellQuote } from '../upstream/ssh-stdio.js';
import { openUpstream } from '../upstream/open.js';
import type { ConcreteTransport, OutboundMessage, UpstreamConnection } from '../upstream/types.js';

/** What one check found: the fields of a {@link DoctorStep} without the layer and the timing. */
export interface Finding {
  ok: boolean;
  detail: string;
  /** What to try; only meaningful when `ok` is false. */
  hint?: string;
}

/**
 * The paths probed on the configured origin when the configured path answers 404 (or is not an MCP
 * endpoint): where MCP servers conventionally serve Streamable HTTP (`/mcp`), the legacy HTTP+SSE
 * stream (`/sse`, MCP 2024-11-05), or everything (`/`).
 */
export const COMMON_PATHS = ['/mcp', '/sse', '/'] as const;

/** Largest response body the doctor reads from one raw request (bytes). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Time allowed for ending a session the doctor opened (ms). */
const CLOSE_TIMEOUT_MS = 2000;

/** The default port of a URL scheme (RFC 9110 §4.2, RFC 6455 §3). */
export function defaultPort(protocol: string): number {
  return protocol === 'https:' || protocol === 'wss:' ? 443 : 80;
}

/**
 * The command that re-adds endpoint `name` with another URL or transport, keeping its headers:
 * `mcp-tether remove x && mcp-tether add x <url> [--transport t] [--header 'N: v']…`.
 * `auto` is the default transport, so it is left out.
 */
export function readdCommand(
  name: string,
  url: string,
  transport: TransportKind,
  headers: Record<string, string> = {},
): string {
  const parts = ['mcp-tether', 'add', shellQuote(name), shellQuote(url)];
  if (transport !== 'auto') parts.push('--transport', transport);
  for (const [k, v] of Object.entries(headers)) parts.push('--header', shellQuote(`${k}: ${v}`));
  return `mcp-tether remove ${shellQuote(name)} && ${parts.join(' ')}`;
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

/**
 * What an HTTP status that is neither success nor the path/transport statuses (400, 404, 405)
 * means for an MCP `initialize` POST.
 * @param wwwAuthenticate the `WWW-Authenticate` header of a 401, when present
 */
export function httpStatusFinding(
  status: number,
  statusLine: string,
  location?: string,
  wwwAuthenticate?: string,
): Finding {
  if (status === 401 || status === 403) {
    return {
      ok: false,
      detail: statusLine,
      hint:
        `the server needs authentication (HTTP ${status}${wwwAuthenticate ? `; WWW-Authenticate: ${wwwAuthenticate.slice(0, 200)}` : ''}). ` +
        'Give the endpoint credentials from the OS keychain: add it with --auth bearer, --auth header:NAME or ' +
        '--auth oauth, then store the secret (mcp-tether secret set <name>) or sign in (mcp-tether login <name>); ' +
        'if it has them already, the server refused them: store a valid secret, or sign in again',
    };
  }
  if (status >= 300 && status < 400) {
    return {
      ok: false,
      detail: `${statusLine}${location ? ` → ${location}` : ''}`,
      hint: location
        ? `the server redirects to ${location}; MCP Tether does not follow redirects: configure that URL instead`
        : 'the server redirects without a Location; configure the final URL instead',
    };
  }
  if (status === 502 || status === 503 || status === 504) {
    return {
      ok: false,
      detail: statusLine,
      hint: `a proxy or gateway in front of the MCP server answered HTTP ${status}: is the MCP server behind it running and reachable from the proxy?`,
    };
  }
  if (status >= 500) {
    return {
      ok: false,
      detail: statusLine,
      hint: `the server failed while handling initialize (HTTP ${status}): check the server's logs`,
    };
  }
  return {
    ok: false,
    detail: statusLine,
    hint: `the server answered an MCP initialize with HTTP ${status}: this does not look like an MCP endpoint`,
  };
}

/** What a probe of one of {@link COMMON_PATHS} found. */
export interface PathProbe {
  /** The absolute URL probed. */
  url: string;
  /** `streamable-http` or `sse` when an MCP server answers there. */
  found?: 'streamable-http' | 'sse';
  /** What answered, e.g. "HTTP 404 Not Found" or "Streamable HTTP MCP server". */
  detail: string;
}

/**
 * The hint for a configured path that is not an MCP endpoint (usually HTTP 404), from what the
 * probes of the same origin's {@link COMMON_PATHS} found.
 */
export function wrongPathHint(
  name: string,
  config: Pick<HttpEndpointConfig, 'url' | 'transport' | 'headers'>,
  why: string,
  probes: PathProbe[],
): string {
  const path = new URL(config.url).pathname;
  const lines = [`the path ${path} is probably wrong (${why}).`];
  const streamable = probes.find((p) => p.found === 'streamable-http');
  const sse = probes.find((p) => p.found === 'sse');
  if (streamable) {
    lines.push(
      `A Streamable HTTP MCP server answers at ${streamable.url}: run \`${readdCommand(
        name,
        streamable.url,
        config.transport === 'sse' ? 'auto' : config.transport,
        config.headers,
      )}\`.`,
    );
  }
  if (sse) {
    lines.push(
      `${streamable ? 'Also, a' : 'A'} legacy SSE endpoint (HTTP+SSE, MCP 2024-11-05) answers at ${sse.url}: ` +
        `use --transport sse (or auto): run \`${readdCommand(name, sse.url, 'sse', config.headers)}\`.`,
    );
  }
  if (!streamable && !sse) {
    lines.push(
      probes.length > 0
        ? `No MCP server answers at this origin's common paths either (${probes.map((p) => `${new URL(p.url).pathname}: ${p.detail}`).join('; ')}): check the server's documentation or logs for its MCP path, and that this port is the MCP server's.`
        : "Check the server's documentation or logs for its MCP path.",
    );
  } else {
    lines.push(`(Tried ${probes.map((p) => `${new URL(p.url).pathname}: ${p.detail}`).join('; ')}.)`);
  }
  return lines.join(' ');
}

/**
 * Whether the transport the server speaks works with the configured one (`auto` follows MCP
 * 2025-03-26 §Transports backwards compatibility: Streamable HTTP first, legacy SSE on 400/404/405).
 * @returns ok, or a hint with the command that fixes the endpoint
 */
export function transportVerdict(
  name: string,
  config: Pick<HttpEndpointConfig, 'url' | 'transport' | 'headers'>,
  observed: ConcreteTransport,
): { ok: boolean; hint?: string } {
  const configured = config.transport;
  if (configured === 'auto' || configured === observed) return { ok: true };
  if (observed === 'sse') {
    return {
      ok: false,
      hint:
        'this is a legacy HTTP+SSE server (MCP 2024-11-05): it refuses the Streamable HTTP POST and opens an ' +
        `event stream on GET, but the endpoint is set to --transport ${configured}. --transport auto or sse ` +
        `handles it: run \`${readdCommand(name, config.url, 'sse', config.headers)}\``,
    };
  }
  if (observed === 'streamable-http') {
    return {
      ok: false,
      hint:
        `the server speaks Streamable HTTP, but the endpoint is set to --transport ${configured}, which will fail: ` +
        `run \`${readdCommand(name, config.url, 'auto', config.headers)}\``,
    };
  }
  return {
    ok: false,
    hint: `the server speaks WebSocket, but the endpoint is set to --transport ${configured}: use a ws:// or wss:// URL`,
  };
}

/**
 * What a refused or failed WebSocket handshake means.
 * @param status the HTTP status that refused the upgrade, when there was one
 */
export function webSocketFailure(status: number | undefined, message: string, url: string): Finding {
  if (status === 401 || status === 403) {
    return { ...httpStatusFinding(status, `WebSocket handshake refused with HTTP ${status}`), ok: false };
  }
  if (status === 404) {
    return {
      ok: false,
      detail: `WebSocket handshake refused with HTTP 404`,
      hint: `nothing accepts WebSocket connections at ${new URL(url).pathname}: the path is probably wrong`,
    };
  }
  if (status !== undefined) {
    return {
      ok: false,
      detail: `WebSocket handshake refused with HTTP ${status}`,
      hint:
        status === 200 || status === 400 || status === 405 || status === 426
          ? 'this URL answers plain HTTP, not a WebSocket upgrade: if it is a Streamable HTTP or SSE MCP server, use an http(s):// URL'
          : `the server refused the upgrade (HTTP ${status}): check the server's logs`,
    };
  }
  if (/subprotocol/i.test(message)) {
    return {
      ok: false,
      detail: `WebSocket handshake failed: ${message}`,
      hint: 'the server does not accept the `mcp` WebSocket subprotocol: it may not be an MCP WebSocket server',
    };
  }
  if (/timed out|timeout/i.test(message)) {
    return {
      ok: false,
      detail: `WebSocket handshake failed: ${message}`,
      hint: 'the server accepted the connection but did not complete the WebSocket handshake in time: is this port a WebSocket server (and not, say, SSH, or a TLS port named ws://)? Is it overloaded?',
    };
  }
  return {
    ok: false,
    detail: `WebSocket handshake failed: ${message}`,
    hint: `check that ${url} is a WebSocket MCP endpoint`,
  };
}

/** A distinguished name for people: `CN=localhost, O=Example`. */
function dn(name: Record<string, string | string[] | undefined> | undefined): string {
  if (!name) return '(none)';
  return (
    Object.entries(name)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
      .join(', ') || '(empty)'
  );
}

/** A certificate time (`Mar 1 12:00:00 2026 GMT`) as ISO 8601, or as given when unparsable. */
function isoTime(d: string | undefined): string | undefined {
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

/** Resolves with `p`, or rejects with `onTimeout()` after `ms`; a late rejection of `p` is ignored. */
function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  p.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
}

function errCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: { code?: unknown }[] };
  if (typeof e?.code === 'string') return e.code;
  // Happy-eyeballs connects (Node 20's autoSelectFamily) fail with an AggregateError.
  const inner = e?.errors?.find((x) => typeof x?.code === 'string');
  return typeof inner?.code === 'string' ? inner.code : undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function statusLine(res: IncomingMessage): string {
  return `HTTP ${res.statusCode ?? 0}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
}

function contentType(res: IncomingMessage): string {
  return String(res.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

/** A path with any query shortened, so session ids in query strings are not printed. */
function redactedPath(u: URL): string {
  return `${u.pathname}${u.search ? '?…' : ''}`;
}

/** Who the doctor says it is. */
const DOCTOR_CONTEXT: ModernContext = {
  clientInfo: { name: 'mcp-tether-doctor', version: '1' },
  capabilities: {},
};

/** The answer to a raw `initialize` POST, read as JSON or an SSE stream. */
interface InitializeAnswer {
  framing: 'json' | 'sse';
  /** The JSON-RPC response to our request, when it came. */
  answer?: JsonRpcMessage;
  /** Why no answer was read, when none was. */
  problem?: string;
}

/** An `initialize` request of the doctor's own, for raw probes. */
function rawInitialize(id: string): OutboundMessage {
  const parsed: JsonRpcMessage = {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_LEGACY_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcp-tether-doctor', version: '1' },
    },
  };
  return { text: JSON.stringify(parsed), info: { kind: 'request', id, method: 'initialize' }, parsed };
}

/** Reads the answer to a raw `initialize` POST that got HTTP 200; never waits longer than `timeoutMs`. */
async function readInitializeAnswer(
  res: IncomingMessage,
  id: string,
  timeoutMs: number,
): Promise<InitializeAnswer> {
  const isAnswer = (m: unknown): m is JsonRpcMessage =>
    typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id;
  if (contentType(res) === 'text/event-stream') {
    let answer: JsonRpcMessage | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      res.destroy();
    }, timeoutMs);
    await readSse(
      res,
      (e) => {
        if (answer || e.data.length === 0 || (e.event !== undefined && e.event !== 'message')) return;
        try {
          const m: unknown = JSON.parse(e.data);
          if (isAnswer(m)) {
            answer = m;
            res.destroy();
          }
        } catch {
          // not JSON: keep reading
        }
      },
      MAX_BODY_BYTES,
    );
    clearTimeout(timer);
    if (answer) return { framing: 'sse', answer };
    return {
      framing: 'sse',
      problem: timedOut
        ? `the event stream carried no response to initialize within ${timeoutMs} ms`
        : 'the event stream ended without a response to initialize',
    };
  }
  let body: string;
  try {
    body = await withTimeout(readBody(res, MAX_BODY_BYTES), timeoutMs, () => {
      res.destroy();
      return new TimeoutError(`the body did not arrive within ${timeoutMs} ms`);
    });
  } catch (err) {
    return { framing: 'json', problem: errMessage(err) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { framing: 'json', problem: `the body is not JSON (${body.length} characters)` };
  }
  const answer = Array.isArray(parsed) ? parsed.find(isAnswer) : isAnswer(parsed) ? parsed : undefined;
  return answer
    ? { framing: 'json', answer }
    : { framing: 'json', problem: 'the JSON body is not a response to initialize' };
}

/** What the http step saw, for the transport step. */
type HttpObservation =
  | { kind: 'streamable'; res: IncomingMessage; requestId: string; sessionId?: string }
  | { kind: 'legacy'; res: IncomingMessage; postStatus: number }
  /** A modern-only server: it refused the legacy initialize with a modern JSON-RPC error. */
  | { kind: 'modern'; versions: string[] };

/** One doctor run. */
class Doctor {
  readonly steps: DoctorStep[] = [];
  private readonly agents: Agents;
  /** The endpoint's TLS trust (its CAs), as its agents have it. */
  private readonly secureContext: SecureContext | undefined;
  /** The proxy the endpoint's connections go through, when one applies (found by the proxy step). */
  private proxyChoice: ProxyChoice | undefined;
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly url: URL;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private rawIds = 0;
  private readonly endedSessions = new Set<string>();
  private observation: HttpObservation | undefined;
  private conn: UpstreamConnection | undefined;
  private calls = new InternalCalls('doctor');
  /** The server's era, found by the initialize step. */
  private era: Era = 'legacy';
  /** The endpoint's credentials for this run (read at the config step), never shown. */
  private creds: Record<string, string> = {};

  constructor(
    private readonly name: string,
    private readonly config: HttpEndpointConfig,
    private readonly auth?: EndpointCredentials,
  ) {
    this.url = new URL(config.url);
    this.host = this.url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(this.url.port) || defaultPort(this.url.protocol);
    this.timeoutMs = config.connectTimeoutMs;
    // The endpoint's own agents: its CAs and its proxy, as the relay uses them.
    this.agents = createAgents(undefined, { name, config });
    this.secureContext = secureContextFor(config.ca);
  }

  private get where(): string {
    return `${isIP(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Runs one layer's check and records it; returns whether it passed. */
  private async step(layer: DoctorStep['layer'], check: () => Promise<Finding>): Promise<boolean> {
    const t0 = performance.now();
    let f: Finding;
    try {
      f = await check();
    } catch (err) {
      f = {
        ok: false,
        detail: `unexpected error: ${errMessage(err)}`,
        hint: 'this is a bug in MCP Tether’s doctor; the layers before this one are fine',
      };
    }
    const s: DoctorStep = {
      layer,
      ok: f.ok,
      detail: f.detail,
      ms: Math.round((performance.now() - t0) * 100) / 100,
    };
    if (!f.ok && f.hint) s.hint = f.hint;
    this.steps.push(s);
    return f.ok;
  }

  async run(): Promise<void> {
    if (!(await this.step('config', () => this.checkConfig()))) return;
    const secureTarget = this.url.protocol === 'https:' || this.url.protocol === 'wss:';
    try {
      this.proxyChoice = chooseProxy(this.config.proxy, this.host, this.port, secureTarget);
    } catch (err) {
      const e = toTetherError(err);
      await this.step('proxy', () => Promise.resolve({ ok: false, detail: e.message, hint: e.hint ?? '' }));
      return;
    }
    // Through a proxy, the proxy resolves and connects to the server: the proxy step covers both.
    if (this.proxyChoice) {
      if (!(await this.step('proxy', () => this.checkProxy()))) return;
    } else {
      if (!(await this.step('dns', () => this.checkDns()))) return;
      if (!(await this.step('tcp', () => this.checkTcp()))) return;
    }
    if (secureTarget && !(await this.step('tls', () => this.checkTls()))) return;
    const isHttp = this.url.protocol === 'http:' || this.url.protocol === 'https:';
    if (isHttp && !(await this.step('http', () => this.checkHttp()))) return;
    if (!(await this.step('transport', () => (isHttp ? this.checkHttpTransport() : this.checkWebSocket()))))
      return;
    if (!(await this.step('initialize', () => this.checkInitialize()))) return;
    await this.step('ping', () => this.checkPing());
  }

  /** Ends everything still open: raw responses, the doctor's session, the agents' sockets. */
  async cleanup(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // best effort: the doctor's report is what matters
      }
    }
    this.calls.failAll(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'doctor finished'));
    if (this.conn)
      await withTimeout(this.conn.close(), CLOSE_TIMEOUT_MS, () => new Error('close timed out')).catch(
        () => undefined,
      );
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async checkConfig(): Promise<Finding> {
    const c = this.config;
    const headers = Object.keys(c.headers);
    const detail =
      `${c.url}, transport ${c.transport}, connect timeout ${c.connectTimeoutMs} ms` +
      (headers.length ? `, headers: ${headers.join(', ')}` : ', no extra headers') +
      (c.proxy ? `, proxy ${c.proxy}` : '') +
      (c.ca ? ', CA certificates of its own (--ca)' : '');
    const badCa = c.ca ? caProblem(c.ca) : undefined;
    if (badCa)
      return {
        ok: false,
        detail: `${detail}; ${badCa}`,
        hint: 're-add the endpoint with --ca FILE, a valid PEM file',
      };
    if (!this.auth) return { ok: true, detail };
    try {
      this.creds = await this.auth.headers();
    } catch (err) {
      const e = toTetherError(err);
      return {
        ok: false,
        detail: `${detail}; credentials: ${e.message} (${e.code})`,
        hint: e.hint ?? 'see the message',
      };
    }
    return { ok: true, detail: `${detail}, credentials: ${this.auth.describe()}` };
  }

  /** Opens a CONNECT tunnel to the server through the endpoint's proxy (the caller ends it). */
  private async tunnel(): Promise<Socket> {
    const credentials = this.config.proxyAuth ? await proxyCredentials(this.name) : undefined;
    return openTunnel({ host: this.host, port: this.port }, false, {
      endpoint: this.name,
      choice: this.proxyChoice!,
      credentials,
      timeoutMs: this.timeoutMs,
      secureContext: this.secureContext,
    });
  }

  private async checkProxy(): Promise<Finding> {
    const proxy = describeProxy(this.proxyChoice!);
    const creds = this.config.proxyAuth ? `, credentials from the OS keychain (${this.name}/proxy)` : '';
    try {
      const socket = await this.tunnel();
      socket.destroy();
      return { ok: true, detail: `${proxy}${creds}: CONNECT ${this.where} → 200, tunnel open` };
    } catch (err) {
      const e = toTetherError(err);
      return {
        ok: false,
        detail: `${e.message}${creds}`,
        hint: e.hint ?? 'check the proxy setting',
      };
    }
  }

  private async checkDns(): Promise<Finding> {
    const family = isIP(this.host);
    if (family)
      return { ok: true, detail: `${this.host} is an IP address (IPv${family}): no DNS lookup needed` };
    try {
      const addrs = await withTimeout(
        lookup(this.host, { all: true, verbatim: true }),
        this.timeoutMs,
        () => new TimeoutError('dns timeout'),
      );
      if (addrs.length === 0) return dnsFailure('ENOTFOUND', this.host, this.timeoutMs);
      return {
        ok: true,
        detail: `${this.host} → ${addrs.map((a) => `${a.address} (IPv${a.family})`).join(', ')}`,
      };
    } catch (err) {
      return dnsFailure(errCode(err), this.host, this.timeoutMs);
    }
  }

  private checkTcp(): Promise<Finding> {
    return new Promise((resolve) => {
      const socket: Socket = netConnect({ host: this.host, port: this.port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(tcpFailure('TIMEOUT', this.host, this.port, this.timeoutMs));
      }, this.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        const detail = `connected to ${socket.remoteAddress}:${socket.remotePort} from ${socket.localAddress}:${socket.localPort}`;
        socket.destroy();
        resolve({ ok: true, detail });
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(tcpFailure(errCode(err), this.host, this.port, this.timeoutMs));
      });
    });
  }

  private async checkTls(): Promise<Finding> {
    let raw: Socket | undefined;
    if (this.proxyChoice) {
      try {
        raw = await this.tunnel();
      } catch (err) {
        return {
          ok: false,
          detail: `through the proxy: ${toTetherError(err).message}`,
          hint: 'see the proxy step',
        };
      }
    }
    const secureContext = this.secureContext;
    const trust = trustSources();
    const trusted =
      `trusting ${trust.defaults} CAs of the runtime` +
      (trust.system ? ' (its own and the OS store)' : ' (its own; this Node cannot read the OS store)') +
      (this.config.ca ? ' and the endpoint’s --ca' : '');
    return new Promise((resolve) => {
      // Verification is judged below (authorized / authorizationError), so the handshake may finish
      // on a bad certificate and the doctor can say what is wrong with it.
      const socket = tlsConnect({
        ...(raw ? { socket: raw } : { host: this.host, port: this.port }),
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
        ...(isIP(this.host) ? {} : { servername: this.host }),
        ...(secureContext ? { secureContext } : {}),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(tlsHandshakeFailure('TIMEOUT', 'timeout', this.where, this.timeoutMs));
      }, this.timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const cert: Partial<PeerCertificate> = socket.getPeerCertificate() ?? {};
        const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined;
        const sans = (cert.subjectaltname ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const facts: CertFacts = {
          host: this.host,
          names: [...new Set([...(cn ? [cn] : []), ...sans.map((s) => s.replace(/^(DNS|IP Address):/, ''))])],
          validFrom: isoTime(cert.valid_from),
          validTo: isoTime(cert.valid_to),
          ...(cert.issuer ? { issuer: dn(cert.issuer as unknown as Record<string, string>) } : {}),
        };
        const issuer = typeof cert.issuer?.CN === 'string' ? cert.issuer.CN : undefined;
        const desc =
          `${socket.getProtocol() ?? 'TLS'}, certificate CN=${cn ?? '(none)'}` +
          (sans.length ? ` SAN ${sans.join(', ')}` : '') +
          (issuer ? `, issuer CN=${issuer}` : '') +
          (facts.validTo ? `, expires ${facts.validTo}` : '');
        const authorized = socket.authorized;
        const code = socket.authorizationError ? String(socket.authorizationError) : undefined;
        const chain = certificateChain(socket.getPeerCertificate(true));
        socket.destroy();
        if (authorized) {
          resolve({ ok: true, detail: `${desc}; verified, ${trusted}` });
          return;
        }
        const v = tlsVerificationHint(code ?? 'UNKNOWN', facts);
        resolve({
          ok: false,
          detail: `${desc}; NOT verified: ${v.problem}${code && v.problem.includes(code) ? '' : ` (${code})`}, ${trusted}; chain sent by the server: ${chain.join(' ')}`,
          hint: v.hint,
        });
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(tlsHandshakeFailure(errCode(err), errMessage(err), this.where, this.timeoutMs));
      });
    });
  }

  /** Sends one raw HTTP request of the doctor's own, bounded by the connect timeout. */
  private request(url: URL, method: 'GET' | 'POST' | 'DELETE', headers: OutgoingHttpHeaders, body?: string) {
    const p = sendHttp(url, {
      method,
      headers: { ...this.config.headers, ...this.creds, ...headers },
      ...(body === undefined ? {} : { body }),
      agents: this.agents,
      connectTimeoutMs: this.timeoutMs,
      headersTimeoutMs: this.timeoutMs,
    });
    // A response is destroyed at the end at the latest, so no socket outlives the doctor.
    void p.then((res) => this.cleanups.push(() => void res.destroy())).catch(() => undefined);
    return p;
  }

  /** POSTs a raw `initialize` to `url` (Accept: JSON and SSE, as Streamable HTTP requires). */
  private postInitialize(url: URL): Promise<{ res: IncomingMessage; id: string }> {
    const id = `mcp-tether:doctor-http:${++this.rawIds}`;
    const msg = rawInitialize(id);
    const headers: OutgoingHttpHeaders = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    addMessageHeaders(headers, msg, undefined);
    return this.request(url, 'POST', headers, msg.text).then((res) => ({ res, id }));
  }

  /** GETs `url` as a legacy SSE client does (MCP 2024-11-05 §Transports/HTTP with SSE). */
  private getEventStream(url: URL): Promise<IncomingMessage> {
    return this.request(url, 'GET', { accept: 'text/event-stream' });
  }

  /** Ends a Streamable HTTP session the doctor's raw `initialize` opened. */
  private async deleteSession(url: URL, sessionId: string): Promise<void> {
    if (this.endedSessions.has(sessionId)) return;
    this.endedSessions.add(sessionId);
    try {
      const res = await this.request(url, 'DELETE', { 'mcp-session-id': sessionId });
      res.resume();
    } catch {
      // the server may not support DELETE (405) or be gone: nothing to end then
    }
  }

  /** True when `res` is an open SSE stream. */
  private static isEventStream(res: IncomingMessage): boolean {
    return res.statusCode === 200 && contentType(res) === 'text/event-stream';
  }

  private async checkHttp(): Promise<Finding> {
    const path = redactedPath(this.url);
    let posted: { res: IncomingMessage; id: string };
    try {
      posted = await this.postInitialize(this.url);
    } catch (err) {
      return this.httpNetworkFailure(err, `POST ${path}`);
    }
    const { res } = posted;
    const status = res.statusCode ?? 0;
    const ctype = contentType(res);
    const line = `POST ${path} (initialize) → ${statusLine(res)}${ctype ? `, ${ctype}` : ''}`;
    if (status === 200 && (ctype === 'application/json' || ctype === 'text/event-stream')) {
      const sid = res.headers['mcp-session-id'];
      const sessionId = typeof sid === 'string' && sid.length > 0 ? sid : undefined;
      if (sessionId) this.cleanups.push(() => this.deleteSession(this.url, sessionId));
      this.observation = {
        kind: 'streamable',
        res,
        requestId: posted.id,
        ...(sessionId ? { sessionId } : {}),
      };
      // Even when configured for legacy SSE: the transport step says the configuration is wrong.
      return { ok: true, detail: line };
    }
    const body = await withTimeout(
      readBody(res, 65_536),
      this.timeoutMs,
      () => new TimeoutError('body'),
    ).catch(() => '');
    const era = modernRefusal(body);
    if (status === 400 && era) {
      // MCP 2026-07-28 basic/versioning "Backward Compatibility": a recognized modern error in the
      // body of a 400 identifies a modern server; it is not a legacy one to fall back to.
      this.observation = { kind: 'modern', versions: era.versions };
      return {
        ok: true,
        detail: `${line}${jsonRpcErrorSummary(body)}: a modern (2026-07-28) server, which has no initialize`,
      };
    }
    if ([400, 404, 405].includes(status)) {
      // MCP 2025-03-26 §Transports, backwards compatibility: a POST refused with 400/404/405 may be a
      // legacy HTTP+SSE server, which opens its event stream on GET.
      let get: IncomingMessage | undefined;
      try {
        get = await this.getEventStream(this.url);
      } catch {
        get = undefined;
      }
      if (get && Doctor.isEventStream(get)) {
        this.observation = { kind: 'legacy', res: get, postStatus: status };
        return {
          ok: true,
          detail: `${line}; GET ${path} (Accept: text/event-stream) → ${statusLine(get)}, text/event-stream: looks like a legacy HTTP+SSE server`,
        };
      }
      const getLine = get
        ? `; GET ${path} → ${statusLine(get)}${contentType(get) ? `, ${contentType(get)}` : ''}`
        : '';
      get?.resume();
      if (status === 404 || status === 405) {
        const probes = await this.probeCommonPaths();
        return {
          ok: false,
          detail: `${line}${getLine}`,
          hint: wrongPathHint(
            this.name,
            this.config,
            status === 404
              ? 'HTTP 404: nothing is served there'
              : 'HTTP 405: POST is not accepted there, and GET is no event stream',
            probes,
          ),
        };
      }
      return {
        ok: false,
        detail: `${line}${jsonRpcErrorSummary(body)}${getLine}`,
        hint:
          'the server rejected the initialize request (HTTP 400) and a GET is not an event stream either: ' +
          'read the error above; if the server needs a particular header, add it with --header',
      };
    }
    if (status === 200 || status === 202 || status === 204) {
      const probes = status === 200 ? await this.probeCommonPaths() : [];
      return {
        ok: false,
        detail: line,
        hint:
          status === 200
            ? wrongPathHint(
                this.name,
                this.config,
                `HTTP 200 with ${ctype || 'no content type'}, not JSON or an event stream`,
                probes,
              )
            : `an initialize request needs a response (JSON or an event stream), but the server answered HTTP ${status}: this does not look like an MCP Streamable HTTP endpoint`,
      };
    }
    const loc = res.headers.location;
    const auth = res.headers['www-authenticate'];
    const f = httpStatusFinding(status, line, loc, typeof auth === 'string' ? auth : undefined);
    return { ...f, detail: `${f.detail}${jsonRpcErrorSummary(body)}` };
  }

  private httpNetworkFailure(err: unknown, what: string): Finding {
    const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
    if (e.code === ErrorCode.UPSTREAM_TIMEOUT) {
      return {
        ok: false,
        detail: `${what}: ${e.message}`,
        hint:
          `the server accepted the TCP connection but sent no HTTP answer within ${this.timeoutMs} ms: is it an ` +
          'HTTP server (and not, say, SSH or a database) on this port? Is it overloaded or stuck?',
      };
    }
    return {
      ok: false,
      detail: `${what}: ${e.message}`,
      hint:
        this.url.protocol === 'http:'
          ? 'the connection broke during the HTTP request: is this port an HTTP server, or does it expect TLS (an https:// URL)? Check the server’s logs'
          : 'the connection broke during the HTTP request: is this port an HTTP server? Check the server’s logs',
    };
  }

  /** Probes the origin's {@link COMMON_PATHS} (except the configured one) for an MCP server. */
  private async probeCommonPaths(): Promise<PathProbe[]> {
    const paths = COMMON_PATHS.filter((p) => p !== this.url.pathname);
    return Promise.all(paths.map((p) => this.probePath(new URL(p, this.url.origin))));
  }

  private async probePath(url: URL): Promise<PathProbe> {
    const href = url.href;
    try {
      if (url.pathname === '/sse') {
        const res = await this.getEventStream(url);
        if (!Doctor.isEventStream(res)) {
          res.resume();
          return { url: href, detail: `GET ${statusLine(res)}` };
        }
        const ep = await this.readEndpointEvent(res, url);
        return ep.endpoint
          ? { url: href, found: 'sse', detail: 'legacy SSE endpoint' }
          : { url: href, detail: `an event stream without an endpoint event (${ep.problem})` };
      }
      const { res, id } = await this.postInitialize(url);
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string' && sid.length > 0) this.cleanups.push(() => this.deleteSession(url, sid));
      const ctype = contentType(res);
      if (res.statusCode !== 200 || (ctype !== 'application/json' && ctype !== 'text/event-stream')) {
        res.resume();
        return { url: href, detail: `POST ${statusLine(res)}` };
      }
      const a = await readInitializeAnswer(res, id, this.timeoutMs);
      return a.answer
        ? { url: href, found: 'streamable-http', detail: 'Streamable HTTP MCP server' }
        : { url: href, detail: `HTTP 200, but ${a.problem}` };
    } catch (err) {
      return { url: href, detail: errMessage(err) };
    }
  }

  /** Reads a legacy SSE stream up to its `endpoint` event; destroys the stream either way. */
  private async readEndpointEvent(
    res: IncomingMessage,
    base: URL,
  ): Promise<{ endpoint?: URL; problem?: string }> {
    let endpoint: string | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      res.destroy();
    }, this.timeoutMs);
    await readSse(
      res,
      (e) => {
        if (endpoint === undefined && e.event === 'endpoint') {
          endpoint = e.data.trim();
          res.destroy();
        }
      },
      MAX_BODY_BYTES,
    );
    clearTimeout(timer);
    res.destroy();
    if (endpoint === undefined) {
      return {
        problem: timedOut
          ? `no "endpoint" event within ${this.timeoutMs} ms`
          : 'the stream ended before an "endpoint" event',
      };
    }
    try {
      return { endpoint: new URL(endpoint, base) };
    } catch {
      return { problem: `the "endpoint" event is not a URL: ${endpoint.slice(0, 100)}` };
    }
  }

  private async checkHttpTransport(): Promise<Finding> {
    const obs = this.observation;
    const configured = `configured: ${this.config.transport}`;
    if (!obs) return { ok: false, detail: 'the http step found no transport', hint: 'see the http step' };
    if (obs.kind === 'modern') {
      const v = transportVerdict(this.name, this.config, 'streamable-http');
      const detail =
        `Streamable HTTP (MCP 2026-07-28), stateless: the server supports ${obs.versions.join(', ') || 'only modern versions'}; ` +
        `legacy clients reach it through MCP Tether's era bridge (${configured})`;
      return { ok: v.ok, detail, ...(v.hint ? { hint: v.hint } : {}) };
    }
    if (obs.kind === 'streamable') {
      const a = await readInitializeAnswer(obs.res, obs.requestId, this.timeoutMs);
      if (obs.sessionId) await this.deleteSession(this.url, obs.sessionId);
      const framing = a.framing === 'sse' ? 'an SSE stream' : 'JSON';
      if (!a.answer) {
        return {
          ok: false,
          detail: `Streamable HTTP POST answered HTTP 200 with ${framing}, but ${a.problem}`,
          hint: 'this URL answers like an MCP server but gives no usable initialize response: check the server’s logs',
        };
      }
      const detail =
        `Streamable HTTP (MCP 2025-03-26+): initialize answered with ${framing}` +
        `${a.answer.error ? ` (a JSON-RPC error: ${a.answer.error.message})` : ''}, ` +
        (obs.sessionId ? 'session id assigned (Mcp-Session-Id)' : 'no session id (stateless server)') +
        ` (${configured})`;
      const v = transportVerdict(this.name, this.config, 'streamable-http');
      return { ok: v.ok, detail, ...(v.hint ? { hint: v.hint } : {}) };
    }
    const ep = await this.readEndpointEvent(obs.res, this.url);
    if (!ep.endpoint) {
      return {
        ok: false,
        detail: `GET ${redactedPath(this.url)} opened an event stream, but ${ep.problem}`,
        hint: 'a legacy HTTP+SSE MCP server names its message URL in a first "endpoint" event: this stream is not one, or the server is stuck',
      };
    }
    if (ep.endpoint.origin !== this.url.origin) {
      return {
        ok: false,
        detail: `legacy HTTP+SSE, but the "endpoint" event points to another origin (${ep.endpoint.origin})`,
        hint:
          'MCP Tether only posts to the configured origin: configure the server so the endpoint it advertises ' +
          `is on ${this.url.origin} (a reverse proxy often needs its public URL set), or use that origin's URL`,
      };
    }
    const detail =
      `legacy HTTP+SSE (MCP 2024-11-05): POST → HTTP ${obs.postStatus}, GET → event stream whose "endpoint" ` +
      `event names ${redactedPath(ep.endpoint)} (${configured}` +
      (this.config.transport === 'auto'
        ? ', which falls back to it per MCP 2025-03-26 §Transports backwards compatibility)'
        : ')');
    const v = transportVerdict(this.name, this.config, 'sse');
    return { ok: v.ok, detail, ...(v.hint ? { hint: v.hint } : {}) };
  }

  private checkWebSocket(): Promise<Finding> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (f: Finding) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(f);
      };
      const ws = new WebSocket(this.config.url, 'mcp', {
        headers: { ...this.config.headers, ...this.creds },
        handshakeTimeout: this.timeoutMs,
        perMessageDeflate: false,
        agent: this.url.protocol === 'wss:' ? this.agents.https : this.agents.http,
      });
      this.cleanups.push(() => ws.terminate());
      const timer = setTimeout(() => {
        ws.terminate();
        done(webSocketFailure(undefined, `no handshake within ${this.timeoutMs} ms`, this.config.url));
      }, this.timeoutMs + 100);
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        ws.terminate();
        done(webSocketFailure(res.statusCode ?? 0, `HTTP ${res.statusCode}`, this.config.url));
      });
      ws.once('open', () => {
        const protocol = ws.protocol;
        ws.close(1000);
        const v = transportVerdict(this.name, this.config, 'websocket');
        done({
          ok: v.ok && protocol === 'mcp',
          detail: `WebSocket handshake OK (HTTP 101), subprotocol ${protocol || '(none)'} (configured: ${this.config.transport})`,
          ...(protocol !== 'mcp'
            ? {
                hint: 'the server did not agree to the `mcp` subprotocol: it may not be an MCP WebSocket server',
              }
            : v.hint
              ? { hint: v.hint }
              : {}),
        });
      });
      ws.on('error', (err) => {
        ws.terminate();
        done(webSocketFailure(undefined, errMessage(err), this.config.url));
      });
    });
  }

  /**
   * The MCP handshake through MCP Tether's own transport, as the relay does it (the protocol
   * module's): a `server/discover` probe finds the era (MCP 2026-07-28 basic/versioning); a modern
   * server keeps that connection, a legacy one gets `initialize` and `notifications/initialized`.
   */
  private async checkInitialize(): Promise<Finding> {
    const events: string[] = [];
    // The doctor bounds every wait by the connect timeout, the relay's request timeout included.
    const config: EndpointConfig = { ...this.config, requestTimeoutMs: this.timeoutMs };
    const open = (first: OutboundMessage): Promise<UpstreamConnection> => {
      const calls = this.calls;
      const opening = openUpstream(
        {
          name: this.name,
          config,
          ...(this.auth ? { auth: this.auth } : {}),
          agents: this.agents,
          maxMessageBytes: MAX_BODY_BYTES,
          handlers: internalHandlers(() => calls, {
            event: (type, detail) => {
              if (type === 'transport') events.push(detail);
            },
          }),
        },
        first,
      );
      // `auto` on http(s) may take two network actions (the POST, then the legacy SSE GET).
      return withTimeout(opening, 2 * this.timeoutMs + 500, () => {
        void opening.then((c) => c.close()).catch(() => undefined);
        return new TetherError(
          ErrorCode.UPSTREAM_TIMEOUT,
          `opening the session took longer than ${this.timeoutMs} ms`,
        );
      });
    };
    const via = (conn: UpstreamConnection) =>
      `over ${conn.transport} through MCP Tether's own client${events.length ? ` (${events.join('; ')})` : ''}`;
    let probe;
    try {
      probe = await discoverProbe({
        calls: this.calls,
        timeoutMs: this.timeoutMs,
        ctx: DOCTOR_CONTEXT,
        open,
      });
    } catch (err) {
      return this.mcpFailure(err, 'opening the session and sending server/discover');
    }
    if (probe.verdict.era === 'modern') {
      this.conn = probe.conn;
      this.era = 'modern';
      const info = probe.verdict.discover?.serverInfo;
      const server = info ? `${info.name}${info.version ? ` ${info.version}` : ''}` : '(unnamed server)';
      return {
        ok: true,
        detail: `${server}, modern server (server/discover: ${probe.verdict.versions.join(', ')}), ${via(probe.conn)}`,
      };
    }
    await probe.conn.close().catch(() => undefined);
    events.length = 0;
    this.calls = new InternalCalls('doctor');
    let session;
    try {
      session = await legacyHandshake({
        calls: this.calls,
        timeoutMs: this.timeoutMs,
        clientInfo: DOCTOR_CONTEXT.clientInfo,
        open,
      });
    } catch (err) {
      const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
      if (e.data.rpcCode !== undefined)
        return {
          ok: false,
          detail: e.message,
          hint: 'the server answered initialize with an error: read its message, and check the server’s logs',
        };
      return this.mcpFailure(e, 'the initialize handshake');
    }
    this.conn = session.conn;
    this.era = 'legacy';
    const info = (session.result['serverInfo'] ?? {}) as { name?: unknown; version?: unknown };
    const server = `${typeof info.name === 'string' ? info.name : '(unnamed server)'}${typeof info.version === 'string' ? ` ${info.version}` : ''}`;
    const v = session.version;
    return {
      ok: true,
      detail:
        `${server}, legacy server, protocol ${v}${v !== LATEST_LEGACY_VERSION ? ` (asked for ${LATEST_LEGACY_VERSION})` : ''}, ` +
        via(session.conn),
    };
  }

  private mcpFailure(err: unknown, what: string): Finding {
    const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
    const hints: Partial<Record<ErrorCode, string>> = {
      [ErrorCode.AUTH_REQUIRED]: httpStatusFinding(401, '').hint!,
      [ErrorCode.UPSTREAM_TIMEOUT]: `the server did not answer within the connect timeout (${this.timeoutMs} ms): it may be overloaded or stuck; raise the timeout with --connect-timeout when re-adding the endpoint if it is just slow`,
      [ErrorCode.UPSTREAM_PROTOCOL]:
        'the server answered in a way MCP Tether’s transport cannot use: read the message, and check the transport (--transport)',
      [ErrorCode.UPSTREAM_SESSION_LOST]: 'the server ended the session at once: check the server’s logs',
    };
    return {
      ok: false,
      detail: `${what}: ${e.message} (${e.code})`,
      hint: hints[e.code] ?? e.hint ?? 'check the server’s logs',
    };
  }

  /** Liveness as the health probe checks it: `ping` (legacy) or `server/discover` (modern). */
  private async checkPing(): Promise<Finding> {
    const conn = this.conn;
    if (!conn) return { ok: false, detail: 'no session to ping', hint: 'see the initialize step' };
    const method = this.era === 'modern' ? 'server/discover' : 'ping';
    let rtt: number;
    let failure: TetherError | undefined;
    try {
      rtt = await withTimeout(
        liveness(conn, this.era, { calls: this.calls, timeoutMs: this.timeoutMs, ctx: DOCTOR_CONTEXT }),
        this.timeoutMs + 100,
        () =>
          new TetherError(ErrorCode.UPSTREAM_TIMEOUT, `${method} not answered within ${this.timeoutMs} ms`),
      );
    } catch (err) {
      const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
      if (e.code !== ErrorCode.UPSTREAM_PROTOCOL) return this.mcpFailure(e, method);
      failure = e;
      rtt = 0;
    }
    this.conn = undefined;
    const closed = await withTimeout(conn.close(), CLOSE_TIMEOUT_MS, () => new Error('timeout')).then(
      () =>
        'session closed' + (conn.transport === 'streamable-http' && this.era === 'legacy' ? ' (DELETE)' : ''),
      () => 'closing the session timed out',
    );
    if (failure) {
      return {
        ok: false,
        detail: `the server answered ${method} with an error: ${failure.message}; ${closed}`,
        hint:
          this.era === 'modern'
            ? 'MCP 2026-07-28 server/discover says servers MUST implement it: health probes will mark this endpoint down; update the server'
            : 'MCP 2025-11-25 §Utilities/Ping requires servers to answer ping: health probes will mark this endpoint degraded; update the server',
      };
    }
    return { ok: true, detail: `${method} answered in ${rtt} ms; ${closed}` };
  }
}

/** The versions a modern server named when it refused a legacy request (an HTTP body), if it is one. */
function modernRefusal(body: string): { versions: string[] } | undefined {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || !('error' in m)) return undefined;
  const v = classifyProbeAnswer(m as JsonRpcMessage);
  return v.era === 'modern' ? { versions: v.versions } : undefined;
}

/** `: <message>` of a JSON-RPC error in an HTTP body, or nothing. */
function jsonRpcErrorSummary(body: string): string {
  try {
    const m = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof m?.error?.message === 'string') return ` (${m.error.message.slice(0, 200)})`;
  } catch {
    // not JSON
  }
  return '';
}

/**
 * Diagnoses an endpoint layer by layer (config, dns, tcp, tls for https/wss, http for http/https,
 * transport, initialize, ping), stopping at the first failing layer. Never throws and never waits
 * longer than the endpoint's `connectTimeoutMs` for any one network action; durations in the
 * report are in ms. The http layer's 400/404/405 handling and the transport layer follow MCP
 * 2025-03-26 §Transports backwards compatibility.
 * @param name the endpoint's name (used in the suggested commands)
 * @param config the endpoint as stored
 */
export async function runDoctor(
  name: string,
  config: EndpointConfig,
  auth?: EndpointCredentials,
): Promise<DoctorReport> {
  const url = config.url ?? '';
  let doctor: Doctor;
  try {
    doctor = new Doctor(name, { ...config, url }, auth);
  } catch (err) {
    return {
      endpoint: name,
      url,
      ok: false,
      steps: [
        {
          layer: 'config',
          ok: false,
          detail: `the URL "${config.url}" cannot be used: ${errMessage(err)}`,
          hint: `re-add the endpoint with a valid URL (example: ${readdCommand(name, 'http://127.0.0.1:3001/mcp', 'auto')})`,
          ms: 0,
        },
      ],
    };
  }
  try {
    await doctor.run();
  } finally {
    await doctor.cleanup();
  }
  const steps = doctor.steps;
  return { endpoint: name, url, ok: steps.length > 0 && steps.every((s) => s.ok), steps };
}
