/**
 * Which HTTP(S) proxy an endpoint's connections go through, and the tunnels through it.
 *
 * The choice, first match wins: the endpoint's own `proxy` (`--proxy URL`, always used); the
 * environment (`HTTPS_PROXY` for https/wss, `HTTP_PROXY` for http/ws, lowercase too, `ALL_PROXY`,
 * minus `NO_PROXY`, as read by the proxy-from-env library); the OS proxy settings the tray app
 * resolved with Electron's `session.resolveProxy` and handed over ({@link setSystemProxies}); else
 * direct. Every target, http and https alike, is reached through an HTTP `CONNECT` tunnel
 * (RFC 9110 §9.3.6) made by the hpagent library, so the proxy never sees the MCP traffic in clear
 * for https and handles every scheme the same way. Proxy credentials (HTTP Basic, RFC 7617) come
 * from the OS keychain, secret `proxy` of the endpoint, never from `endpoints.json`.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions, SecureContext } from 'node:tls';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { getProxyForUrl } from 'proxy-from-env';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { proxySecretCommand } from '../../common-node/net.js';

/** Where a proxy setting came from. */
type ProxySource = 'flag' | 'env' | 'os';

/** A proxy an endpoint's connection goes through. */
export interface ProxyChoice {
  url: URL;
  source: ProxySource;
}

/** A proxy URL for people: scheme, host and port only, never credentials from an environment variable. */
export function describeProxy(choice: ProxyChoice): string {
  const from = { flag: '--proxy', env: 'environment (HTTPS_PROXY/HTTP_PROXY)', os: 'OS proxy settings' }[
    choice.source
  ];
  return `${choice.url.protocol}//${choice.url.host} (from ${from})`;
}

/** Origin → the proxy the OS settings give for it (`undefined`: direct), from the tray app. */
let systemProxies = new Map<string, URL | undefined>();

/**
 * Parses Chromium's proxy list for one URL (`session.resolveProxy`'s answer, PAC syntax:
 * `PROXY host:port; HTTPS host:port; DIRECT`): the first HTTP(S) proxy, or undefined for DIRECT.
 * SOCKS entries are skipped (not supported); a list of only SOCKS entries means direct.
 */
export function proxyFromPac(pac: string): URL | undefined {
  for (const entry of pac.split(';')) {
    const [kind, hostPort] = entry.trim().split(/\s+/);
    const k = kind?.toUpperCase();
    if (k === 'DIRECT') return undefined;
    if ((k === 'PROXY' || k === 'HTTPS') && hostPort) {
      try {
        return new URL(`${k === 'HTTPS' ? 'https' : 'http'}://${hostPort}`);
      } catch {
        // not host:port: try the next entry
      }
    }
  }
  return undefined;
}

/**
 * Takes the OS proxy settings the tray app resolved, replacing the previous ones.
 * @param byOrigin URL origin (`https://host:port`) → `session.resolveProxy`'s answer for it
 */
export function setSystemProxies(byOrigin: Record<string, string>): void {
  systemProxies = new Map(Object.entries(byOrigin).map(([origin, pac]) => [origin, proxyFromPac(pac)]));
}

/**
 * The proxy for a connection to `host:port`, or undefined for a direct connection.
 * @param configured the endpoint's own `proxy` URL
 * @param secure true for https and wss targets
 */
export function chooseProxy(
  configured: string | undefined,
  host: string,
  port: number,
  secure: boolean,
): ProxyChoice | undefined {
  if (configured) return { url: new URL(configured), source: 'flag' };
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const target = `${secure ? 'https' : 'http'}://${hostPart}:${port}/`;
  const fromEnv = getProxyForUrl(target);
  if (fromEnv) {
    try {
      return { url: new URL(fromEnv), source: 'env' };
    } catch {
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, 'the proxy in the environment is not a URL', {
        hint: 'set HTTPS_PROXY/HTTP_PROXY to a URL such as http://proxy.example:3128 in the environment the engine starts from',
      });
    }
  }
  const os = systemProxies.get(new URL(target).origin);
  return os ? { url: os, source: 'os' } : undefined;
}

/** Reads an endpoint's proxy credentials (`user:password`) from the OS keychain; undefined when none. */
export type ProxyCredentialsSource = (endpoint: string) => Promise<string | undefined>;

let credentialsSource: ProxyCredentialsSource | undefined;

/** Sets where proxy credentials come from (the engine's keychain); read on every new tunnel. */
export function setProxyCredentialsSource(source: ProxyCredentialsSource): void {
  credentialsSource = source;
}

/**
 * The proxy credentials of an endpoint (`user:password`), read from the keychain each time so a
 * `secret set --proxy` applies to the next connection.
 * @throws TetherError KEYCHAIN_UNAVAILABLE
 */
