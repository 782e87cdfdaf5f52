/**
 * Streamable HTTP client transport (MCP 2025-03-26 … 2025-11-25 §Transports/Streamable HTTP; the
 * stateless form of 2026-07-28). One instance is one MCP session.
 *
 * - every message is a POST; the answer is 202, JSON (a message or, 2025-03-26, a batch array) or
 *   an SSE stream scoped to the request;
 * - `Mcp-Session-Id` from the `initialize` response is echoed; a 404 with it means the session is
 *   gone; DELETE ends it;
 * - after `notifications/initialized` a GET stream carries server-initiated messages;
 * - a stream that breaks before the response arrived is resumed with `Last-Event-ID` (GET), when
 *   the server gave event ids.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { toSingleLine } from '../../common/ndjson.js';
import { safeStringify } from '../../common/safe-json.js';
import { authRefused, mayRetryAuth, postMessage, wwwAuthenticate } from './auth-headers.js';
import { ReadGate } from './flow.js';
import { isUnreachable, readBody, readSse, sendHttp } from './http.js';
import type { NetworkUpstreamOptions, OutboundMessage, UpstreamConnection } from './types.js';

const MAX_RESUME_ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown by {@link StreamableHttpUpstream.send} for statuses that auto-detection falls back on. */
export function isLegacyFallbackStatus(err: unknown): boolean {
  return (
    err instanceof TetherError &&
    err.code === ErrorCode.UPSTREAM_PROTOCOL &&
    [400, 404, 405].includes(err.data['status'] as number)
  );
}

/**
 * True when an HTTP error answer to a request carrying `Mcp-Session-Id` means the session is gone:
 * 404 (the spec), or 400 naming the session, which the SDK's example servers and server-everything
 * send for an id they do not know (e.g. after a restart).
 */
