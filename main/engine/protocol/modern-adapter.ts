/**
 * A modern client (MCP 2026-07-28, per-request `_meta`) on a legacy server (MCP 2024-11-05 …
 * 2025-11-25, `initialize`-based): MCP 2026-07-28 basic/versioning says this pair fails on its
 * own. This {@link UpstreamConnection} keeps one legacy session for the client:
 *
 * - it runs `initialize`/`notifications/initialized` itself (capabilities and clientInfo from the
 *   first request's `_meta`) through the handshake module, and keeps the session;
 * - `server/discover` is answered here from the `initialize` result;
 * - `subscriptions/listen` is answered here with `notifications/subscriptions/acknowledged`; its
 *   resource URIs become `resources/subscribe` requests, and the server's list-changed and
 *   resource-updated notifications reach the listens that asked for them, tagged with their
 *   `subscriptionId`;
 * - a changed `_meta` logLevel becomes a `logging/setLevel` first;
 * - other requests go up with their `_meta` as it is (namespaced members that legacy servers pass
 *   over: the SDK's schemas keep unknown `_meta` members) except the protocolVersion, which would
 *   break the request: on HTTP it becomes the `MCP-Protocol-Version` header, which a legacy server
 *   refuses for a version it does not know;
 * - "resource not found" comes back as -32602 (2026-07-28) instead of -32002;
 * - `ping` from the server is answered here. Its `elicitation/create`, `sampling/createMessage` and
 *   `roots/list` requests become MRTR (basic/patterns/mrtr): the client's one `tools/call`,
 *   `prompts/get` or `resources/read` in flight is answered `input_required` with that request
 *   and a `requestState`; the client's retry (a new id, `inputResponses`, the same `requestState`)
 *   answers the server's request, and the server's final answer goes back under the retry's id.
 *   When that cannot be expressed (no such request in flight, or more than one, or a capability
 *   the client did not declare), or the client does not retry within 5 minutes, the server's
 *   request gets a JSON-RPC error naming it.
 */
import { ErrorCode, JsonRpcErrorCode } from '../../common/errors.js';
import { idKey, inspectMessage, type JsonRpcId, type JsonRpcMessage } from '../../common/jsonrpc.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import { WrappedConnection } from './wrapped.js';
import type { ModernContext } from './handshake.js';
import {
  INPUT_CAPABILITY,
  META,
  MODERN_VERSION,
  MRTR_METHODS,
  RESOURCE_NOT_FOUND,
  requestMeta,
} from './versions.js';

type Json = Record<string, unknown>;

/** The client's own context, from the `_meta` of a modern request. */
export function contextOf(msg: JsonRpcMessage): ModernContext {
  const meta = requestMeta(msg) ?? {};
  const info = meta[META.clientInfo] as ModernContext['clientInfo'] | undefined;
  const caps = meta[META.clientCapabilities];
  const ctx: ModernContext = {
    clientInfo: info && typeof info.name === 'string' ? info : { name: 'unknown', version: '0' },
    capabilities: typeof caps === 'object' && caps !== null ? (caps as Json) : {},
  };
  if (typeof meta[META.logLevel] === 'string') ctx.logLevel = meta[META.logLevel] as string;
  return ctx;
}

interface Listen {
  id: JsonRpcId;
  tools: boolean;
  prompts: boolean;
  resources: boolean;
  uris: Set<string>;
}

const LIST_CHANGED: Record<string, keyof Pick<Listen, 'tools' | 'prompts' | 'resources'>> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/prompts/list_changed': 'prompts',
  'notifications/resources/list_changed': 'resources',
};

/** A client request in flight upstream. */
interface InFlight {
  upstreamId: JsonRpcId;
  /** The id the client waits on (its retry's after `input_required`); none while it should retry. */
  clientId: JsonRpcId | undefined;
  method: string;
}

/** How long a server request waits for the client's retry (ms). */
const INPUT_WAIT_MS = 5 * 60_000;

/** See the module comment. */
export class ModernClientAdapter extends WrappedConnection {
  private init: Json = {};
  private logLevel: string | undefined;
  private readonly listens = new Map<string, Listen>();
  /** The client requests in flight upstream, by upstream id (the client's own first id). */
  private readonly inflight = new Map<string, InFlight>();
  /** Server requests waiting for the client's retry, by `requestState`. */
  private readonly waiting = new Map<
    string,
    { serverId: JsonRpcId; call: InFlight; timer: NodeJS.Timeout }
  >();
  private clientCaps: Json = {};
  private n = 0;

  /** The handlers to open the inner (legacy) connection with. */
  override readonly innerHandlers: UpstreamHandlers = {
    message: (text, parsed) => this.fromServer(text, parsed),
    closed: (err) => this.handlers.closed(err),
    event: (type, detail) => this.handlers.event(type, detail),
    requestFailed: (id, err) => {
      const call = this.inflight.get(idKey(id));
      this.inflight.delete(idKey(id));
      if (call?.clientId !== undefined) this.handlers.requestFailed?.(call.clientId, err);
    },
  };

