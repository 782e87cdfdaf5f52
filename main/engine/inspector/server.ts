/**
 * The browser inspector (issue 5 item 5): the React UI of the tray app, served by the engine on
 * 127.0.0.1 for headless machines and desktops without a tray. Off unless asked for
 * (`mcp-tether engine --inspector`). The UI talks to the engine over a WebSocket that carries the
 * control API itself (one JSON-RPC message per frame), dispatched by the control server.
 *
 * Who may use it: whoever holds the random token of the URL it prints. A web page the user visits
 * must not: every HTTP request and WebSocket upgrade needs the token, a `Host` of exactly
 * `127.0.0.1:<port>` or `localhost:<port>` (DNS rebinding points a foreign name at 127.0.0.1 and
 * keeps that name in `Host`), and, when an `Origin` is sent, one of those two origins. Anything else
 * gets 403 before any handler runs.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import type { ControlServer } from '../control/server.js';

/** Where the built renderer lives, next to the built engine (dist/renderer). */
const RENDERER_DIR = fileURLToPath(new URL('../../../renderer/', import.meta.url));

/** The path prefix that carries the token, so the page's relative asset URLs carry it too. */
const TOKEN_PREFIX = '/t/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Options of {@link InspectorServer}. */
export interface InspectorOptions {
  /** The engine's control server: the WebSocket is one more of its connections. */
  control: ControlServer;
  /** Largest message accepted on the WebSocket (bytes). */
  maxMessageBytes: () => number;
  log: (line: string) => void;
  /** The built UI (default {@link RENDERER_DIR}). */
  rendererDir?: string;
}

/** See the module comment. */
export class InspectorServer {
  private server: Server | undefined;
  private readonly wss: WebSocketServer;
  private readonly token = randomBytes(32).toString('base64url');
  private port = 0;
  private readonly rendererDir: string;

  constructor(private readonly opts: InspectorOptions) {
    this.rendererDir = resolve(opts.rendererDir ?? RENDERER_DIR);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes() + 1024 });
  }

  /** The URL to open, token included (`http://127.0.0.1:<port>/?token=…`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/?token=${this.token}`;
  }

  /**
   * Listens on 127.0.0.1 only.
   * @param port 0 (default) for any free port
   * @throws TetherError ENGINE_START_FAILED when the port cannot be bound
   */
  listen(port = 0): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      const server = createServer((req, res) =>
        this.onRequest(req, res).catch((err: unknown) => {
          this.opts.log(`inspector: ${req.method} failed: ${errorMessage(err)}`);
          if (!res.headersSent) res.writeHead(500);
          res.end();
        }),
      );
      server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
      server.once('error', (err) =>
        reject(
          new TetherError(
            ErrorCode.ENGINE_START_FAILED,
            `cannot listen on 127.0.0.1:${port} for the inspector: ${err.message}`,
          ),
        ),
      );
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        this.server = server;
        resolvePromise(this.url);
      });
    });
  }

  /** Stops listening and closes every WebSocket. */
  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    const server = this.server;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  }

  /** Why a request is refused, or undefined when it may go on. */
  private refusal(req: IncomingMessage, url: URL): string | undefined {
    const allowed = [`127.0.0.1:${this.port}`, `localhost:${this.port}`];
    if (!allowed.includes((req.headers.host ?? '').toLowerCase())) return 'unexpected Host';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.some((a) => origin.toLowerCase() === `http://${a}`))
      return 'foreign Origin';
    if (!this.tokenMatches(tokenOf(url))) return 'missing or wrong token';
    return undefined;
  }

  private tokenMatches(given: string | undefined): boolean {
    if (given === undefined) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const why = this.refusal(req, url);
    if (why) return forbid(res, why);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    // `/?token=T` → `/t/T/`: from there the page's relative URLs (assets, the WebSocket) carry it.
    if (!url.pathname.startsWith(TOKEN_PREFIX)) {
      res.writeHead(302, { ...securityHeaders(this.port), Location: `${TOKEN_PREFIX}${this.token}/` }).end();
      return;
    }
    const rest = url.pathname.slice(TOKEN_PREFIX.length + this.token.length);
    if (rest === '') {
      // Without the slash, the page's relative URLs would lose the token.
      res.writeHead(302, {
        ...securityHeaders(this.port),
        Location: `${TOKEN_PREFIX}${this.token}/${url.search}`,
      });
      res.end();
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(rest === '/' ? '/index.html' : rest);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad path\n');
      return;
    }
    const file = resolve(this.rendererDir, '.' + decoded);
    if (!file.startsWith(this.rendererDir + sep)) return forbid(res, 'outside the UI');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      if (rest === '/') {
        res
          .writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end(`The UI is not built (no ${file}): run npm run build.\n`);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      ...securityHeaders(this.port),
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const why = this.refusal(req, url);
    if (why) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      this.opts.log(`inspector: WebSocket refused (${why})`);
      return;
    }
    socket.on('error', () => undefined);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws));
  }

  private serve(ws: WebSocket): void {
    const peer = this.opts.control.serveMessages({
      send: (text) => {
        if (ws.readyState === ws.OPEN) ws.send(text);
      },
      bufferedBytes: () => ws.bufferedAmount,
      close: () => ws.close(),
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      peer.message(
        Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString(),
      );
    });
    ws.on('error', () => undefined);
    ws.on('close', () => peer.closed());
  }
}

/** The token of a request: the first path segment after `/t/`, else `?token=`. */
function tokenOf(url: URL): string | undefined {
  if (!url.pathname.startsWith(TOKEN_PREFIX)) return url.searchParams.get('token') ?? undefined;
  const end = url.pathname.indexOf('/', TOKEN_PREFIX.length);
  return url.pathname.slice(TOKEN_PREFIX.length, end < 0 ? undefined : end);
}

/** Headers that keep the page from being framed, sniffed, or leaking its URL. */
function securityHeaders(port: number): Record<string, string> {
  const self = [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`].join(' ');
  return {
    'Content-Security-Policy': `default-src 'self'; connect-src 'self' ${self}; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

function forbid(res: ServerResponse, why: string): void {
  res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`forbidden: ${why}\n`);
}
