/**
 * What one relay session does when its server cannot be reached (issue 9), kept apart from the
 * relay itself (relay/session.ts calls it at three points: a request failing, a client message
 * about to go up, an answer coming back):
 *
 * - **Safe retry**: a request lost to a transport failure before any answer is sent again once,
 *   after the session is re-opened, when retry-policy.ts says it is safe. Re-opening is tried
 *   again (250 ms doubling to 2 s) while the connection is refused, for the endpoint's
 *   `connectTimeoutMs` (within the request's own `requestTimeoutMs`).
 *   A `retry` traffic event says so.
 * - **Offline start**: a request of {@link CACHED_METHODS} that fails that way is answered from the
 *   endpoint's last known state (last-known.ts), with a `cache` traffic event giving its age and
 *   `status` showing it (`lastKnown`). When that was the client's `initialize`, the session goes
 *   offline: every request is answered at once (from the last known state, else
 *   UPSTREAM_UNREACHABLE with a hint), nothing is sent, and the session is re-opened in the
 *   background (1 s doubling to 10 s, ±20 %). Once it is, the lists the server declares are read
 *   again and, for each that changed, the client gets `notifications/{tools,prompts,resources}/
 *   list_changed` when the `initialize` result it got declared `listChanged` for that kind (a
 *   server may only send those then, MCP 2025-11-25 server/tools §List Changed Notification).
 * - **Sign-in from the chat**: a request that fails with AUTH_REQUIRED on an OAuth endpoint, from a
 *   client that declared URL-mode elicitation, waits for the endpoint's in-chat sign-in
 *   (auth/in-chat-signin.ts) and is sent again once, when the tokens arrive. Its `initialize` is
 *   answered from the last known state (the client must be initialized before it can be asked).
 * - **Disconnected**: while the user has disconnected the endpoint, every request is answered at
 *   once (from the last known state, else ENDPOINT_DISCONNECTED); `mcp-tether connect` re-opens
 *   the session in the background the same way.
 */
import { duration } from '../../common/duration.js';
import { ErrorCode, TetherError, toTetherError, errorMessage } from '../../common/errors.js';
import { idKey, type JsonRpcId, type JsonRpcMessage, type MessageInfo } from '../../common/jsonrpc.js';
import {
  declaresUrlElicitation,
  IN_CHAT_SIGN_IN_TIMEOUT_MS,
  InChatSignIn,
  type SignInAsker,
} from '../auth/in-chat-signin.js';
import { InternalCalls } from './internal-calls.js';
import type { OutboundMessage, UpstreamConnection } from '../upstream/types.js';
import type { SessionEndpoint } from './endpoint-ports.js';
import { CACHED_METHODS, type LastKnownEntry } from './last-known.js';
import { isTransportFailure, neverReached, retryDelayMs, safeToRepeat } from './retry-policy.js';

/** What this module needs of a pending client request. */
export interface PendingRequest {
  id: JsonRpcId;
  method: string;
  msg: OutboundMessage;
  /** Set once the request was sent again (by this module or for a refused session). */
  retried: boolean;
}

/** What this module needs of its relay session. */
export interface ResilienceHost {
  readonly endpoint: SessionEndpoint;
  isClosed(): boolean;
  /** True once the client's `initialize` is known (the session can be re-opened by replaying it). */
  hasInit(): boolean;
  /** The params of the client's `initialize`, once known. */
  initParams(): unknown;
  /** Writes an engine-made message to the client, recorded as from the server. */
  toClient(out: OutboundMessage): void;
  pending(key: string): PendingRequest | undefined;
  /** The open upstream session, or one re-opened by replaying the client's `initialize`. */
  reopen(): Promise<UpstreamConnection>;
  /** Sends a pending request's message (again), opening the session when needed. */
  resend(msg: OutboundMessage): void;
  /** Answers a pending request with `line` (a response made by the engine), recorded. */
  answer(key: string, line: string): void;
  /** Answers a pending request with an error, without asking this module. */
  failFinal(key: string, err: TetherError): void;
  /** Sends an engine-made request on `conn` (recorded) and waits for its answer. */
  call(conn: UpstreamConnection, method: string, params: unknown): Promise<JsonRpcMessage>;
  event(type: string, detail: string): void;
}

/** A retry under way. */
interface Retry {
  /** Give up re-opening after this (wall clock, ms). */
  until: number;
  /** Attempts so far. */
  n: number;
  /** The failure that lost the request (what the client gets if the retry cannot be made). */
  err: TetherError;
}

