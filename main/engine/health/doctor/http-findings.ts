/**
 * What the doctor's HTTP, transport and MCP layers found, as details and hints for people, and the
 * commands the hints suggest: pure functions of what was observed, no I/O (unit-tested in
 * test/unit/doctor-hints.test.ts).
 */
import { ErrorCode, toTetherError } from '../../../common/errors.js';
import type { JsonRpcMessage } from '../../../common/jsonrpc.js';
import type { EndpointConfig, TransportKind } from '../../../common/schemas.js';
import { classifyProbeAnswer } from '../../protocol/versions.js';
import { shellQuote } from '../../upstream/ssh-stdio.js';
import type { ConcreteTransport } from '../../upstream/types.js';
import type { Finding } from './steps.js';

/** An endpoint reached directly by URL (not over SSH). */
export type HttpEndpointConfig = EndpointConfig & { url: string };

/**
 * The paths probed on the configured origin when the configured path answers 404 (or is not an MCP
 * endpoint): where MCP servers conventionally serve Streamable HTTP (`/mcp`), the legacy HTTP+SSE
 * stream (`/sse`, MCP 2024-11-05), or everything (`/`).
 */
export const COMMON_PATHS = ['/mcp', '/sse', '/'] as const;

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

/** The versions a modern server named when it refused a legacy request (an HTTP body), if it is one. */
export function modernRefusal(body: string): { versions: string[] } | undefined {
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
export function jsonRpcErrorSummary(body: string): string {
  try {
    const m = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof m?.error?.message === 'string') return ` (${m.error.message.slice(0, 200)})`;
  } catch {
    // not JSON
  }
  return '';
}

/**
 * What a raw HTTP request that got no answer means.
 * @param timeoutMs the connect timeout (ms)
 * @param protocol the URL's scheme (`http:` or `https:`)
 */
export function httpNetworkFailure(err: unknown, what: string, timeoutMs: number, protocol: string): Finding {
  const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
  if (e.code === ErrorCode.UPSTREAM_TIMEOUT) {
    return {
      ok: false,
      detail: `${what}: ${e.message}`,
      hint:
        `the server accepted the TCP connection but sent no HTTP answer within ${timeoutMs} ms: is it an ` +
        'HTTP server (and not, say, SSH or a database) on this port? Is it overloaded or stuck?',
    };
  }
  return {
    ok: false,
    detail: `${what}: ${e.message}`,
    hint:
      protocol === 'http:'
        ? 'the connection broke during the HTTP request: is this port an HTTP server, or does it expect TLS (an https:// URL)? Check the server’s logs'
        : 'the connection broke during the HTTP request: is this port an HTTP server? Check the server’s logs',
  };
}

/**
 * What a failure of the MCP handshake or of the liveness check means.
 * @param what what was being done, e.g. `the initialize handshake`
 * @param timeoutMs the connect timeout (ms)
 */
export function mcpFailure(err: unknown, what: string, timeoutMs: number): Finding {
  const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
  const hints: Partial<Record<ErrorCode, string>> = {
    [ErrorCode.AUTH_REQUIRED]: httpStatusFinding(401, '').hint!,
    [ErrorCode.UPSTREAM_TIMEOUT]: `the server did not answer within the connect timeout (${timeoutMs} ms): it may be overloaded or stuck; raise the timeout with --connect-timeout when re-adding the endpoint if it is just slow`,
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
