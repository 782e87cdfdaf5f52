/**
 * The bridge from a legacy client (MCP 2024-11-05 … 2025-11-25, `initialize`-based) to a
 * modern-only server (MCP 2026-07-28, stateless). MCP 2026-07-28 basic/versioning says this pair
 * fails on its own; the bridge is an {@link UpstreamConnection} that the relay session uses like
 * any other, so the session does not know the server is modern:
 *
 * - the client's `initialize` is answered here from `server/discover` (capabilities, serverInfo,
 *   instructions; the client's requested version when the bridge speaks it), its
 *   `notifications/initialized` is kept here, `ping` and `logging/setLevel` are answered here;
 * - every other client request goes up as a 2026-07-28 request: `_meta` protocolVersion,
 *   clientCapabilities and clientInfo from the client's `initialize`, logLevel from its last
 *   `logging/setLevel` (the transport mirrors them into the HTTP headers);
 * - an `input_required` result (MCP 2026-07-28 basic/patterns/mrtr) becomes the matching
 *   server→client requests to the client (`elicitation/create`, `sampling/createMessage`,
 *   `roots/list`); their answers go back on a retry of the original request, with `inputResponses`
 *   and `requestState`, under a new upstream id the client never sees;
 * - `resources/subscribe` and the list-changed notifications the server's capabilities announce
 *   become one `subscriptions/listen` stream (basic/patterns/subscriptions) whose notifications
 *   reach the client without the `subscriptionId` tag;
 * - results lose `resultType`, `ttlMs`, `cacheScope` and `_meta` serverInfo (unknown to legacy
 *   clients); "resource not found" goes back as -32002 (2025-11-25) instead of -32602.
 *
 * What cannot be expressed (an input request of another kind, or one whose capability the client
 * did not declare) gets a JSON-RPC error naming it, never a hang.
 */
import { ErrorCode, JsonRpcErrorCode, TetherError } from '../../common/errors.js';
import { idKey, inspectMessage, type JsonRpcId, type JsonRpcMessage } from '../../common/jsonrpc.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import { WrappedConnection } from './wrapped.js';
import type { ModernContext } from './handshake.js';
import { withModernMeta } from './handshake.js';
import {
  INPUT_CAPABILITY,
  LATEST_LEGACY_VERSION,
  LEGACY_VERSIONS,
  META,
  RESOURCE_NOT_FOUND,
  type DiscoverInfo,
} from './versions.js';

type Json = Record<string, unknown>;

/** Retries of one request that may again answer `input_required` (a bound, not a protocol rule). */
const MAX_INPUT_ROUNDS = 10;
/** Resource subscriptions one client may hold through the bridge (they all go into one listen). */
const MAX_SUBSCRIPTIONS = 10_000;
/** Result members the legacy revisions do not have (MCP 2026-07-28 changelog, 8 and minor 5). */
const MODERN_RESULT_MEMBERS = ['resultType', 'ttlMs', 'cacheScope'];

/** One client request in flight upstream. */
interface Call {
  clientId: JsonRpcId;
  method: string;
  /** The client's params, without the modern `_meta` (added on each send). */
  params: Json;
  upstreamId: JsonRpcId;
  rounds: number;
  /** Input requests sent to the client and not answered yet (ids). */
  waiting: Set<string>;
  responses: Json;
  requestState?: string;
}

/** The legacy version the bridge answers `initialize` with: the client's, when it is one it speaks. */
export function bridgeVersion(requested: unknown): string {
  return typeof requested === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(requested)
    ? requested
    : LATEST_LEGACY_VERSION;
}

/** A modern result as a legacy client expects it (see the module comment). */
export function toLegacyResult(result: unknown): unknown {
  if (typeof result !== 'object' || result === null) return result;
  const r = { ...(result as Json) };
  for (const k of MODERN_RESULT_MEMBERS) delete r[k];
  const meta = r['_meta'];
  if (typeof meta === 'object' && meta !== null) {
    const m = { ...(meta as Json) };
    delete m[META.serverInfo];
    delete m[META.subscriptionId];
    if (Object.keys(m).length === 0) delete r['_meta'];
    else r['_meta'] = m;
  }
  return r;
}