/** A session running from the last known state. */
interface Offline {
  /** Re-open attempts so far. */
  n: number;
  /** True while an attempt is under way: requests wait for it instead of failing. */
  attempting: boolean;
  timer: NodeJS.Timeout | undefined;
  /** The first pages of the lists as the client may have them (method → result text). */
  lists: Map<string, string>;
  /** The server's capabilities in the `initialize` result the client got. */
  capabilities: Record<string, unknown>;
}

/** The list methods read again after an offline session is re-opened, by capability. */
const LISTS: readonly { method: string; kind: 'tools' | 'prompts' | 'resources' }[] = [
  { method: 'tools/list', kind: 'tools' },
  { method: 'prompts/list', kind: 'prompts' },
  { method: 'resources/list', kind: 'resources' },
  { method: 'resources/templates/list', kind: 'resources' },
];

/** ENDPOINT_DISCONNECTED for endpoint `name`, with how to connect again. */
export function disconnectedError(name: string): TetherError {
  return new TetherError(ErrorCode.ENDPOINT_DISCONNECTED, `the endpoint ${name} is disconnected`, {
    hint: `Connect it again: mcp-tether connect ${name} (or Connect in the tray); this session carries on by itself.`,
  });
}

/** See the module comment. */
export class SessionResilience {
  private readonly retries = new WeakMap<PendingRequest, Retry>();
  private offline: Offline | undefined;
  /** Requests already sent again after an in-chat sign-in (never twice). */
  private readonly signedInFor = new WeakSet<PendingRequest>();
  /** The engine's own requests to the client (`elicitation/create`). */
  private readonly toClient = new InternalCalls('signin');

  constructor(private readonly host: ResilienceHost) {}

  private get ep(): SessionEndpoint {
    return this.host.endpoint;
  }

  /**
   * A pending request is about to fail with `err`: retries it or answers it from the last known
   * state instead.
   * @returns true when it was taken over (the caller must not fail it)
   */
  intercept(key: string, p: PendingRequest, err: TetherError): boolean {
    if (err.code === ErrorCode.AUTH_REQUIRED) return this.signInFromChat(key, p);
    if (!isTransportFailure(err) || this.ep.disconnected) return false;
    const r = this.retries.get(p);
    if (r) {
      // A retry under way: a send that never reached the server may be tried again in the window.
      if (Date.now() < r.until && neverReached(err, key, idKey)) {
        this.schedule(key, p, r);
        return true;
      }
      return this.fromCache(key, p, r.err);
    }
    const why =
      !p.retried &&
      this.ep.config.safeRetry !== false &&
      safeToRepeat(p.method, p.msg.parsed.params, this.ep.lastKnown);
    if (why) {
      p.retried = true;
      const retry: Retry = { until: Date.now() + this.ep.config.connectTimeoutMs, n: 0, err };
      this.retries.set(p, retry);
      this.host.event(
        'retry',
        `${p.method} (id ${String(p.id)}) was lost (${err.code}: ${err.message}); sending it again once the session is back: ${why}`,
      );
      this.schedule(key, p, retry);
      return true;
    }
    return this.fromCache(key, p, err);
  }

  /**
   * Waits for the endpoint's in-chat sign-in (asking this session's client when none runs), then
   * sends `p` again; false when the endpoint is not OAuth or the client cannot open a URL.
   */
  private signInFromChat(key: string, p: PendingRequest): boolean {
    const signIn = this.ep.signIn();
    if (!signIn || this.signedInFor.has(p) || !declaresUrlElicitation(this.host.initParams())) return false;
    // No client may be asked anything before its initialize is answered: from the last known
    // state, when there is one, else provisionally; the sign-in is then asked for by the next
    // request that needs it.
    if (p.method === 'initialize')
      return this.serve(key, p, 'a sign-in is needed first') || this.provisionalInitialize(key, p);
    this.signedInFor.add(p);
    const asker: SignInAsker = {
      elicit: (params) => {
        const { out, response } = this.toClient.request(
          'elicitation/create',
          params,
          IN_CHAT_SIGN_IN_TIMEOUT_MS,
        );
        this.host.toClient(out);
        return response;
      },
      notify: (method, params) => this.notify(method, params),
      event: (type, detail) => this.host.event(type, detail),
    };
    InChatSignIn.of(this.ep, this.ep.name)
      .signIn((onUrl) => signIn({ openBrowser: false, timeoutMs: IN_CHAT_SIGN_IN_TIMEOUT_MS, onUrl }), asker)
      .then(
        () => {
          if (this.host.pending(key) === p) this.host.resend(p.msg);
        },
        (err: unknown) => {
          if (this.host.pending(key) === p)
            this.host.failFinal(key, toTetherError(err, ErrorCode.AUTH_REQUIRED));
        },
      );
    return true;
  }

