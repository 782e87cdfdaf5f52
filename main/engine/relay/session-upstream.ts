/**
 * The upstream side of one relay session (docs/architecture.md "The relay", "Recovery"): the
 * connection, opened on demand by the first message that needs it; each message dispatched on it;
 * its loss (requests in flight fail, or are sent again when the server refused them for its unknown
 * session); and the re-open that replays the client's `initialize` and `notifications/initialized`
 * (protocol/handshake.ts), then its `resources/subscribe`s and last `logging/setLevel`.
 * relay/session.ts builds on it.
 */
import { ErrorCode, toTetherError, type TetherError } from '../../common/errors.js';
import { idKey, inspectMessage, type JsonRpcId, type JsonRpcMessage } from '../../common/jsonrpc.js';
import { legacyHandshake } from '../protocol/handshake.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import { InternalCalls } from './internal-calls.js';
import { SessionRequests } from './session-requests.js';

/** Most `resources/subscribe`s remembered for replay; beyond, a replay sends list_changed instead. */
const MAX_REMEMBERED_SUBSCRIPTIONS = 10_000;

/** Failures of an endpoint's credentials (its health becomes `auth-required`). */
const CREDENTIAL_FAILURES = new Set<string>([ErrorCode.AUTH_REQUIRED, ErrorCode.KEYCHAIN_UNAVAILABLE]);

/** See the module comment. */
export abstract class SessionUpstream extends SessionRequests {
  /** The open under way, if any. */
  protected opening: Promise<UpstreamConnection> | undefined;
  /** Counts opens and drops: what an older connection reports is ignored. */
  private attempt = 0;
  /** The client's `initialize`, replayed on a re-opened session. */
  protected init: OutboundMessage | undefined;
  /** The engine's own requests on the upstream session (the replays). */
  protected readonly internal = new InternalCalls('replay');
  /** Set once an upstream session was open: a later open counts as a reconnect in health. */
  protected everOpened = false;
  /** The protocol version the client and server agreed on (from the initialize result). */
  protected negotiated: string | undefined;
  /** Set once the shim went away. */
  protected closed = false;
  /** The client's `resources/subscribe` params by uri, replayed on a re-opened session. */
  private readonly subscriptions = new Map<string, unknown>();
  /** More subscriptions than remembered: a replay cannot restore them all. */
  private subscriptionsOverflow = false;
  /** The params of the client's last `logging/setLevel`, replayed on a re-opened session. */
  private logLevel: unknown;

  /** Handles one message from the server. */
  protected abstract onServerMessage(text: string, parsed: unknown, raw?: Buffer): void;

  /** Notes what a re-opened session must restore: subscriptions and the log level. */
  protected remember(method: string, params: unknown): void {
    const uri = (params as { uri?: unknown } | undefined)?.uri;
    if (method === 'logging/setLevel') this.logLevel = params;
    else if (method === 'resources/unsubscribe' && typeof uri === 'string') this.subscriptions.delete(uri);
    else if (method === 'resources/subscribe' && typeof uri === 'string') {
      if (this.subscriptions.size < MAX_REMEMBERED_SUBSCRIPTIONS || this.subscriptions.has(uri))
        this.subscriptions.set(uri, params);
      else this.subscriptionsOverflow = true;
    }
  }

  /**
   * Sends a message upstream (or does `act` with the connection), opening (or re-opening) the
   * session first when needed.
   */
  protected dispatch(
    msg: OutboundMessage,
    act: (c: UpstreamConnection) => Promise<void> | void = (c) => c.send(msg),
  ): void {
    const key = msg.info.kind === 'request' ? idKey(msg.info.id as JsonRpcId) : undefined;
    const p = key ? this.pending.get(key) : undefined;
    const sendNo = p ? ++p.sendNo : 0;
    const onError = (err: unknown) => {
      const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
      // Refused credentials describe the endpoint, not this request: health shows it before the
      // client sees the error. (Lost sessions reach health through the transport's `closed`.)
      if (CREDENTIAL_FAILURES.has(e.code)) this.deps.endpoint.health.failed(e);
      if (!key) {
        this.recordEvent('send-failed', `${msg.info.method ?? msg.info.kind}: ${e.message}`);
        return;
      }
      const cur = this.pending.get(key);
      if (cur && cur.sendNo === sendNo) this.fail(key, e);
    };
    if (this.upstream) {
      Promise.resolve(act(this.upstream)).catch(onError);
      return;
    }
    const conn = this.opening ?? this.open(msg);
    conn
      .then((c) =>
        c === this.upstream && this.opening === undefined && this.openedWith !== msg ? act(c) : undefined,
      )
      .catch(onError);
  }

  /** The message an open sent as its first (it needs no second send). */
  private openedWith: OutboundMessage | undefined;

