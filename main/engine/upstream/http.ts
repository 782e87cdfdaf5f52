/**
 * Plain `node:http`/`node:https` requests for the HTTP transports. The relay's hot path: a raw
 * request costs ~40 µs of CPU where fetch costs far more (see MCP-NOTES), so no fetch here.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ErrorCode, TetherError } from '../../common/errors.js';

/** Keep-alive agents for one endpoint: connections are reused across requests and sessions. */
export interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** Opens a byte stream to host:port, e.g. an SSH `direct-tcpip` channel. */
export type Dial = (host: string, port: number) => Promise<Duplex>;

type ConnectCallback = (err: Error | null, stream?: Duplex) => void;
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 15_000, scheduling: 'lifo' } as const;

/** An HTTP agent whose connections come from a {@link Dial} instead of TCP. */
class DialingHttpAgent extends HttpAgent {
  constructor(private readonly dial: Dial) {
    super(AGENT_OPTIONS);
  }
  override createConnection(
    options: { host?: string | null; port?: number | string | null },
    cb: ConnectCallback,
  ): Duplex {
    this.dial(options.host ?? 'localhost', Number(options.port ?? 80)).then((s) => cb(null, s), cb);
    return undefined as unknown as Duplex; // node:http waits for the callback
  }
}

/** An HTTPS agent that runs TLS over streams from a {@link Dial}. */
class DialingHttpsAgent extends HttpsAgent {
  constructor(private readonly dial: Dial) {
    super(AGENT_OPTIONS);
  }
  override createConnection(
    options: TlsConnectionOptions & { host?: string | null; port?: number | string | null },
    cb: ConnectCallback,
  ): Duplex {
    const host = options.host ?? 'localhost';
    this.dial(host, Number(options.port ?? 443)).then(
      (socket) => cb(null, tlsConnect({ ...options, socket, servername: options.servername ?? host })),
      cb,
    );
    return undefined as unknown as Duplex;
  }
}

/**
 * Makes keep-alive agents (one pair per endpoint, closed with it).
 * @param dial where connections come from (default: TCP); SSH endpoints pass their tunnel
 */
export function createAgents(dial?: Dial): Agents {
  if (dial) return { http: new DialingHttpAgent(dial), https: new DialingHttpsAgent(dial) };
  return { http: new HttpAgent(AGENT_OPTIONS), https: new HttpsAgent(AGENT_OPTIONS) };
}

/**
 * The request body for a message: its text when small (node:http then sends headers and body in
 * one write), the client's own bytes when large (no copy, no re-encoding).
 */
export function bodyOf(msg: { text: string; raw?: Buffer }): string | Buffer {
  return msg.raw && msg.raw.length >= 64 * 1024 ? msg.raw : msg.text;
}

/** Options of {@link sendHttp}. */
export interface HttpRequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  headers: OutgoingHttpHeaders;
  body?: string | Buffer;
  agents: Agents;
  /** Time allowed for the TCP (and TLS) connect (ms). */
  connectTimeoutMs: number;
  /** Time allowed until response headers arrive (ms); 0 for none. */
  headersTimeoutMs: number;
  signal?: AbortSignal;
}

