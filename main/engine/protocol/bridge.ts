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
 *
 * This module holds the bridge itself (the client's messages, the server's answers, the input
 * rounds); the message conversions are in bridge-convert.ts, the `input_required` rules in
 * bridge-input.ts, the listen stream in bridge-listen.ts.
 */
import { ErrorCode, JsonRpcErrorCode, TetherError } from '../../common/errors.js';
import { idKey, inspectMessage, type JsonRpcId, type JsonRpcMessage } from '../../common/jsonrpc.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import { WrappedConnection } from './wrapped.js';
import type { ModernContext } from './handshake.js';
import { withModernMeta } from './handshake.js';
import { bridgeVersion, outbound, toLegacyErrorCode, toLegacyResult, untagged } from './bridge-convert.js';
import {
  clientInputRequest,
  inputRefusal,
  MAX_INPUT_ROUNDS,
  retryParams,
  type Call,
} from './bridge-input.js';
import { ListenStream, MAX_SUBSCRIPTIONS } from './bridge-listen.js';
import { LATEST_LEGACY_VERSION, META, type DiscoverInfo } from './versions.js';

type Json = Record<string, unknown>;

/** See the module comment. */
export class LegacyClientBridge extends WrappedConnection {
  private discover: DiscoverInfo | undefined;
  private ctx: ModernContext = { clientInfo: { name: 'unknown', version: '0' }, capabilities: {} };
  private clientVersion = LATEST_LEGACY_VERSION;
  private readonly calls = new Map<string, Call>();
  private readonly byClient = new Map<string, Call>();
  private readonly inputs = new Map<string, { call: Call; key: string; method: string }>();
  private n = 0;
  /** The `subscriptions/listen` stream (resource subscriptions, list-changed notifications). */
  private readonly listen = new ListenStream({
    inner: () => this.inner,
    capabilities: () => this.discover?.capabilities ?? {},
    ctx: () => this.ctx,
    nextN: () => ++this.n,
    event: (type, detail) => this.handlers.event(type, detail),
  });

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
      if (this.listen.isStream(id)) return this.listen.ended(err.message);
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
        if (m.method === 'resources/unsubscribe') this.listen.unsubscribe(uri);
        else if (!this.listen.subscribe(uri))
          return this.error(
            id,
            JsonRpcErrorCode.INVALID_PARAMS,
            `mcp-tether: at most ${MAX_SUBSCRIPTIONS} resource subscriptions per session`,
          );
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
        this.listen.start();
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
    const params = retryParams(call);
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
      if (this.listen.isStream(info.id as JsonRpcId | null))
        return this.listen.ended('the server ended the subscription');
      const call = info.id === null ? undefined : this.calls.get(idKey(info.id as JsonRpcId));
      if (!call) {
        this.handlers.event('late-response', `dropped an answer to upstream id ${String(info.id)}`);
        return;
      }
      this.calls.delete(idKey(call.upstreamId));
      if (m.error) {
        this.byClient.delete(idKey(call.clientId));
        const e: Json = { code: toLegacyErrorCode(call.method, m.error), message: m.error.message };
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
        this.listen.acknowledged();
        return;
      }
      const sub = ((m.params as Json | undefined)?.['_meta'] as Json | undefined)?.[META.subscriptionId];
      if (this.listen.isStale(sub)) return; // an old subscription
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
      const refusal = inputRefusal(r, this.ctx.capabilities);
      if (refusal) {
        this.forget(call);
        return this.error(call.clientId, JsonRpcErrorCode.SERVER_ERROR, `mcp-tether: ${refusal.why}`, {
          code: ErrorCode.UPSTREAM_PROTOCOL,
          capability: refusal.capability,
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
      this.toClient(clientInputRequest(id, r, this.clientVersion));
    }
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
    this.listen.close();
    await this.inner?.close();
  }
}