  /** Opens the upstream session; when the client had initialized before, replays that first. */
  protected open(trigger: OutboundMessage): Promise<UpstreamConnection> {
    const ep = this.deps.endpoint;
    const attempt = ++this.attempt;
    const replay = this.init !== undefined && trigger !== this.init;
    let closedEarly: TetherError | undefined;
    const handlers: UpstreamHandlers = {
      message: (text, parsed, raw) => {
        if (attempt === this.attempt) this.onServerMessage(text, parsed, raw);
      },
      closed: (err) => {
        if (attempt !== this.attempt) return;
        if (this.upstream) this.onUpstreamClosed(err);
        else closedEarly = err; // e.g. a remote command that exits at once: handled once open settles
      },
      event: (type, detail) => this.recordEvent(type, detail),
      requestFailed: (id, err) => {
        if (attempt === this.attempt) this.fail(idKey(id), err);
      },
    };
    ep.health.connecting();
    this.openedWith = replay ? undefined : trigger;
    const opening = (async () => {
      let conn: UpstreamConnection;
      if (replay) {
        let version: string;
        let result: Record<string, unknown>;
        ({ conn, version, result } = await legacyHandshake({
          calls: this.internal,
          timeoutMs: ep.config.connectTimeoutMs,
          params: this.init!.parsed.params,
          open: (first) => ep.open(handlers, first),
          // Answers are recorded as the server sent them, by onServerMessage.
          record: (m, direction) => {
            const info = inspectMessage(m.parsed);
            if (direction === 'client-to-server' && typeof info !== 'string')
              this.record(direction, info, m.text);
          },
        }));
        this.negotiated = version;
        this.resilience.noteAnswer('initialize', this.init!.parsed.params, { jsonrpc: '2.0', result });
        await this.replayState(conn);
        ep.health.reconnected();
        this.recordEvent(
          'reconnect',
          `upstream session re-established over ${conn.transport} (protocol ${version})`,
        );
      } else {
        conn = await ep.open(handlers, trigger);
      }
      return conn;
    })();
    this.opening = opening;
    opening.then(
      (conn) => {
        if (attempt !== this.attempt || this.closed) {
          void conn.close();
          return;
        }
        this.opening = undefined;
        this.upstream = conn;
        if (this.readPaused) conn.pause();
        // The initialize answer may have come before the connection object existed.
        if (this.negotiated && !replay) conn.setProtocolVersion(this.negotiated);
        ep.noteTransport(conn.transport, this.negotiated);
        if (!replay && this.everOpened) ep.health.reconnected();
        this.everOpened = true;
        if (closedEarly) this.onUpstreamClosed(closedEarly);
      },
      (err: unknown) => {
        if (attempt !== this.attempt) return;
        this.opening = undefined;
        const e = toTetherError(err, ErrorCode.UPSTREAM_UNREACHABLE);
        ep.health.failed(e);
        this.recordEvent('connect-failed', `${e.code}: ${e.message}`);
      },
    );
    return opening;
  }

  /**
   * After a transparent re-initialize: replays the client's `resources/subscribe`s and last
   * `logging/setLevel` (their answers are the engine's, not shown to the client). When a
   * subscription cannot be restored, the client gets `notifications/resources/list_changed` so it
   * re-syncs (MCP 2025-11-25 server/resources).
   */
  protected async replayState(conn: UpstreamConnection): Promise<void> {
    const replays: { method: string; params: unknown }[] = [...this.subscriptions.values()].map((params) => ({
      method: 'resources/subscribe',
      params,
    }));
    if (this.logLevel !== undefined) replays.push({ method: 'logging/setLevel', params: this.logLevel });
    const answers = await Promise.all(
      replays.map(async ({ method, params }) => {
        try {
          const res = await this.internalCall(conn, method, params);
          return method !== 'resources/subscribe' || res.error === undefined;
        } catch {
          return method !== 'resources/subscribe';
        }
      }),
    ).catch(() => [false]);
    if (this.subscriptionsOverflow || answers.includes(false)) {
      const n: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/resources/list_changed' };
      const text = JSON.stringify(n);
      this.recordEvent(
        'replay',
        'resource subscriptions could not all be restored; told the client to re-sync',
      );
      this.record('server-to-client', { kind: 'notification', method: n.method! }, text);
      this.deps.write(text);
    }
  }

  /**
   * Sends a request of the engine's own on `conn` (recorded; its answer is recorded as it comes)
   * and waits for the answer.
   * @throws TetherError from the send, or UPSTREAM_TIMEOUT after the endpoint's requestTimeoutMs
   */
  protected async internalCall(
    conn: UpstreamConnection,
    method: string,
    params: unknown,
  ): Promise<JsonRpcMessage> {
    const { out, response } = this.internal.request(
      method,
      params,
      this.deps.endpoint.config.requestTimeoutMs,
    );
    this.record('client-to-server', out.info, out.text);
    await conn.send(out);
    return response;
  }

  protected onUpstreamClosed(err: TetherError): void {
    this.upstream = undefined;
    this.internal.failAll(err);
    this.recordEvent('session-lost', `${err.code}: ${err.message}`);
    if (!this.closed) this.deps.endpoint.health.failed(err);
    // A request the server refused for its unknown session never ran: sending it again is safe.
    const refused = err.data.refusedId;
    const refusedKey = refused !== undefined ? idKey(refused) : undefined;
    for (const [key, p] of [...this.pending]) {
      // Other requests may be sent again by the safe-retry rule (fail → resilience.ts).
      if (err.code === ErrorCode.UPSTREAM_SESSION_LOST && key === refusedKey && !p.retried) {
        p.retried = true;
        this.recordEvent(
          'retry',
          `${p.method} (id ${String(p.id)}): the server refused it for its unknown session; sending it again`,
        );
        this.dispatch(p.msg);
      } else {
        this.fail(key, err);
      }
    }
  }

  /** Backpressure from the client: true while its shim has too much queued (see upstream/flow.ts). */
  private readPaused = false;

  /** Stops (or restarts) reading from the server while the client cannot keep up. */
  setReadPaused(paused: boolean): void {
    this.readPaused = paused;
    if (paused) this.upstream?.pause();
    else this.upstream?.resume();
  }

  /** Forgets the upstream session (config changed, or a new `initialize`); the next message re-opens. */
  dropUpstream(): void {
    this.attempt++;
    this.opening = undefined;
    const conn = this.upstream;
    this.upstream = undefined;
    if (conn) void conn.close();
  }
}