/** Describes a network error for people: "connection refused (127.0.0.1:3001)". */
export function describeNetError(err: NodeJS.ErrnoException, url: URL): string {
  const where = `${url.hostname}:${url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80)}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}: is the server running?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host "${url.hostname}" (DNS)`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `connection to ${where} was reset`;
    case 'ETIMEDOUT':
      return `connecting to ${where} timed out`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where}`;
    default:
      return `${err.message} (${where})`;
  }
}

/** Failures to reach the server at all: the network, or the SSH tunnel to it. */
const UNREACHABLE: ReadonlySet<string> = new Set([
  ErrorCode.UPSTREAM_UNREACHABLE,
  ErrorCode.SSH_UNREACHABLE,
  ErrorCode.SSH_TIMEOUT,
  ErrorCode.SSH_CHANNEL_FAILED,
  ErrorCode.SSH_AUTH_FAILED,
  ErrorCode.SSH_KEY_PASSPHRASE_REQUIRED,
  ErrorCode.HOST_KEY_UNKNOWN,
  ErrorCode.HOST_KEY_MISMATCH,
]);

/** True when a request failed because the server could not be reached: its session is presumed lost. */
export function isUnreachable(err: unknown): err is TetherError {
  return err instanceof TetherError && UNREACHABLE.has(err.code);
}

/**
 * Sends one HTTP request and resolves with the response (body not yet read).
 * @throws TetherError UPSTREAM_UNREACHABLE (network), UPSTREAM_TIMEOUT (connect or headers timeout)
 */
export async function sendHttp(url: URL, opts: HttpRequestOptions): Promise<IncomingMessage> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce(url, opts);
    } catch (err) {
      // A kept-alive connection the server closed while it sat idle fails at once on reuse,
      // before the server read anything (Node docs, http `request.reusedSocket`): send again.
      if (!(err instanceof TetherError && err.data['staleSocket'] === true) || attempt >= 3) throw err;
    }
  }
}

function sendOnce(url: URL, opts: HttpRequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = (isHttps ? httpsRequest : httpRequest)(url, {
      method: opts.method,
      headers,
      agent: isHttps ? opts.agents.https : opts.agents.http,
      signal: opts.signal,
    });
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    let headersTimer: NodeJS.Timeout | undefined;
    const clear = () => {
      clearTimeout(connectTimer);
      clearTimeout(headersTimer);
    };
    const fail = (err: TetherError) => {
      if (settled) return;
      settled = true;
      clear();
      req.destroy();
      reject(err);
    };
    req.on('socket', (socket) => {
      if ((socket as { connecting?: boolean }).connecting) {
        connectTimer = setTimeout(
          () =>
            fail(
              new TetherError(
                ErrorCode.UPSTREAM_TIMEOUT,
                `connecting to ${url.host} timed out after ${opts.connectTimeoutMs} ms`,
              ),
            ),
          opts.connectTimeoutMs,
        );
        socket.once(isHttps ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      }
    });
    if (opts.headersTimeoutMs > 0) {
      headersTimer = setTimeout(
        () =>
          fail(
            new TetherError(
              ErrorCode.UPSTREAM_TIMEOUT,
              `${url.host} did not answer within ${opts.headersTimeoutMs} ms`,
            ),
          ),
        opts.headersTimeoutMs,
      );
    }
    req.on('response', (res) => {
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      clear();
      resolve(res);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') {
        // Not a network failure: the request was cancelled or its session closed.
        fail(
          new TetherError(
            ErrorCode.UPSTREAM_UNREACHABLE,
            'request aborted (cancelled, or the session closed)',
            {
              aborted: true,
            },
          ),
        );
        return;
      }
      // A dialled connection (SSH tunnel) fails with its own code: HOST_KEY_UNKNOWN, SSH_AUTH_FAILED…
      if (err instanceof TetherError) return fail(err);
      const staleSocket = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      fail(
        new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, describeNetError(err, url), {
          errno: err.code,
          ...(staleSocket ? { staleSocket } : {}),
        }),
      );
    });
    req.end(opts.body);
  });
}

/**
 * Reads a whole response body as UTF-8 text.
 * @param maxBytes limit (bytes); beyond it the response is destroyed
 * @throws TetherError UPSTREAM_PROTOCOL (too large), UPSTREAM_UNREACHABLE (stream broke)
 */
export function readBody(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new TetherError(ErrorCode.UPSTREAM_PROTOCOL, `response larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    res.on('error', (err) =>
      reject(new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, `response broke off: ${err.message}`)),
    );
    res.on('aborted', () => reject(new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, 'response broke off')));
  });
}

/** How an SSE stream ended. */
export interface SseEnd {
  /** True when the server ended the stream itself; false when the connection broke. */
  clean: boolean;
  /** The reconnection delay the server asked for (`retry:` field), in ms. */
  retryMs?: number;
}

/**
 * Reads a `text/event-stream` body (WHATWG HTML §9.2 server-sent events), calling `onEvent` for
 * each event. Resolves when the stream ends, never rejects: a broken stream resolves `clean: false`.
 * @param maxEventBytes longest event accepted (characters); a longer one ends the stream
 */
export function readSse(
  res: IncomingMessage,
  onEvent: (event: EventSourceMessage) => void,
  maxEventBytes: number,
): Promise<SseEnd> {
  return new Promise((resolve) => {
    let retryMs: number | undefined;
    let done = false;
    const finish = (clean: boolean) => {
      if (done) return;
      done = true;
      resolve(retryMs === undefined ? { clean } : { clean, retryMs });
    };
    const parser = createParser({
      onEvent,
      onRetry: (ms) => (retryMs = ms),
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') {
          res.destroy();
          finish(false);
        }
      },
      maxBufferSize: maxEventBytes,
    });
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (!done) parser.feed(chunk);
    });
    res.on('end', () => finish(true));
    res.on('error', () => finish(false));
    res.on('aborted', () => finish(false));
    res.on('close', () => finish(res.complete));
  });
}
