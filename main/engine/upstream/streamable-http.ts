/**
 * Streamable HTTP client transport (MCP 2025-03-26 … 2025-11-25 §Transports/Streamable HTTP; MCP
 * 2026-07-28 basic/transports/streamable-http). One instance is one MCP session (2025) or one
 * stateless connection (2026-07-28).
 *
 * - every message is its own POST; the answer is 202, JSON (a message or, 2025-03-26, a batch
 *   array) or an SSE stream scoped to the request. `send` resolves at the response headers and
 *   streams are read side by side, so no request waits for another's stream;
 * - each request has its own abort: cancelling a 2026-07-28 request closes its response stream
 *   (that is the cancellation signal of that revision); closing the connection closes them all;
 * - `Mcp-Session-Id` from the `initialize` response is echoed; a 404 with it means the session is
 *   gone; DELETE ends it;
 * - after `notifications/initialized` a GET stream carries server-initiated messages (2025);
 * - a 2025 stream that ends before the response arrived is resumed with `Last-Event-ID` (GET),
 *   waiting what the server's `retry:` asks, again and again until `requestTimeoutMs`;
 * - `x-mcp-header` tool parameters go up as `Mcp-Param-*` headers (see param-headers.ts);
 * - a server's own JSON-RPC error body on an HTTP error status is the request's answer.
 *
 * This module holds the POST side (requests, their JSON or SSE answers, resumption of a response
 * stream, HTTP error statuses); the GET stream is in streamable-get.ts, the engine's own
 * `tools/list` re-reads in streamable-relearn.ts.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { ErrorCode, TetherError, toTetherError, type TetherErrorDetails } from '../../common/errors.js';
import { idKey, type JsonRpcId, type JsonRpcMessage } from '../../common/jsonrpc.js';
import { safeStringify } from '../../common/safe-json.js';
import { authRefused, postMessage, wwwAuthenticate } from './auth-headers.js';
import { isModernVersion } from '../protocol/versions.js';
import { protocolVersionFor } from './headers.js';
import { ReadGate } from './flow.js';
import { readBody, readSse, sendHttp } from './http.js';
import { deliverText, ERROR_BODY_CHARS, ownErrorAnswer, sendNotice } from './messages.js';
import { ToolParamHeaders } from './param-headers.js';
import { keepGetStream, openGet, pause } from './streamable-get.js';
import type { StreamableHttpPort } from './streamable-port.js';
import { relearnTools } from './streamable-relearn.js';
import type {
  NetworkUpstreamOptions,
  OutboundMessage,
  UpstreamConnection,
  UpstreamHandlers,
} from './types.js';

/** Wait before resuming a stream when the server named none with `retry:` (ms). */
const DEFAULT_RETRY_MS = 1000;
/** HeaderMismatch (MCP 2026-07-28 streamable-http "Server Validation"). */
const HEADER_MISMATCH = -32020;

/** Thrown by {@link StreamableHttpUpstream.send} for statuses that auto-detection falls back on. */
export function isLegacyFallbackStatus(err: unknown): err is TetherError {
  const status = err instanceof TetherError && err.code === ErrorCode.UPSTREAM_PROTOCOL && err.data.status;
  return status === 400 || status === 404 || status === 405;
}

/**
 * True when an HTTP error answer to a request carrying `Mcp-Session-Id` means the session is gone:
 * 404 (the spec), or 400 naming the session, which the SDK's example servers and server-everything
 * send for an id they do not know (e.g. after a restart).
 */
function isUnknownSession(status: number, body: string): boolean {
  return status === 404 || (status === 400 && /session/i.test(body));
}

/** One request whose answer is still on its way. */
interface InFlight {
  /** Aborts this request's POST and its response stream (and resumptions of it). */
  abort: AbortController;
  /** Sent under a 2026-07-28 (modern) version. */
  modern: boolean;
}

/** A Streamable HTTP MCP session. See the module comment. */
export class StreamableHttpUpstream implements UpstreamConnection {
  /** Backpressure: pauses the SSE streams this session reads. */
  private readonly gate = new ReadGate();
  readonly transport = 'streamable-http' as const;
  private readonly url: URL;
  private sessionId: string | undefined;
  private protocolVersion: string | undefined;
  private dead = false;
  private readonly abort = new AbortController();
  private getStreamStarted = false;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly toolHeaders: ToolParamHeaders;
  /** Ids of the engine's own requests on this connection (`mcp-tether:headers:<n>`). */
  private ownIds = 0;
  /** This connection, as its GET stream and its own requests see it. */
  private readonly port: StreamableHttpPort;