/** The `_meta` of a notification without the modern-only `subscriptionId` tag. */
function untagged(msg: JsonRpcMessage): JsonRpcMessage {
  const params = msg.params as Json | undefined;
  const meta = params?.['_meta'] as Json | undefined;
  if (!meta || !(META.subscriptionId in meta)) return msg;
  const m = { ...meta };
  delete m[META.subscriptionId];
  const p = { ...params };
  if (Object.keys(m).length === 0) delete p['_meta'];
  else p['_meta'] = m;
  return { ...msg, params: p };
}

function outbound(parsed: JsonRpcMessage): OutboundMessage {
  const info = inspectMessage(parsed);
  if (typeof info === 'string')
    throw new TetherError(ErrorCode.INTERNAL, `bridge built a bad message: ${info}`);
  return { text: JSON.stringify(parsed), info, parsed };
}

/** See the module comment. */
export class LegacyClientBridge extends WrappedConnection {
  private discover: DiscoverInfo | undefined;
  private ctx: ModernContext = { clientInfo: { name: 'unknown', version: '0' }, capabilities: {} };
  private clientVersion = LATEST_LEGACY_VERSION;
  private readonly calls = new Map<string, Call>();
  private readonly byClient = new Map<string, Call>();
  private readonly inputs = new Map<string, { call: Call; key: string; method: string }>();
  private readonly subscribed = new Set<string>();
  private initialized = false;
  private listen: { id: string; filter: string } | undefined;
  private listenFailures = 0;
  private listenTimer: NodeJS.Timeout | undefined;
  private n = 0;
  private closedFlag = false;

  /** The handlers to open the inner (modern) connection with. */
  override readonly innerHandlers: UpstreamHandlers = {
    message: (text, parsed) => this.fromServer(text, parsed),
    closed: (err) => {
      // The session fails every request it still waits for.
      this.calls.clear();
      this.byClient.clear();
      this.inputs.clear();
      this.handlers.closed(err);
    },
    event: (type, detail) => this.handlers.event(type, detail),
    requestFailed: (id, err) => {
      if (this.listen && id === this.listen.id) return this.listenEnded(err.message);
      const call = this.calls.get(idKey(id));
      if (!call) return;
      this.forget(call);
      this.handlers.requestFailed?.(call.clientId, err);
    },
  };

  /**
   * Starts using `inner`, a connection to a modern server that answered `server/discover` with
   * `discover`.
   */
  attach(inner: UpstreamConnection, discover: DiscoverInfo, ctx?: ModernContext): void {
    this.inner = inner;
    this.discover = discover;
    if (ctx) this.ctx = ctx;
  }

  async send(msg: OutboundMessage): Promise<void> {
    const m = msg.parsed;
    const info = msg.info;
    if (info.kind === 'request') return this.clientRequest(info.id as JsonRpcId, m);
    if (info.kind === 'notification') return this.clientNotification(m);
    return this.clientAnswer(info.id as JsonRpcId, m);
  }

  private answer(id: JsonRpcId, result: unknown): void {
    this.toClient({ jsonrpc: '2.0', id, result });
  }

  private error(id: JsonRpcId, code: number, message: string, data?: unknown): void {
    this.toClient({
      jsonrpc: '2.0',
      id,
      error: data === undefined ? { code, message } : { code, message, data },
    });
  }