  /**
   * A message from the client: the answer to one of the engine's own requests (an elicitation) is
   * taken here.
   * @returns true when it was one
   */
  clientAnswer(info: MessageInfo, parsed: JsonRpcMessage): boolean {
    return this.toClient.settle(info, parsed);
  }

  /** Re-opens the session (after a pause from the second attempt on), then sends the request again. */
  private schedule(key: string, p: PendingRequest, r: Retry): void {
    const delay = r.n === 0 ? 0 : retryDelayMs(r.n - 1);
    r.n++;
    setTimeout(() => {
      void (async () => {
        if (this.host.pending(key) !== p || this.host.isClosed() || this.ep.disconnected) return;
        if (this.host.hasInit()) {
          try {
            await this.host.reopen();
          } catch {
            if (Date.now() < r.until) this.schedule(key, p, r);
            else if (!this.fromCache(key, p, r.err)) this.host.failFinal(key, r.err);
            return;
          }
          if (this.host.pending(key) !== p) return;
        }
        this.host.resend(p.msg);
      })();
    }, delay).unref();
  }

  /**
   * Answers the `initialize` of a client that can sign in from the chat, for an endpoint never
   * reached (no last known state): the client's own protocol version, every list declared
   * changeable (its first `tools/list` etc. then waits for the sign-in, and the real lists follow),
   * and instructions saying a sign-in comes. The session's upstream `initialize` is replayed with
   * the client's own parameters once the tokens arrive.
   */
  private provisionalInitialize(key: string, p: PendingRequest): boolean {
    const requested = (p.msg.parsed.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (typeof requested !== 'string') return false;
    const result = {
      protocolVersion: requested,
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true },
      },
      serverInfo: { name: this.ep.name, version: '0.0.0' },
      instructions: `${this.ep.name} needs a sign-in first: MCP Tether asks you to open its sign-in page with your first request.`,
    };
    this.host.answer(key, JSON.stringify({ jsonrpc: '2.0', id: p.id, result }));
    this.host.event(
      'sign-in',
      'initialize answered provisionally (the server was never reached): a sign-in is needed first',
    );
    return true;
  }

  /** Answers `p` from the last known state, when it holds its result. */
  private fromCache(key: string, p: PendingRequest, err: TetherError): boolean {
    if (!this.serve(key, p, `the server cannot be reached (${err.code})`)) return false;
    if (p.method === 'initialize') this.goOffline();
    return true;
  }

  private serve(key: string, p: PendingRequest, why: string): boolean {
    const ep = this.ep;
    if (ep.config.offlineStart === false || !CACHED_METHODS.has(p.method)) return false;
    const hit: LastKnownEntry | undefined = ep.lastKnown.get(p.method, p.msg.parsed.params);
    if (!hit) return false;
    this.host.answer(key, `{"jsonrpc":"2.0","id":${JSON.stringify(p.id)},"result":${hit.result}}`);
    const saved = new Date(hit.savedAtMs).toISOString();
    this.host.event(
      'cache',
      `${p.method} answered from the last known state saved ${saved} (${duration(Date.now() - hit.savedAtMs)} old): ${why}`,
    );
    ep.health.servedFromCache(hit.savedAtMs);
    return true;
  }

  /**
   * A client message is about to go up: while the endpoint is disconnected or this session
   * offline, answers it here instead (requests at once, notifications dropped).
   * @returns true when the message was handled here
   */
  gate(msg: OutboundMessage): boolean {
    const disconnected = this.ep.disconnected;
    if (!disconnected && (!this.offline || this.offline.attempting)) return false;
    if (msg.info.kind !== 'request') return true;
    const key = idKey(msg.info.id as JsonRpcId);
    const p = this.host.pending(key);
    if (!p) return true;
    if (this.serve(key, p, disconnected ? 'the endpoint is disconnected' : 'the server cannot be reached')) {
      if (p.method === 'initialize') this.goOffline();
      return true;
    }
    this.host.failFinal(
      key,
      disconnected
        ? disconnectedError(this.ep.name)
        : new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, `the server of ${this.ep.name} cannot be reached`, {
            hint: `MCP Tether reconnects in the background and this session carries on once the server is back; mcp-tether doctor ${this.ep.name} shows why it cannot be reached.`,
          }),
    );
    return true;
  }

  /**
   * An answer from the server: a result of {@link CACHED_METHODS} becomes the last known one (kept
   * in memory only with `offlineStart: false`, for the tools' annotations).
   */
  noteAnswer(method: string, params: unknown, answer: JsonRpcMessage): void {
    if (answer.result !== undefined) this.ep.lastKnown.note(method, params, answer.result);
  }

  /**
   * Runs from the last known state: answers here, re-opens in the background (see the module
   * comment). Only a session whose client sent `initialize` can be re-opened so.
   */
  goOffline(): void {
    if (this.offline || !this.host.hasInit()) return;
    let capabilities: Record<string, unknown> = {};
    const init = this.ep.lastKnown.get('initialize', undefined);
    try {
      const c = init ? (JSON.parse(init.result) as { capabilities?: unknown }).capabilities : undefined;
      if (c && typeof c === 'object') capabilities = c as Record<string, unknown>;
    } catch {
      // masked text that is no longer JSON: no list_changed then
    }
    const lists = new Map<string, string>();
    for (const { method } of LISTS) {
      const hit = this.ep.lastKnown.get(method, undefined);
      if (hit) lists.set(method, hit.result);
    }
    this.offline = { n: 0, attempting: false, timer: undefined, lists, capabilities };
    this.host.event(
      'offline',
      this.ep.disconnected
        ? 'the endpoint is disconnected: requests are answered here until it is connected again'
        : 'the server cannot be reached: requests are answered here while the session is re-opened in the background',
    );
    this.tick();
  }

  /** The endpoint was connected again or its server answers: re-open now (requests wait for it). */
  kick(): void {
    if (!this.offline || this.offline.attempting) return;
    clearTimeout(this.offline.timer);
    this.offline.n = 0;
    void this.attempt(this.offline);
  }

  private tick(delayMs?: number): void {
    const o = this.offline;
    if (!o || this.host.isClosed() || this.ep.disconnected) return;
    clearTimeout(o.timer);
    const base = Math.min(1000 * 2 ** o.n, 10_000);
    const delay = delayMs ?? Math.round(base * (0.8 + Math.random() * 0.4));
    o.timer = setTimeout(() => void this.attempt(o), delay);
    o.timer.unref();
  }

  private async attempt(o: Offline): Promise<void> {
    if (this.offline !== o || o.attempting || this.host.isClosed() || this.ep.disconnected) return;
    let conn: UpstreamConnection;
    o.attempting = true;
    try {
      conn = await this.host.reopen();
    } catch {
      o.attempting = false;
      o.n++;
      this.tick();
      return;
    }
    o.attempting = false;
    if (this.offline !== o) return;
    this.offline = undefined;
    this.host.event('online', 'the session is re-opened: requests go to the server again');
    await this.refreshLists(conn, o).catch((err: unknown) =>
      this.host.event('offline', `the lists could not be read again: ${errorMessage(err)}`),
    );
  }

  /** Reads the declared lists again and tells the client of each that changed (see the module comment). */
  private async refreshLists(conn: UpstreamConnection, o: Offline): Promise<void> {
    const changed = new Set<string>();
    for (const { method, kind } of LISTS) {
      if (o.capabilities[kind] === undefined || this.host.isClosed()) continue;
      const answer = await this.host.call(conn, method, {});
      if (answer.result === undefined) continue;
      this.noteAnswer(method, undefined, answer);
      if (this.ep.lastKnown.get(method, undefined)?.result !== o.lists.get(method)) changed.add(kind);
    }
    for (const kind of changed) {
      const cap = o.capabilities[kind] as { listChanged?: unknown } | undefined;
      if (cap?.listChanged === true) this.notify(`notifications/${kind}/list_changed`);
      else
        this.host.event(
          'offline',
          `the ${kind} changed, but the server did not declare listChanged for them`,
        );
    }
  }

  /** Writes a notification of the engine's to the client. */
  private notify(method: string, params?: Record<string, unknown>): void {
    const parsed: JsonRpcMessage = params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method };
    this.host.toClient({ text: JSON.stringify(parsed), info: { kind: 'notification', method }, parsed });
  }

  /** The session ended: no more background work. */
  stop(): void {
    this.toClient.failAll(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the client left'));
    clearTimeout(this.offline?.timer);
    this.offline = undefined;
  }
}
