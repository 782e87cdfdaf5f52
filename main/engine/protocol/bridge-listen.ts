/**
 * The one `subscriptions/listen` stream of a legacy-client bridge (bridge.ts; MCP 2026-07-28
 * basic/patterns/subscriptions): the client's `resources/subscribe` set and the list-changed
 * notifications the server's capabilities announce, kept in one listen request that is replaced
 * when they change and opened again (after a backoff) when it ends.
 */
import type { JsonRpcId, JsonRpcMessage } from '../../common/jsonrpc.js';
import type { UpstreamConnection } from '../upstream/types.js';
import { outbound } from './bridge-convert.js';
import type { ModernContext } from './handshake.js';
import { withModernMeta } from './handshake.js';

type Json = Record<string, unknown>;

/** Resource subscriptions one client may hold through the bridge (they all go into one listen). */
export const MAX_SUBSCRIPTIONS = 10_000;

/** What the listen stream needs of its bridge. */
export interface ListenHost {
  /** The connection to the modern server, once attached. */
  inner(): UpstreamConnection | undefined;
  /** The server's capabilities (from `server/discover`). */
  capabilities(): Json;
  /** The `_meta` every modern request carries. */
  ctx(): ModernContext;
  /** The next number of the bridge's own ids (`mcp-tether:listen:<n>`). */
  nextN(): number;
  event(type: string, detail: string): void;
}

/**
 * The `notifications` filter of a `subscriptions/listen` request: the list-changed notifications
 * `capabilities` announce (`listChanged: true`) and the subscribed resource URIs.
 */
export function listenNotifications(capabilities: Json, subscribed: ReadonlySet<string>): Json {
  const listChanged = (k: string) => (capabilities[k] as Json | undefined)?.['listChanged'] === true;
  const notifications: Json = {};
  if (listChanged('tools')) notifications['toolsListChanged'] = true;
  if (listChanged('prompts')) notifications['promptsListChanged'] = true;
  if (listChanged('resources')) notifications['resourcesListChanged'] = true;
  if (subscribed.size > 0) notifications['resourceSubscriptions'] = [...subscribed];
  return notifications;
}

/** See the module comment. */
export class ListenStream {
  private readonly subscribed = new Set<string>();
  private initialized = false;
  private listen: { id: string; filter: string } | undefined;
  private listenFailures = 0;
  private listenTimer: NodeJS.Timeout | undefined;
  private closedFlag = false;

  /** @param host the bridge's connection, capabilities, `_meta`, ids and events */
  constructor(private readonly host: ListenHost) {}

  /**
   * Adds `uri` to the subscriptions (`resources/subscribe`).
   * @returns false, changing nothing, when the client holds {@link MAX_SUBSCRIPTIONS} already
   */
  subscribe(uri: string): boolean {
    if (!this.subscribed.has(uri) && this.subscribed.size >= MAX_SUBSCRIPTIONS) return false;
    this.subscribed.add(uri);
    this.syncListen();
    return true;
  }

  /** Removes `uri` from the subscriptions (`resources/unsubscribe`). */
  unsubscribe(uri: string): void {
    this.subscribed.delete(uri);
    this.syncListen();
  }

  /** The client sent `notifications/initialized`: the stream may open. */
  start(): void {
    this.initialized = true;
    this.syncListen();
  }

  /** True when `id` is the upstream id of the current listen request. */
  isStream(id: JsonRpcId | null | undefined): boolean {
    return this.listen !== undefined && id === this.listen.id;
  }

  /** True when a notification tagged with `subscriptionId` belongs to no current listen request. */
  isStale(subscriptionId: unknown): boolean {
    return subscriptionId !== undefined && (!this.listen || subscriptionId !== this.listen.id);
  }

  /** The server acknowledged the subscription: the backoff starts afresh. */
  acknowledged(): void {
    this.listenFailures = 0;
  }

  /** Opens, replaces or ends the `subscriptions/listen` stream to match what the client wants. */
  private syncListen(): void {
    const inner = this.host.inner();
    if (!this.initialized || this.closedFlag || !inner) return;
    const notifications = listenNotifications(this.host.capabilities(), this.subscribed);
    const filter = JSON.stringify(notifications);
    if (this.listen?.filter === filter) return;
    this.stopListen();
    if (Object.keys(notifications).length === 0) return;
    const id = `mcp-tether:listen:${this.host.nextN()}`;
    this.listen = { id, filter };
    this.host.event('bridge', `subscriptions/listen ${id}: ${filter}`);
    const parsed: JsonRpcMessage = {
      jsonrpc: '2.0',
      id,
      method: 'subscriptions/listen',
      params: withModernMeta({ notifications }, this.host.ctx()),
    };
    inner.send(outbound(parsed)).catch((err: unknown) => {
      if (this.listen?.id === id) this.ended(err instanceof Error ? err.message : String(err));
    });
  }

  private stopListen(): void {
    const l = this.listen;
    this.listen = undefined;
    const inner = this.host.inner();
    if (!l || !inner) return;
    const notice: JsonRpcMessage = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: l.id, reason: 'mcp-tether: subscription changed' },
    };
    inner.cancel(l.id, outbound(notice));
  }

  /** The listen stream ended: open it again, after a backoff (1 s doubling to 30 s). */
  ended(why: string): void {
    this.listen = undefined;
    if (this.closedFlag) return;
    const delay = Math.min(30_000, 1000 * 2 ** this.listenFailures++);
    this.host.event('subscription', `subscriptions/listen ended (${why}); opening it again in ${delay} ms`);
    clearTimeout(this.listenTimer);
    this.listenTimer = setTimeout(() => this.syncListen(), delay);
    this.listenTimer.unref();
  }

  /** Ends the stream for good (the bridge closes). */
  close(): void {
    this.closedFlag = true;
    clearTimeout(this.listenTimer);
    this.stopListen();
  }
}
