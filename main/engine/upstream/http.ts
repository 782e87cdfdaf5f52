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
import {
  connect as tlsConnect,
  type ConnectionOptions as TlsConnectionOptions,
  type SecureContext,
} from 'node:tls';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { LARGE_LINE_BYTES } from '../../common/jsonrpc.js';
import type { EndpointConfig } from '../../common/schemas.js';
import { secureContextFor } from '../net/ca.js';
import { chooseProxy, openTunnel, proxyCredentials, type ProxyChoice } from '../net/proxy.js';

/** Keep-alive agents for one endpoint: connections are reused across requests and sessions. */
export interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** Opens a byte stream to host:port, e.g. an SSH `direct-tcpip` channel. */
export type Dial = (host: string, port: number) => Promise<Duplex>;

/** What of an endpoint its agents depend on: its name (messages, keychain) and its network settings. */
export interface AgentEndpoint {
  name: string;
  config: Pick<EndpointConfig, 'ca' | 'proxy' | 'proxyAuth' | 'connectTimeoutMs'>;
}

type ConnectCallback = (err: Error | null, stream?: Duplex) => void;
type ConnectOptions = TlsConnectionOptions & { host?: string | null; port?: number | string | null };
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 15_000, scheduling: 'lifo' } as const;

/** Agent options with the endpoint's TLS context (its CAs), when it has one of its own. */
function agentOptions(secureContext: SecureContext | undefined) {
  return secureContext ? { ...AGENT_OPTIONS, secureContext } : AGENT_OPTIONS;
}

/** An HTTP agent whose connections come from a {@link Dial} instead of TCP. */
class DialingHttpAgent extends HttpAgent {
  constructor(private readonly dial: Dial) {
    super(AGENT_OPTIONS);
  }
  override createConnection(options: ConnectOptions, cb: ConnectCallback): Duplex {
    this.dial(options.host ?? 'localhost', Number(options.port ?? 80)).then((s) => cb(null, s), cb);
    return undefined as unknown as Duplex; // node:http waits for the callback
  }
}

/** An HTTPS agent that runs TLS over streams from a {@link Dial}. */
class DialingHttpsAgent extends HttpsAgent {
  constructor(
    private readonly dial: Dial,
    secureContext: SecureContext | undefined,
  ) {
    super(agentOptions(secureContext));
  }
  override createConnection(options: ConnectOptions, cb: ConnectCallback): Duplex {
    const host = options.host ?? 'localhost';
    this.dial(host, Number(options.port ?? 443)).then(
      (socket) => cb(null, tlsConnect({ ...options, socket, servername: options.servername ?? host })),
      cb,
    );
    return undefined as unknown as Duplex;
  }
}

/**
 * Where a TCP endpoint's new connections go: straight to the server, or through a CONNECT tunnel
 * of the proxy {@link chooseProxy} picks for that host (decided per connection, so OS proxy
 * settings handed over later apply to the next connection).
 */
class Route {
  constructor(
    private readonly endpoint: AgentEndpoint,
    readonly secureContext: SecureContext | undefined,
  ) {}

  /**
   * Calls `cb` with a tunnel when a proxy applies and returns true; returns false for direct.
   * Errors (a bad proxy URL in the environment) go to `cb`.
   */
  tunnel(options: ConnectOptions, secure: boolean, cb: ConnectCallback): boolean {
    const host = String(options.host ?? 'localhost');
    const port = Number(options.port ?? (secure ? 443 : 80));
    let choice: ProxyChoice | undefined;
    try {
      choice = chooseProxy(this.endpoint.config.proxy, host, port, secure);
    } catch (err) {
      process.nextTick(cb, err as Error);
      return true;
    }
    if (!choice) return false;
    const { name, config } = this.endpoint;
    void (async () => {
      const credentials = config.proxyAuth ? await proxyCredentials(name) : undefined;
      return openTunnel(options, secure, {
        endpoint: name,
        choice,
        credentials,
        timeoutMs: config.connectTimeoutMs,
        secureContext: this.secureContext,
      });
    })().then((s) => cb(null, s), cb);
    return true;
  }
}

/** An HTTP agent for a TCP endpoint: direct, or through its proxy ({@link Route}). */
class RoutedHttpAgent extends HttpAgent {
  constructor(private readonly route: Route) {
    super(AGENT_OPTIONS);
  }
  override createConnection(options: ConnectOptions, cb: ConnectCallback): Duplex {
    if (this.route.tunnel(options, false, cb)) return undefined as unknown as Duplex;
    return super.createConnection(options, cb) as Duplex;
  }
}

/** An HTTPS agent for a TCP endpoint, trusting its CAs: direct, or through its proxy. */
class RoutedHttpsAgent extends HttpsAgent {
  constructor(private readonly route: Route) {
    super(agentOptions(route.secureContext));
  }
  override createConnection(options: ConnectOptions, cb: ConnectCallback): Duplex {
    if (this.route.tunnel(options, true, cb)) return undefined as unknown as Duplex;
    return super.createConnection(options, cb) as Duplex;
  }
}

/**
 * Makes keep-alive agents (one pair per endpoint, closed with it); also what requests made on an
 * endpoint's behalf outside its sessions (OAuth discovery and token requests) are to use, so they
 * take the same CAs, proxy and SSH route as its MCP traffic. TLS trusts the runtime's CAs, the OS
 * store where readable, and the endpoint's own `ca` ({@link secureContextFor}); without `dial`,
 * each new connection goes through the proxy {@link chooseProxy} picks (`--proxy`, the
 * environment, the OS settings), or direct. A proxy does not apply to a dialled (SSH) endpoint:
 * its HTTP runs inside the SSH tunnel.
 * @param dial where connections come from (default: TCP); SSH endpoints pass their tunnel
 * @param endpoint the endpoint's name and network settings (default: no CA or proxy of its own)
 */
export function createAgents(dial?: Dial, endpoint?: AgentEndpoint): Agents {
  const secureContext = secureContextFor(endpoint?.config.ca);
  if (dial) return { http: new DialingHttpAgent(dial), https: new DialingHttpsAgent(dial, secureContext) };
  const route = new Route(endpoint ?? { name: '', config: { connectTimeoutMs: 10_000 } }, secureContext);
  return { http: new RoutedHttpAgent(route), https: new RoutedHttpsAgent(route) };
}

/**
 * The request body for a message: its text when small (node:http then sends headers and body in
 * one write), the client's own bytes when large (no copy, no re-encoding).
 */
export function bodyOf(msg: { text: string; raw?: Buffer }): string | Buffer {
  return msg.raw && msg.raw.length >= LARGE_LINE_BYTES ? msg.raw : msg.text;
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
function describeNetError(err: NodeJS.ErrnoException, url: URL): string {
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
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the certificate of ${where} is not trusted (${err.code}: ${err.message}); for a private CA, add the endpoint with --ca FILE (mcp-tether doctor shows the chain)`;
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
      if (!(err instanceof TetherError && err.data.staleSocket === true) || attempt >= 3) throw err;
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