  /**
   * Starts using a legacy session whose `initialize` answered `result`, opened for a client that
   * declared `capabilities` (and asked for `logLevel`).
   */
  attach(inner: UpstreamConnection, result: Json, capabilities: Json, logLevel?: string): void {
    this.inner = inner;
    this.init = result;
    this.clientCaps = capabilities;
    this.logLevel = logLevel;
  }

  private internalRequest(method: string, params: unknown): Promise<void> {
    const { out, response } = this.internal.request(method, params, 30_000);
    response.then(
      (a) => a.error && this.handlers.event('adapter', `${method} failed: ${a.error.message}`),
      (e: unknown) => this.handlers.event('adapter', `${method} failed: ${String(e)}`),
    );
    return this.inner!.send(out);
  }

  async send(msg: OutboundMessage): Promise<void> {
    const m = msg.parsed;
    if (msg.info.kind !== 'request') return this.inner!.send(msg);
    const id = msg.info.id as JsonRpcId;
    const params = (m.params as Json | undefined) ?? {};
    if (m.method === 'server/discover') {
      const result: Json = {
        resultType: 'complete',
        supportedVersions: [MODERN_VERSION],
        capabilities: this.init['capabilities'] ?? {},
        _meta: { [META.serverInfo]: this.init['serverInfo'] ?? { name: 'unknown', version: '0' } },
      };
      if (typeof this.init['instructions'] === 'string') result['instructions'] = this.init['instructions'];
      return this.toClient({ jsonrpc: '2.0', id, result });
    }
    if (m.method === 'subscriptions/listen') return this.openListen(id, params);
    const state = params['requestState'];
    if (typeof state === 'string' && this.waiting.has(state)) return this.resumeWithInput(id, params, state);
    const level = contextOf(m).logLevel;
    if (
      level &&
      level !== this.logLevel &&
      this.init['capabilities'] &&
      (this.init['capabilities'] as Json)['logging']
    ) {
      this.logLevel = level;
      await this.internalRequest('logging/setLevel', { level });
    }
    this.inflight.set(idKey(id), { upstreamId: id, clientId: id, method: m.method! });
    return this.inner!.send(withoutModernVersion(msg));
  }

  /** The client's retry after `input_required`: answer the server's request it was for. */
  private resumeWithInput(id: JsonRpcId, params: Json, state: string): Promise<void> {
    const w = this.waiting.get(state)!;
    this.waiting.delete(state);
    clearTimeout(w.timer);
    w.call.clientId = id;
    const answer = (params['inputResponses'] as Json | undefined)?.[state];
    return this.replyToServer(
      w.serverId,
      answer === undefined
        ? {
            error: {
              code: JsonRpcErrorCode.INVALID_PARAMS,
              message: 'mcp-tether: the client gave no answer',
            },
          }
        : { result: answer },
    );
  }

  private replyToServer(id: JsonRpcId, body: Json): Promise<void> {
    const parsed = { jsonrpc: '2.0', id, ...body } as JsonRpcMessage;
    const info = inspectMessage(parsed);
    if (typeof info === 'string' || !this.inner) return Promise.resolve();
    return this.inner
      .send({ text: JSON.stringify(parsed), info, parsed })
      .catch((e: unknown) => this.handlers.event('adapter', `answering the server failed: ${String(e)}`));
  }

