/**
 * The Prometheus scrape endpoint: `GET /metrics` on a plain HTTP listener. Loopback-only unless
 * the user forces another address; on a loopback address the `Host` header must name it (a web page
 * cannot read the metrics through DNS rebinding).
 */
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import type { Registry } from 'prom-client';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';

/** A listen address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parses `host:port` (`[v6]:port` for IPv6).
 * @throws TetherError INVALID_ARGUMENT
 */
export function parseListenAddress(value: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65_535)
    throw new TetherError(ErrorCode.INVALID_ARGUMENT, `"${value}" is not host:port`, {
      hint: 'Example: 127.0.0.1:9464 (IPv6: [::1]:9464).',
    });
  return { host: (m[1] ?? m[2])!, port };
}

/** True for `localhost` and the loopback addresses (127.0.0.0/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Options of {@link MetricsServer.listen}. */
export interface MetricsServerOptions {
  registry: Registry;
  /** Serve on a non-loopback address (the user forced it). */
  allowNonLoopback: boolean;
}

/** See the module comment. */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    /** The address served, with the port actually bound. */
    readonly address: ListenAddress,
  ) {}

  /**
   * Starts serving.
   * @throws TetherError INVALID_ARGUMENT (a malformed or non-loopback address without
   *   `allowNonLoopback`), ENGINE_START_FAILED (the address cannot be bound)
   */
  static async listen(listen: string, opts: MetricsServerOptions): Promise<MetricsServer> {
    const addr = parseListenAddress(listen);
    const loopback = isLoopbackHost(addr.host);
    if (!loopback && !opts.allowNonLoopback)
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `refusing to serve metrics on ${listen}: not a loopback address`,
        {
          hint: 'Metrics name your endpoints; serve them on 127.0.0.1, or force another address with --metrics-allow-remote (setting metrics.allowNonLoopback).',
        },
      );
    let port = addr.port;
    const server = createServer((req, res) => {
      const host = (req.headers.host ?? '').toLowerCase();
      const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${addr.host}:${port}`];
      if (loopback && !hosts.includes(host)) {
        res.writeHead(421, { 'content-type': 'text/plain' }).end('unexpected Host\n');
        return;
      }
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${errorMessage(err)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new TetherError(
            ErrorCode.ENGINE_START_FAILED,
            `cannot serve metrics on ${listen}: ${errorMessage(err)}`,
            {},
            { cause: err },
          ),
        ),
      );
      server.listen(addr.port, addr.host, () => resolve());
    });
    const bound = server.address();
    if (bound && typeof bound === 'object') port = bound.port;
    return new MetricsServer(server, { host: addr.host, port });
  }

  /** Stops listening and closes open connections. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