  private async clientRequest(id: JsonRpcId, m: JsonRpcMessage): Promise<void> {
    const params = (m.params as Json | undefined) ?? {};
    switch (m.method) {
      case 'initialize': {
        const caps = params['capabilities'];
        const info = params['clientInfo'] as ModernContext['clientInfo'] | undefined;
        this.ctx = {
          ...this.ctx,
          capabilities: typeof caps === 'object' && caps !== null ? (caps as Json) : {},
          clientInfo: info && typeof info.name === 'string' ? info : this.ctx.clientInfo,
        };
        this.clientVersion = bridgeVersion(params['protocolVersion']);
        const d = this.discover!;
        const result: Json = {
          protocolVersion: this.clientVersion,
          capabilities: d.capabilities,
          serverInfo: d.serverInfo ?? { name: 'unknown', version: '0' },
        };
        if (d.instructions !== undefined) result['instructions'] = d.instructions;
        this.handlers.event(
          'bridge',
          `the server speaks only ${d.supportedVersions.join(', ')}: initialize answered by MCP Tether (protocol ${this.clientVersion}), requests go up as 2026-07-28`,
        );
        return this.answer(id, result);
      }
      case 'ping':
        return this.answer(id, {});
      case 'logging/setLevel':
        if (typeof params['level'] === 'string') this.ctx = { ...this.ctx, logLevel: params['level'] };
        return this.answer(id, {});
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = params['uri'];
        if (typeof uri !== 'string')
          return this.error(id, JsonRpcErrorCode.INVALID_PARAMS, 'Invalid params: uri is required');
        if (
          m.method === 'resources/subscribe' &&
          !this.subscribed.has(uri) &&
          this.subscribed.size >= MAX_SUBSCRIPTIONS
        )
          return this.error(
            id,
            JsonRpcErrorCode.INVALID_PARAMS,
            `mcp-tether: at most ${MAX_SUBSCRIPTIONS} resource subscriptions per session`,
          );
        if (m.method === 'resources/subscribe') this.subscribed.add(uri);
        else this.subscribed.delete(uri);
        this.syncListen();
        return this.answer(id, {});
      }
      default:
        break; // every other request goes up to the server, below
    }
    const call: Call = {
      clientId: id,
      method: m.method!,
      params,
      upstreamId: id,
      rounds: 0,
      waiting: new Set(),
      responses: {},
    };
    this.byClient.set(idKey(id), call);
    return this.sendUp(call, params);
  }

  private sendUp(call: Call, params: Json): Promise<void> {
    this.calls.set(idKey(call.upstreamId), call);
    const parsed: JsonRpcMessage = {
      jsonrpc: '2.0',
      id: call.upstreamId,
      method: call.method,
      params: withModernMeta(params, this.ctx),
    };
    return this.inner!.send(outbound(parsed));
  }

  private clientNotification(m: JsonRpcMessage): Promise<void> {
    switch (m.method) {
      case 'notifications/initialized':
        this.initialized = true;
        this.syncListen();
        break;
      case 'notifications/cancelled': {
        const rid = (m.params as Json | undefined)?.['requestId'];
        if (typeof rid === 'string' || typeof rid === 'number')
          this.cancel(rid, { text: '', info: { kind: 'notification' }, parsed: m });
        break;
      }
      default:
        // notifications/roots/list_changed was removed in 2026-07-28; no other client
        // notification exists upstream.
        this.handlers.event(
          'bridge',
          `${m.method ?? 'a notification'} has no 2026-07-28 equivalent: not sent`,
        );
    }
    return Promise.resolve();
  }

  /** The client answered one of the input requests the bridge sent it. */
  private clientAnswer(id: JsonRpcId, m: JsonRpcMessage): Promise<void> {
    const entry = this.inputs.get(idKey(id));
    if (!entry) return Promise.resolve();
    this.inputs.delete(idKey(id));
    const { call } = entry;
    call.waiting.delete(idKey(id));
    if (m.error) {
      this.abandon(call);
      this.error(call.clientId, m.error.code, `the client refused ${entry.method}: ${m.error.message}`);
      return Promise.resolve();
    }
    call.responses[entry.key] = m.result;
    if (call.waiting.size === 0) return this.retry(call);
    return Promise.resolve();
  }

  private retry(call: Call): Promise<void> {
    const params: Json = { ...call.params, inputResponses: call.responses };
    if (call.requestState !== undefined) params['requestState'] = call.requestState;
    call.upstreamId = `mcp-tether:retry:${++this.n}`;
    this.handlers.event(
      'bridge',
      `${call.method} ${String(call.clientId)} sent again as ${call.upstreamId} with the client's input`,
    );
    call.responses = {};
    delete call.requestState;
    return this.sendUp(call, params).catch((err: unknown) => {
      this.forget(call);
      this.handlers.requestFailed?.(
        call.clientId,
        err instanceof TetherError ? err : new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, String(err)),
      );
    });
  }

  private forget(call: Call): void {
    this.calls.delete(idKey(call.upstreamId));
    this.byClient.delete(idKey(call.clientId));
  }

  private abandon(call: Call): void {
    this.forget(call);
    for (const k of call.waiting) this.inputs.delete(k);
    call.waiting.clear();
  }

  private fromServer(text: string, parsed: unknown): void {
    const info = inspectMessage(parsed);
    if (typeof info === 'string') return this.handlers.message(text, parsed);
    const m = parsed as JsonRpcMessage;
    if (this.internal.settle(info, m)) return;
    if (info.kind === 'response' || info.kind === 'error') {
      if (this.listen && info.id === this.listen.id)
        return this.listenEnded('the server ended the subscription');
      const call = info.id === null ? undefined : this.calls.get(idKey(info.id as JsonRpcId));
      if (!call) {
        this.handlers.event('late-response', `dropped an answer to upstream id ${String(info.id)}`);
        return;
      }
      this.calls.delete(idKey(call.upstreamId));
      if (m.error) {
        this.byClient.delete(idKey(call.clientId));
        let code = m.error.code;
        if (
          call.method === 'resources/read' &&
          code === RESOURCE_NOT_FOUND.modern &&
          /not found/i.test(m.error.message)
        )
          code = RESOURCE_NOT_FOUND.legacy;
        const e: Json = { code, message: m.error.message };
        if (m.error.data !== undefined) e['data'] = m.error.data;
        return this.toClient({ jsonrpc: '2.0', id: call.clientId, error: e as JsonRpcMessage['error'] });
      }
      const result = m.result as Json | undefined;
      if (result?.['resultType'] === 'input_required') return this.inputRequired(call, result);
      this.byClient.delete(idKey(call.clientId));
      return this.toClient({ jsonrpc: '2.0', id: call.clientId, result: toLegacyResult(result) });
    }
    if (info.kind === 'notification') {
      if (info.method === 'notifications/subscriptions/acknowledged') {
        this.listenFailures = 0;
        return;
      }
      const sub = ((m.params as Json | undefined)?.['_meta'] as Json | undefined)?.[META.subscriptionId];
      if (sub !== undefined && (!this.listen || sub !== this.listen.id)) return; // an old subscription
      return this.toClient(untagged(m));
    }
    this.handlers.message(text, parsed);
  }

  /** An `input_required` result: ask the client, then retry (see the module comment). */
  private inputRequired(call: Call, result: Json): void {
    const requests = (result['inputRequests'] as Record<string, JsonRpcMessage> | undefined) ?? {};
    if (++call.rounds > MAX_INPUT_ROUNDS) {
      this.forget(call);
      return this.error(
        call.clientId,
        JsonRpcErrorCode.SERVER_ERROR,
        `mcp-tether: the server asked for input ${MAX_INPUT_ROUNDS} times on one request; giving up`,
        { code: ErrorCode.UPSTREAM_PROTOCOL },
      );
    }
    if (typeof result['requestState'] === 'string') call.requestState = result['requestState'];
    const entries = Object.entries(requests);
    for (const [, r] of entries) {
      const cap = INPUT_CAPABILITY[r?.method ?? ''];
      const why = !cap
        ? `the server asked for ${String(r?.method)}, which has no server→client request before 2026-07-28`
        : this.ctx.capabilities[cap] === undefined
          ? `the server asked for ${r.method}, but the client did not declare the "${cap}" capability`
          : undefined;
      if (why) {
        this.forget(call);
        return this.error(call.clientId, JsonRpcErrorCode.SERVER_ERROR, `mcp-tether: ${why}`, {
          code: ErrorCode.UPSTREAM_PROTOCOL,
          capability: cap ?? r?.method,
        });
      }
    }
    if (entries.length === 0) {
      void this.retry(call);
      return;
    }
    this.handlers.event(
      'bridge',
      `${call.method} ${String(call.clientId)}: input_required, asking the client (${entries.map(([, r]) => r.method).join(', ')})`,
    );
    for (const [key, r] of entries) {
      const id = `mcp-tether:input:${++this.n}`;
      this.inputs.set(idKey(id), { call, key, method: r.method! });
      call.waiting.add(idKey(id));
      let params = r.params as Json | undefined;
      // `mode` came with 2025-11-25; older clients know only form elicitation, without it.
      if (r.method === 'elicitation/create' && params && this.clientVersion < '2025-11-25') {
        params = { ...params };
        delete params['mode'];
      }
      const req: JsonRpcMessage = { jsonrpc: '2.0', id, method: r.method! };
      if (params !== undefined) req.params = params;
      this.toClient(req);
    }
  }

  /** Opens, replaces or ends the `subscriptions/listen` stream to match what the client wants. */
  private syncListen(): void {
    if (!this.initialized || this.closedFlag || !this.inner) return;
    const caps = this.discover?.capabilities ?? {};
    const listChanged = (k: string) => (caps[k] as Json | undefined)?.['listChanged'] === true;
    const notifications: Json = {};
    if (listChanged('tools')) notifications['toolsListChanged'] = true;
    if (listChanged('prompts')) notifications['promptsListChanged'] = true;
    if (listChanged('resources')) notifications['resourcesListChanged'] = true;
    if (this.subscribed.size > 0) notifications['resourceSubscriptions'] = [...this.subscribed];
    const filter = JSON.stringify(notifications);
    if (this.listen?.filter === filter) return;
    this.stopListen();
    if (Object.keys(notifications).length === 0) return;
    const id = `mcp-tether:listen:${++this.n}`;
    this.listen = { id, filter };
    this.handlers.event('bridge', `subscriptions/listen ${id}: ${filter}`);
    const parsed: JsonRpcMessage = {
      jsonrpc: '2.0',
      id,
      method: 'subscriptions/listen',
      params: withModernMeta({ notifications }, this.ctx),
    };
    this.inner.send(outbound(parsed)).catch((err: unknown) => {
      if (this.listen?.id === id) this.listenEnded(err instanceof Error ? err.message : String(err));
    });
  }

  private stopListen(): void {
    const l = this.listen;
    this.listen = undefined;
    if (!l || !this.inner) return;
    const notice: JsonRpcMessage = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: l.id, reason: 'mcp-tether: subscription changed' },
    };
    this.inner.cancel(l.id, outbound(notice));
  }

  /** The listen stream ended: open it again, after a backoff (1 s doubling to 30 s). */
  private listenEnded(why: string): void {
    this.listen = undefined;
    if (this.closedFlag) return;
    const delay = Math.min(30_000, 1000 * 2 ** this.listenFailures++);
    this.handlers.event(
      'subscription',
      `subscriptions/listen ended (${why}); opening it again in ${delay} ms`,
    );
    clearTimeout(this.listenTimer);
    this.listenTimer = setTimeout(() => this.syncListen(), delay);
    this.listenTimer.unref();
  }

  cancel(id: JsonRpcId, notice: OutboundMessage): void {
    const call = this.byClient.get(idKey(id));
    if (!call) return;
    this.abandon(call);
    const params = { ...((notice.parsed.params as Json | undefined) ?? {}), requestId: call.upstreamId };
    this.inner?.cancel(
      call.upstreamId,
      outbound({ jsonrpc: '2.0', method: 'notifications/cancelled', params }),
    );
  }

  async close(): Promise<void> {
    this.closedFlag = true;
    clearTimeout(this.listenTimer);
    this.stopListen();
    await this.inner?.close();
  }
}