export async function proxyCredentials(endpoint: string): Promise<string | undefined> {
  return credentialsSource ? credentialsSource(endpoint) : undefined;
}

/** Options of {@link openTunnel}. */
export interface TunnelOptions {
  /** The endpoint's name, for messages and hints. */
  endpoint: string;
  choice: ProxyChoice;
  /** `user:password` for the proxy (HTTP Basic), when the endpoint has some. */
  credentials: string | undefined;
  /** Time allowed for the proxy connection and its answer to CONNECT (ms). */
  timeoutMs: number;
  /** The endpoint's TLS context (its CAs) for an https target, and for an https:// proxy. */
  secureContext: SecureContext | undefined;
}

/**
 * Opens a `CONNECT` tunnel to host:port through a proxy, with TLS over it for an https target.
 * @param connectOptions what node:http gives an agent's `createConnection` (host, port, servername…)
 * @throws TetherError UPSTREAM_UNREACHABLE (proxy unreachable, or CONNECT refused: data.proxyStatus),
 *   UPSTREAM_TIMEOUT (no answer to CONNECT in time)
 */
export function openTunnel(
  connectOptions: ConnectionOptions & { host?: string | null; port?: number | string | null },
  secure: boolean,
  opts: TunnelOptions,
): Promise<Socket> {
  const headers: Record<string, string> = {};
  if (opts.credentials !== undefined)
    headers['proxy-authorization'] = `Basic ${Buffer.from(opts.credentials, 'utf8').toString('base64')}`;
  const agentOptions = {
    proxy: opts.choice.url,
    proxyRequestOptions: { headers, ...(opts.secureContext ? { secureContext: opts.secureContext } : {}) },
    ...(opts.secureContext ? { secureContext: opts.secureContext } : {}),
  };
  const agent = secure ? new HttpsProxyAgent(agentOptions) : new HttpProxyAgent(agentOptions);
  const where = `${String(connectOptions.host)}:${String(connectOptions.port)}`;
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, socket?: Socket) => {
      if (err || !socket) {
        reject(tunnelError(err ?? new Error('no socket'), where, opts));
        return;
      }
      // The timeout bounded the CONNECT (and the TLS handshake); an open connection has none.
      if (secure && (socket as { encrypted?: boolean }).encrypted)
        socket.once('secureConnect', () => socket.setTimeout(0));
      else socket.setTimeout(0);
      socket.once('timeout', () => socket.destroy(new Error('TLS handshake through the proxy timed out')));
      resolve(socket);
    };
    agent.createConnection({ ...connectOptions, timeout: opts.timeoutMs }, done as never);
  });
}

/** What a failed tunnel means, with what to do about it. */
function tunnelError(err: Error & { code?: string }, where: string, opts: TunnelOptions): TetherError {
  const proxy = describeProxy(opts.choice);
  const status = /^Bad response: (\d+)$/.exec(err.message)?.[1];
  if (status === '407') {
    return new TetherError(
      ErrorCode.UPSTREAM_UNREACHABLE,
      opts.credentials === undefined
        ? `the proxy ${proxy} asks for credentials (HTTP 407) and none are stored for ${opts.endpoint}`
        : `the proxy ${proxy} refused the credentials stored for ${opts.endpoint} (HTTP 407)`,
      {
        proxyStatus: 407,
        hint: `Store the proxy's user name and password in the OS keychain: ${proxySecretCommand(opts.endpoint)}`,
      },
    );
  }
  if (status) {
    return new TetherError(
      ErrorCode.UPSTREAM_UNREACHABLE,
      `the proxy ${proxy} refused to open a tunnel to ${where} (HTTP ${status})`,
      {
        proxyStatus: Number(status),
        hint:
          'the proxy does not let this client reach that host and port (ask its administrators to allow it), ' +
          'or the server is not reachable from the proxy; to bypass a proxy from the environment, list the host in NO_PROXY',
      },
    );
  }
  if (err.message === 'Proxy timeout') {
    return new TetherError(
      ErrorCode.UPSTREAM_TIMEOUT,
      `the proxy ${proxy} did not open a tunnel to ${where} within ${opts.timeoutMs} ms`,
      { hint: 'check the proxy setting, and that the proxy is up' },
    );
  }
  return new TetherError(
    ErrorCode.UPSTREAM_UNREACHABLE,
    `cannot reach the proxy ${proxy}: ${err.code ?? err.message}`,
    {
      errno: err.code,
      hint:
        opts.choice.source === 'flag'
          ? `check the endpoint's --proxy URL and that the proxy is up (mcp-tether doctor ${opts.endpoint})`
          : opts.choice.source === 'env'
            ? 'check HTTPS_PROXY/HTTP_PROXY in the environment the engine started from (`mcp-tether shutdown` lets the next command start it from yours), or list the host in NO_PROXY'
            : 'check the OS proxy settings',
    },
  );
}