export function isUnknownSession(status: number, body: string): boolean {
  return status === 404 || (status === 400 && /session/i.test(body));
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

  /** @param opts endpoint config, handlers, agents */
  constructor(private readonly opts: NetworkUpstreamOptions) {
    this.url = opts.url;
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

  async send(msg: OutboundMessage): Promise<void> {
    if (this.dead) throw new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the upstream session has ended');
    const headers = this.baseHeaders();
    headers['content-type'] = 'application/json';
    headers['accept'] = 'application/json, text/event-stream';
    const res = await postMessage(this.url, msg, {
      headers,
      protocolVersion: this.protocolVersion,
      net: this.opts,
      signal: this.abort.signal,
      onUnreachable: (err) => this.markDead(err),
    });
    const status = res.statusCode ?? 0;
    if (status !== 200 && status !== 202)
      this.opts.handlers.event('http-status', `POST ${msg.info.method ?? 'response'} → HTTP ${status}`);
    if (msg.info.method === 'initialize' && status === 200) {
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string' && sid.length > 0) this.sessionId = sid;
    }
    if (status === 202 || status === 204) {
      res.resume();
      if (msg.info.method === 'notifications/initialized') this.startGetStream();
      return;
    }
    if (status === 200) {
      await this.readAnswer(res, msg);
      if (msg.info.method === 'notifications/initialized') this.startGetStream();
      return;
    }
    await this.failStatus(res, status, msg);
  }

  /** Reads a 200 answer: JSON or an SSE stream; resumes a broken stream when possible. */
  private async readAnswer(res: IncomingMessage, msg: OutboundMessage): Promise<void> {
    const ctype = String(res.headers['content-type'] ?? '');
    const wantId = msg.info.kind === 'request' ? msg.info.id : undefined;
    if (ctype.includes('text/event-stream')) {
      let answered = false;
      let lastEventId: string | undefined;
      const onData = (data: string, id: string | undefined) => {
        if (id) lastEventId = id;
        if (data.length === 0) return; // priming event (2025-11-25) carries only an id
        if (this.deliver(data) === wantId && wantId !== undefined) answered = true;
      };
      let end = await readSse(
        this.gate.track(res),
        (e) => (e.event === undefined || e.event === 'message' ? onData(e.data, e.id) : undefined),
        this.opts.maxMessageBytes,
      );
      for (let attempt = 1; wantId !== undefined && !answered && !this.dead; attempt++) {
        if (lastEventId === undefined || attempt > MAX_RESUME_ATTEMPTS) {
          throw new TetherError(
            ErrorCode.UPSTREAM_UNREACHABLE,
            'the server closed the response stream before answering',
          );
        }
        await sleep(Math.min(end.retryMs ?? 0, 1000));
        this.opts.handlers.event('stream-resume', `resuming after event ${lastEventId}`);
        const resumed = await this.openGet(lastEventId);
        if (!resumed)
          throw new TetherError(
            ErrorCode.UPSTREAM_UNREACHABLE,
            'the response stream broke and cannot be resumed',
          );
        end = await readSse(
          this.gate.track(resumed),
          (e) => (e.event === undefined || e.event === 'message' ? onData(e.data, e.id) : undefined),
          this.opts.maxMessageBytes,
        );
      }
      return;
    }
    const body = await readBody(res, this.opts.maxMessageBytes);
    if (body.trim().length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new TetherError(
        ErrorCode.UPSTREAM_PROTOCOL,
        `the server answered HTTP 200 with a body that is not JSON (${ctype || 'no content-type'})`,
      );
    }
    if (Array.isArray(parsed)) {
      for (const m of parsed) this.opts.handlers.message(safeStringify(m), m);
    } else {
      this.opts.handlers.message(toSingleLine(body, parsed), parsed);
    }
  }

  /** Parses and hands out one message text; returns its id when it is a response. */
  private deliver(data: string): unknown {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.opts.handlers.event(
        'protocol-error',
        `ignored a stream event that is not JSON (${data.length} chars)`,
      );
      return undefined;
    }
    this.opts.handlers.message(toSingleLine(data, parsed), parsed);
    const m = parsed as { id?: unknown; method?: unknown };
    return m.method === undefined ? m.id : undefined;
  }

  private async failStatus(res: IncomingMessage, status: number, msg: OutboundMessage): Promise<never> {
    const text = await readBody(res, 65_536).catch(() => '');
    if (this.sessionId && isUnknownSession(status, text)) {
      const data: Record<string, unknown> = { status };
      // The server refused this request without running it: the relay may send it on a new session.
      if (msg.info.kind === 'request') data['refusedId'] = msg.info.id;
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
    // A server may answer a bad request with a JSON-RPC error for it: pass that on as the answer.
    if (msg.info.kind === 'request') {
      try {
        const parsed = JSON.parse(text) as { id?: unknown; error?: unknown };
        if (parsed && typeof parsed === 'object' && parsed.error && parsed.id === msg.info.id) {
          this.opts.handlers.message(toSingleLine(text, parsed), parsed);
          return undefined as never;
        }
      } catch {
        // not JSON: fall through
      }
    }
    const reason = res.statusMessage ? ` ${res.statusMessage}` : '';
    throw new TetherError(
      status >= 500 ? ErrorCode.UPSTREAM_UNREACHABLE : ErrorCode.UPSTREAM_PROTOCOL,
      `the server answered HTTP ${status}${reason} to ${msg.info.method ?? 'a response'}`,
      { status },
    );
  }

  /** Opens a GET stream (server-initiated messages, or resumption); undefined when not possible. */
  private async openGet(lastEventId?: string, retried = false): Promise<IncomingMessage | undefined> {
    const headers = this.baseHeaders();
    headers['accept'] = 'text/event-stream';
    if (this.protocolVersion) headers['mcp-protocol-version'] = this.protocolVersion;
    if (lastEventId) headers['last-event-id'] = lastEventId;
    let creds: Record<string, string> | undefined;
    try {
      creds = this.opts.auth ? await this.opts.auth.headers() : undefined;
    } catch {
      return undefined; // not signed in, say: the next POST reports why
    }
    if (creds) Object.assign(headers, creds);
    let res: IncomingMessage;
    try {
      res = await sendHttp(this.url, {
        method: 'GET',
        headers,
        agents: this.opts.agents,
        connectTimeoutMs: this.opts.config.connectTimeoutMs,
        headersTimeoutMs: this.opts.config.connectTimeoutMs,
        signal: this.abort.signal,
      });
    } catch (err) {
      if (isUnreachable(err)) this.markDead(err);
      return undefined;
    }
    const status = res.statusCode ?? 0;
    if (status === 200 && String(res.headers['content-type'] ?? '').includes('text/event-stream')) return res;
    res.resume();
    if (mayRetryAuth(status, this.opts.auth, retried)) {
      try {
        await this.opts.auth!.rejected(creds ?? {}, status, wwwAuthenticate(res));
      } catch {
        return undefined; // the next POST reports why
      }
      return this.openGet(lastEventId, true);
    }
    if (status === 404 && this.sessionId) {
      this.markDead(
        new TetherError(
          ErrorCode.UPSTREAM_SESSION_LOST,
          'the server no longer knows this session (HTTP 404); it probably restarted',
          { status },
        ),
      );
    }
    return undefined;
  }

  /** Keeps the GET stream for server-initiated messages open while the session lives. */
  private startGetStream(): void {
    if (this.getStreamStarted || !this.sessionId) return;
    this.getStreamStarted = true;
    void (async () => {
      let lastEventId: string | undefined;
      let delay = 500;
      while (!this.dead) {
        const res = await this.openGet(lastEventId);
        if (!res) return; // 405 (not offered), or the session is gone (markDead was called)
        this.opts.handlers.event('stream-open', 'GET stream for server-initiated messages opened');
        delay = 500;
        const end = await readSse(
          this.gate.track(res),
          (e) => {
            if (e.id) lastEventId = e.id;
            if (e.data.length > 0 && (e.event === undefined || e.event === 'message')) this.deliver(e.data);
          },
          this.opts.maxMessageBytes,
        );
        if (this.dead) return;
        await sleep(end.retryMs ?? delay);
        delay = Math.min(delay * 2, 10_000);
      }
    })();
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
