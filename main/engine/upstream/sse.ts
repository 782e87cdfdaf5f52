/**
 * Legacy HTTP+SSE client transport (MCP 2024-11-05 §Transports/HTTP with SSE): a GET opens an event
 * stream whose first `endpoint` event names the URL to POST messages to; every server message
 * arrives on that stream as a `message` event. One instance is one MCP session.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { JsonRpcId } from '../../common/jsonrpc.js';
import { authRefused, mayRetryAuth, postMessage, wwwAuthenticate } from './auth-headers.js';
import { ReadGate } from './flow.js';
import { readBody, readSse, sendHttp } from './http.js';
import { deliverText, ERROR_BODY_CHARS, ownErrorAnswer, sendNotice } from './messages.js';
import type { NetworkUpstreamOptions, OutboundMessage, UpstreamConnection } from './types.js';

/**
 * Opens the event stream and waits for its `endpoint` event.
 * @throws TetherError UPSTREAM_UNREACHABLE, UPSTREAM_TIMEOUT (no `endpoint` event within the connect
 *   timeout), UPSTREAM_PROTOCOL (not an event stream, or an endpoint on another origin), AUTH_REQUIRED
 */
export async function openSseUpstream(
  opts: NetworkUpstreamOptions,
  retried = false,
): Promise<UpstreamConnection> {
  const url = opts.url;
  const abort = new AbortController();
  const creds = opts.auth ? await opts.auth.headers() : undefined;
  const res = await sendHttp(url, {
    method: 'GET',
    headers: { ...opts.config.headers, accept: 'text/event-stream', ...creds },
    agents: opts.agents,
    connectTimeoutMs: opts.config.connectTimeoutMs,
    headersTimeoutMs: opts.config.connectTimeoutMs,
    signal: abort.signal,
  });
  const status = res.statusCode ?? 0;
  const ctype = String(res.headers['content-type'] ?? '');
  if (status !== 200 || !ctype.includes('text/event-stream')) {
    res.resume();
    if (mayRetryAuth(status, opts.auth, retried)) {
      await opts.auth!.rejected(creds ?? {}, status, wwwAuthenticate(res));
      return openSseUpstream(opts, true);
    }
    if (status === 401 || status === 403) {
      throw authRefused(opts.auth, opts.name, status, 'the SSE stream', wwwAuthenticate(res));
    }
    throw new TetherError(
      ErrorCode.UPSTREAM_PROTOCOL,
      status === 200
        ? `GET ${url.pathname} answered ${ctype || 'no content type'}, not an SSE stream (text/event-stream)`
        : `GET ${url.pathname} for the SSE stream answered HTTP ${status}`,
      { status },
    );
  }
  const gate = new ReadGate();
  return new Promise((resolve, reject) => {
    let upstream: SseUpstream | undefined;
    const timer = setTimeout(() => {
      abort.abort();
      reject(
        new TetherError(
          ErrorCode.UPSTREAM_TIMEOUT,
          `no "endpoint" event on the SSE stream within ${opts.config.connectTimeoutMs} ms`,
        ),
      );
    }, opts.config.connectTimeoutMs);
    void readSse(
      gate.track(res),
      (e) => {
        if (!upstream) {
          if (e.event !== 'endpoint') return;
          clearTimeout(timer);
          let postUrl: URL;
          try {
            postUrl = new URL(e.data.trim(), url);
          } catch {
            abort.abort();
            reject(
              new TetherError(
                ErrorCode.UPSTREAM_PROTOCOL,
                `the "endpoint" event is not a URL: ${e.data.slice(0, 200)}`,
              ),
            );
            return;
          }
          if (postUrl.origin !== url.origin) {
            abort.abort();
            reject(
              new TetherError(
                ErrorCode.UPSTREAM_PROTOCOL,
                `the "endpoint" event points to another origin (${postUrl.origin}); refused`,
              ),
            );
            return;
          }
          upstream = new SseUpstream(opts, postUrl, abort, gate);
          resolve(upstream);
          return;
        }
        if (e.event === undefined || e.event === 'message') upstream.deliver(e.data);
      },
      opts.maxMessageBytes,
    ).then(() => {
      clearTimeout(timer);
      if (upstream)
        upstream.markDead(
          new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the server closed the SSE stream'),
        );
      else
        reject(
          new TetherError(ErrorCode.UPSTREAM_PROTOCOL, 'the SSE stream ended before its "endpoint" event'),
        );
    });
  });
}

class SseUpstream implements UpstreamConnection {
  readonly transport = 'sse' as const;
  private protocolVersion: string | undefined;
  private dead = false;

  constructor(
    private readonly opts: NetworkUpstreamOptions,
    private readonly postUrl: URL,
    private readonly abort: AbortController,
    private readonly gate: ReadGate,
  ) {}

  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  deliver(data: string): void {
    deliverText(this.opts.handlers, data, 'an SSE message');
  }

  cancel(_id: JsonRpcId, notice: OutboundMessage): void {
    sendNotice(this, notice, this.opts.handlers);
  }

  markDead(err: TetherError): void {
    if (this.dead) return;
    this.dead = true;
    this.abort.abort();
    this.opts.handlers.closed(err);
  }

  async send(msg: OutboundMessage): Promise<void> {
    if (this.dead) throw new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the upstream session has ended');
    const res = await postMessage(this.postUrl, msg, {
      headers: { ...this.opts.config.headers, 'content-type': 'application/json' },
      protocolVersion: this.protocolVersion,
      net: this.opts,
      signal: this.abort.signal,
      onUnreachable: (err) => this.markDead(err),
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      res.resume();
      return;
    }
    const text = await readBody(res, 65_536).catch(() => '');
    this.opts.handlers.event('http-status', `POST ${msg.info.method ?? 'response'} → HTTP ${status}`);
    if (status === 401 || status === 403)
      throw authRefused(this.opts.auth, this.opts.name, status, 'the request', wwwAuthenticate(res));
    if (status === 404) {
      const err = new TetherError(
        ErrorCode.UPSTREAM_SESSION_LOST,
        'the server no longer knows this SSE session (HTTP 404)',
        { status },
      );
      this.markDead(err);
      throw err;
    }
    // The server's own JSON-RPC error for this request is its answer.
    const own = msg.info.kind === 'request' ? ownErrorAnswer(text, msg.info.id as JsonRpcId) : undefined;
    if (own !== undefined) {
      deliverText(this.opts.handlers, own, 'an HTTP error body');
      return;
    }
    throw new TetherError(
      status >= 500 ? ErrorCode.UPSTREAM_UNREACHABLE : ErrorCode.UPSTREAM_PROTOCOL,
      `the server answered HTTP ${status} to ${msg.info.method ?? 'a response'}`,
      { status, body: text.slice(0, ERROR_BODY_CHARS) },
    );
  }

  async close(): Promise<void> {
    this.dead = true;
    this.abort.abort();
  }
}