  /** @param opts endpoint config, handlers, agents */
  constructor(private readonly opts: NetworkUpstreamOptions) {
    this.url = opts.url;
    this.toolHeaders = opts.toolHeaders ?? new ToolParamHeaders();
    this.port = {
      url: this.url,
      opts,
      gate: this.gate,
      toolHeaders: this.toolHeaders,
      signal: this.abort.signal,
      isDead: () => this.dead,
      sessionId: () => this.sessionId,
      protocolVersion: () => this.protocolVersion,
      baseHeaders: () => this.baseHeaders(),
      markDead: (err) => this.markDead(err),
      nextOwnId: () => `mcp-tether:headers:${++this.ownIds}`,
    };
  }

  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  private baseHeaders(): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = { ...this.opts.config.headers };
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    return h;
  }

  send(msg: OutboundMessage): Promise<void> {
    return this.post(msg, false);
  }

  /** Sends `msg`; `refreshed`: the tool annotations were re-read for it already (see failStatus). */
  private async post(msg: OutboundMessage, refreshed: boolean): Promise<void> {
    if (this.dead) throw new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the upstream session has ended');
    const flight: InFlight = {
      abort: new AbortController(),
      modern: isModernVersion(protocolVersionFor(msg, this.protocolVersion)),
    };
    const key = msg.info.kind === 'request' ? idKey(msg.info.id as JsonRpcId) : undefined;
    const closeWithSession = () => flight.abort.abort();
    this.abort.signal.addEventListener('abort', closeWithSession, { once: true });
    if (key) this.inFlight.set(key, flight);
    const done = () => {
      this.abort.signal.removeEventListener('abort', closeWithSession);
      if (key && this.inFlight.get(key) === flight) this.inFlight.delete(key);
    };
    const headers = this.baseHeaders();
    headers['content-type'] = 'application/json';
    headers['accept'] = 'application/json, text/event-stream';
    if (msg.info.method === 'tools/call') this.toolHeaders.addHeaders(headers, msg.parsed.params);
    let res: IncomingMessage;
    try {
      res = await postMessage(this.url, msg, {
        headers,
        protocolVersion: this.protocolVersion,
        net: this.opts,
        signal: flight.abort.signal,
        onUnreachable: (err) => this.markDead(err),
      });
    } catch (err) {
      done();
      throw err;
    }
    const status = res.statusCode ?? 0;
    if (status !== 200 && status !== 202)
      this.opts.handlers.event('http-status', `POST ${msg.info.method ?? 'response'} → HTTP ${status}`);
    if (msg.info.method === 'initialize' && status === 200) {
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string' && sid.length > 0) this.sessionId = sid;
    }
    const ctype = String(res.headers['content-type'] ?? '');
    if (status === 200 && ctype.includes('text/event-stream')) {
      // Read in the background: the next message goes up now, whatever this stream does.
      void this.readStream(res, msg, flight)
        .catch((err: unknown) => {
          if (msg.info.kind === 'request')
            this.opts.handlers.requestFailed?.(
              msg.info.id as JsonRpcId,
              toTetherError(err, ErrorCode.UPSTREAM_PROTOCOL),
            );
        })
        .finally(done);
    } else {
      try {
        if (status === 202 || status === 204) res.resume();
        else if (status === 200) await this.readJson(res, msg, flight, ctype);
        else if ((await this.failStatus(res, status, msg, flight, refreshed)) === 'resend') {
          done();
          return this.post(msg, true);
        }
      } finally {
        done();
      }
    }
    if (msg.info.method === 'notifications/initialized') this.startGetStream();
  }

  cancel(id: JsonRpcId, notice: OutboundMessage): void {
    const key = idKey(id);
    const flight = this.inFlight.get(key);
    if (!flight) return; // answered already, or never sent here: nothing is in progress
    this.inFlight.delete(key);
    flight.abort.abort();
    if (flight.modern) {
      this.opts.handlers.event('cancelled', `closed the response stream of request ${String(id)}`);
      return;
    }
    // MCP 2025-11-25 §Cancellation: a closed stream is not a cancellation there; say it.
    sendNotice(this, notice, this.opts.handlers);
  }

  /** Hands on the messages of a text; a modern `tools/list` result is learned from first. */
  private deliver(text: string, msg: OutboundMessage, flight: InFlight, what: string): unknown[] {
    const handlers = this.opts.handlers;
    if (!flight.modern || msg.info.method !== 'tools/list') return deliverText(handlers, text, what);
    const learning: UpstreamHandlers = {
      message: (t, parsed) => {
        const m = parsed as JsonRpcMessage;
        if (m?.id === msg.info.id && m.result !== undefined) {
          const dropped = this.toolHeaders.learn(m.result);
          for (const d of dropped)
            handlers.event(
              'tool-rejected',
              `tool "${d.tool}" left out of tools/list: ${d.reason} (MCP 2026-07-28 x-mcp-header)`,
            );
          if (dropped.length > 0) t = safeStringify(parsed);
        }
        handlers.message(t, parsed);
      },
      closed: (e) => handlers.closed(e),
      event: (type, detail) => handlers.event(type, detail),
      requestFailed: (id, e) => handlers.requestFailed?.(id, e),
    };
    return deliverText(learning, text, what);
  }

  /** Reads a JSON answer (a message, or a batch array of them). */
  private async readJson(
    res: IncomingMessage,
    msg: OutboundMessage,
    flight: InFlight,
    ctype: string,
  ): Promise<void> {
    const body = await readBody(res, this.opts.maxMessageBytes);
    if (body.trim().length === 0) return;
    const got = this.deliver(body, msg, flight, 'a JSON body');
    if (got.length === 0) {
      throw new TetherError(
        ErrorCode.UPSTREAM_PROTOCOL,
        `the server answered HTTP 200 with a body that is not JSON (${ctype || 'no content-type'})`,
      );
    }
  }

  /**
   * Reads a response stream until it ends. A 2025 stream that ends before the response is resumed
   * with `Last-Event-ID`, after the server's `retry:` wait, until `requestTimeoutMs`; when the
   * answer can no longer come, `requestFailed` says so.
   */
  private async readStream(res: IncomingMessage, msg: OutboundMessage, flight: InFlight): Promise<void> {
    const wantId = msg.info.kind === 'request' ? (msg.info.id as JsonRpcId) : undefined;
    const signal = flight.abort.signal;
    const deadline = Date.now() + this.opts.config.requestTimeoutMs;
    let answered = false;
    let lastEventId: string | undefined;
    let retryMs: number | undefined;
    const onEvent = (e: { event?: string | undefined; id?: string | undefined; data: string }) => {
      if (e.id) lastEventId = e.id;
      // A priming event (2025-11-25) carries only an id; other event types are not messages.
      if (e.data.length === 0 || (e.event !== undefined && e.event !== 'message')) return;
      for (const m of this.deliver(e.data, msg, flight, 'a stream event')) {
        const r = m as { id?: unknown; method?: unknown };
        if (wantId !== undefined && r?.method === undefined && r?.id === wantId) answered = true;
      }
    };
    const read = async (stream: IncomingMessage) => {
      const end = await readSse(this.gate.track(stream), onEvent, this.opts.maxMessageBytes);
      if (end.retryMs !== undefined) retryMs = end.retryMs;
    };
    await read(res);
    const failed = (code: ErrorCode, message: string) =>
      this.opts.handlers.requestFailed?.(wantId!, new TetherError(code, message));
    while (wantId !== undefined && !answered && !this.dead && !signal.aborted) {
      if (flight.modern || lastEventId === undefined) {
        // MCP 2026-07-28: streams are not resumable; 2025: only streams with event ids are.
        return failed(
          ErrorCode.UPSTREAM_UNREACHABLE,
          'the server closed the response stream before answering',
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        return failed(
          ErrorCode.UPSTREAM_TIMEOUT,
          `the response stream was not resumed with an answer within ${this.opts.config.requestTimeoutMs} ms`,
        );
      }
      await pause(Math.min(retryMs ?? DEFAULT_RETRY_MS, left), signal);
      if (this.dead || signal.aborted) return;
      this.opts.handlers.event('stream-resume', `resuming after event ${lastEventId}`);
      const resumed = await openGet(this.port, lastEventId, signal);
      if (resumed === 'again') continue;
      if (!resumed) {
        if (this.dead || signal.aborted) return;
        return failed(ErrorCode.UPSTREAM_UNREACHABLE, 'the response stream broke and cannot be resumed');
      }
      await read(resumed);
    }
  }

  /**
   * Handles an HTTP error answer: a lost session, refused credentials, the server's own JSON-RPC
   * error (delivered as the answer), or an error thrown with the status and the body's start.
   * @returns 'resend' when a modern `tools/call` was refused with HeaderMismatch (-32020) and the
   *   tools' `x-mcp-header` annotations were re-read: MCP 2026-07-28 streamable-http "Client
   *   Behavior" says to re-list the tools and retry
   */
  private async failStatus(
    res: IncomingMessage,
    status: number,
    msg: OutboundMessage,
    flight: InFlight,
    refreshed: boolean,
  ): Promise<'resend' | undefined> {
    const text = await readBody(res, 65_536).catch(() => '');
    if (this.sessionId && isUnknownSession(status, text)) {
      const data: TetherErrorDetails = { status };
      // The server refused this request without running it: the relay may send it on a new session.
      if (msg.info.kind === 'request' && msg.info.id != null) data.refusedId = msg.info.id;
      const err = new TetherError(
        ErrorCode.UPSTREAM_SESSION_LOST,
        `the server no longer knows this session (HTTP ${status}); it probably restarted`,
        data,
      );
      this.markDead(err);
      throw err;
    }
    if (status === 401 || status === 403) {
      throw authRefused(this.opts.auth, this.opts.name, status, 'the request', wwwAuthenticate(res));
    }
    // The server's own JSON-RPC error for this request is its answer (a 400 with -32602, -32020,
    // -32022…); one with id null answers the request it came back on.
    const own = msg.info.kind === 'request' ? ownErrorAnswer(text, msg.info.id as JsonRpcId) : undefined;
    if (own !== undefined) {
      if (
        !refreshed &&
        flight.modern &&
        msg.info.method === 'tools/call' &&
        (JSON.parse(own) as JsonRpcMessage).error?.code === HEADER_MISMATCH &&
        (await relearnTools(this.port, msg, flight.abort.signal))
      ) {
        this.opts.handlers.event(
          'headers-refresh',
          'the server refused tools/call with HeaderMismatch; re-read tools/list and sent it again',
        );
        return 'resend';
      }
      deliverText(this.opts.handlers, own, 'an HTTP error body');
      return undefined;
    }
    const reason = res.statusMessage ? ` ${res.statusMessage}` : '';
    throw new TetherError(
      status >= 500 ? ErrorCode.UPSTREAM_UNREACHABLE : ErrorCode.UPSTREAM_PROTOCOL,
      `the server answered HTTP ${status}${reason} to ${msg.info.method ?? 'a response'}`,
      { status, body: text.slice(0, ERROR_BODY_CHARS) },
    );
  }

  /** Keeps the GET stream for server-initiated messages open while the session lives. */
  private startGetStream(): void {
    if (this.getStreamStarted || !this.sessionId) return;
    this.getStreamStarted = true;
    void keepGetStream(this.port);
  }

  private markDead(err: TetherError): void {
    if (this.dead) return;
    this.dead = true;
    this.abort.abort();
    this.opts.handlers.closed(err);
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.abort.abort();
    if (!this.sessionId) return;
    try {
      const creds = this.opts.auth ? await this.opts.auth.headers() : undefined;
      const res = await sendHttp(this.url, {
        method: 'DELETE',
        // MCP 2025-06-18 §Transports: the version header goes on every request after initialize.
        headers: {
          ...this.baseHeaders(),
          ...(this.protocolVersion ? { 'mcp-protocol-version': this.protocolVersion } : {}),
          ...creds,
        },
        agents: this.opts.agents,
        connectTimeoutMs: 2000,
        headersTimeoutMs: 2000,
      });
      res.resume();
    } catch {
      // The server is gone already; nothing to end.
    }
  }
}