  private async openListen(id: JsonRpcId, params: Json): Promise<void> {
    const asked = (params['notifications'] as Json | undefined) ?? {};
    const caps = (this.init['capabilities'] as Json | undefined) ?? {};
    const has = (k: string, f: string) => (caps[k] as Json | undefined)?.[f] === true;
    const l: Listen = {
      id,
      tools: asked['toolsListChanged'] === true && has('tools', 'listChanged'),
      prompts: asked['promptsListChanged'] === true && has('prompts', 'listChanged'),
      resources: asked['resourcesListChanged'] === true && has('resources', 'listChanged'),
      uris: new Set(
        has('resources', 'subscribe') && Array.isArray(asked['resourceSubscriptions'])
          ? (asked['resourceSubscriptions'] as unknown[]).filter((u): u is string => typeof u === 'string')
          : [],
      ),
    };
    const before = this.subscribedUris();
    this.listens.set(idKey(id), l);
    const ack: Json = {};
    if (l.tools) ack['toolsListChanged'] = true;
    if (l.prompts) ack['promptsListChanged'] = true;
    if (l.resources) ack['resourcesListChanged'] = true;
    if (l.uris.size > 0) ack['resourceSubscriptions'] = [...l.uris];
    this.toClient({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { [META.subscriptionId]: id }, notifications: ack },
    });
    for (const uri of l.uris)
      if (!before.has(uri)) await this.internalRequest('resources/subscribe', { uri });
  }

  private subscribedUris(): Set<string> {
    const s = new Set<string>();
    for (const l of this.listens.values()) for (const u of l.uris) s.add(u);
    return s;
  }

  cancel(id: JsonRpcId, notice: OutboundMessage): void {
    const l = this.listens.get(idKey(id));
    if (!l) {
      const call = [...this.inflight.values()].find((c) => c.clientId === id);
      if (!call) return;
      this.inflight.delete(idKey(call.upstreamId));
      const params = { ...((notice.parsed.params as Json | undefined) ?? {}), requestId: call.upstreamId };
      const parsed: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params };
      this.inner?.cancel(call.upstreamId, { text: JSON.stringify(parsed), info: notice.info, parsed });
      return;
    }
    this.listens.delete(idKey(id));
    const still = this.subscribedUris();
    for (const uri of l.uris)
      if (!still.has(uri)) this.internalRequest('resources/unsubscribe', { uri }).catch(() => undefined);
  }

  private fromServer(text: string, parsed: unknown): void {
    const info = inspectMessage(parsed);
    if (typeof info === 'string') return this.handlers.message(text, parsed);
    const m = parsed as JsonRpcMessage;
    if (this.internal.settle(info, m)) return;
    if ((info.kind === 'error' || info.kind === 'response') && info.id !== null) {
      const call = this.inflight.get(idKey(info.id as JsonRpcId));
      if (!call) return this.handlers.message(text, parsed);
      this.inflight.delete(idKey(call.upstreamId));
      if (call.clientId === undefined) {
        this.handlers.event('adapter', `dropped the answer to ${call.method}: the client did not retry it`);
        return;
      }
      let out = m;
      if (call.method === 'resources/read' && m.error?.code === RESOURCE_NOT_FOUND.legacy)
        out = { ...m, error: { ...m.error, code: RESOURCE_NOT_FOUND.modern } };
      if (call.clientId !== call.upstreamId) out = { ...out, id: call.clientId };
      return out === m ? this.handlers.message(text, parsed) : this.toClient(out);
    }
    if (info.kind === 'request') return this.serverRequest(info.id as JsonRpcId, m);
    const kind = LIST_CHANGED[info.method ?? ''];
    const uri = (m.params as Json | undefined)?.['uri'];
    if (kind || info.method === 'notifications/resources/updated') {
      for (const l of this.listens.values()) {
        if (kind ? !l[kind] : !(typeof uri === 'string' && l.uris.has(uri))) continue;
        const p = { ...((m.params as Json | undefined) ?? {}) };
        p['_meta'] = { ...((p['_meta'] as Json | undefined) ?? {}), [META.subscriptionId]: l.id };
        this.toClient({ ...m, params: p });
      }
      return;
    }
    this.handlers.message(text, parsed);
  }

  private serverRequest(id: JsonRpcId, m: JsonRpcMessage): void {
    if (m.method === 'ping') {
      void this.replyToServer(id, { result: {} });
      return;
    }
    const cap = INPUT_CAPABILITY[m.method ?? ''];
    const open = [...this.inflight.values()].filter(
      (c) => c.clientId !== undefined && MRTR_METHODS.has(c.method),
    );
    const why = !cap
      ? `the client speaks ${MODERN_VERSION}, which has no server→client ${m.method ?? 'request'}`
      : this.clientCaps[cap] === undefined
        ? `the client did not declare the "${cap}" capability`
        : open.length !== 1
          ? `${m.method} can reach a ${MODERN_VERSION} client only as input_required of its one tools/call, prompts/get or resources/read in flight (there are ${open.length})`
          : undefined;
    if (why) {
      const message = `mcp-tether: ${why}`;
      this.handlers.event('adapter', message);
      void this.replyToServer(id, {
        error: {
          code: JsonRpcErrorCode.METHOD_NOT_FOUND,
          message,
          data: { code: ErrorCode.UPSTREAM_PROTOCOL },
        },
      });
      return;
    }
    const call = open[0]!;
    const state = `mcp-tether:input:${++this.n}`;
    const timer = setTimeout(() => {
      if (!this.waiting.delete(state)) return;
      this.inflight.delete(idKey(call.upstreamId));
      void this.replyToServer(id, {
        error: {
          code: JsonRpcErrorCode.SERVER_ERROR,
          message: 'mcp-tether: the client did not retry with an answer',
        },
      });
    }, INPUT_WAIT_MS);
    timer.unref();
    this.waiting.set(state, { serverId: id, call, timer });
    const clientId = call.clientId!;
    call.clientId = undefined;
    this.handlers.event(
      'adapter',
      `${m.method} from the server: ${call.method} ${String(clientId)} answered input_required`,
    );
    const request: Json = { method: m.method };
    if (m.params !== undefined) request['params'] = m.params;
    this.toClient({
      jsonrpc: '2.0',
      id: clientId,
      result: { resultType: 'input_required', inputRequests: { [state]: request }, requestState: state },
    });
  }

  async close(): Promise<void> {
    this.listens.clear();
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    await this.inner?.close();
  }
}

/** `msg` without `_meta` protocolVersion (see the module comment); the same object when it has none. */
function withoutModernVersion(msg: OutboundMessage): OutboundMessage {
  const meta = requestMeta(msg.parsed);
  if (!meta || !(META.protocolVersion in meta)) return msg;
  const m = { ...meta };
  delete m[META.protocolVersion];
  const params = { ...(msg.parsed.params as Json), _meta: m };
  const parsed: JsonRpcMessage = { ...msg.parsed, params };
  return { text: JSON.stringify(parsed), info: msg.info, parsed };
}
