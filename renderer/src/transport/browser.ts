/**
 * The browser inspector's transport: the control API over a WebSocket to the engine that served the
 * page (one JSON-RPC message per frame). The page's URL carries the access token in its path
 * (`/t/<token>/`), so the socket URL is made relative to it.
 */
import type { ControlParams, ControlResult } from '../../../main/common/control-api.js';
import type { EndpointStatus, TrafficRecord } from '../../../main/common/domain.js';
import { ControlError, Listeners, type LinkState, type Transport, type UiMethod } from './types.js';

interface Pending {
  resolve(result: unknown): void;
  reject(err: ControlError): void;
}

/** Longest wait between reconnection attempts (ms). */
const MAX_BACKOFF_MS = 10_000;

/** See the module comment. */
export class BrowserTransport implements Transport {
  readonly kind = 'browser';
  private ws: WebSocket | undefined;
  private state: LinkState = 'connecting';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Calls made while connecting: sent when it opens, failed when it closes first. */
  private readonly waitingForOpen: { send(): void; fail(err: ControlError): void }[] = [];
  private readonly status = new Listeners<[EndpointStatus]>();
  private readonly traffic = new Listeners<[TrafficRecord]>();
  private readonly link = new Listeners<[LinkState]>();
  private readonly authorize = new Listeners<[string, string]>();
  private backoff = 500;

  /** @param url the WebSocket URL (see {@link inspectorSocketUrl}) */
  constructor(private readonly url: string) {
    this.open();
  }

  call<M extends UiMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    return new Promise((resolve, reject) => {
      const send = () => {
        const id = this.nextId++;
        this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
        this.ws!.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      };
      if (this.state === 'open') send();
      else if (this.state === 'connecting') this.waitingForOpen.push({ send, fail: reject });
      else reject(new ControlError('ENGINE_UNAVAILABLE', 'not connected to the engine'));
    });
  }

  onStatusChanged(cb: (status: EndpointStatus) => void): () => void {
    const first = this.status.size === 0;
    const off = this.status.add(cb);
    if (first && this.state === 'open') this.subscribeStatus();
    return off;
  }

  onTrafficRecord(cb: (record: TrafficRecord) => void): () => void {
    const first = this.traffic.size === 0;
    const off = this.traffic.add(cb);
    if (first && this.state === 'open') this.subscribeTraffic();
    return off;
  }

  onLinkState(cb: (state: LinkState) => void): () => void {
    return this.link.add(cb);
  }

  linkState(): LinkState {
    return this.state;
  }

  onAuthorizeUrl(cb: (endpoint: string, url: string) => void): () => void {
    return this.authorize.add(cb);
  }

  private setState(state: LinkState): void {
    this.state = state;
    this.link.emit(state);
  }

  private open(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      // Subscriptions live on the connection: a new one needs them again.
      if (this.status.size) this.subscribeStatus();
      if (this.traffic.size) this.subscribeTraffic();
      this.setState('open');
      for (const w of this.waitingForOpen.splice(0)) w.send();
    };
    ws.onmessage = (ev: MessageEvent<string>) => this.onMessage(ev.data);
    ws.onclose = () => {
      const lost = new ControlError('ENGINE_UNAVAILABLE', 'the connection to the engine closed');
      for (const p of this.pending.values()) p.reject(lost);
      this.pending.clear();
      for (const w of this.waitingForOpen.splice(0)) w.fail(lost);
      this.setState('closed');
      setTimeout(() => {
        this.setState('connecting');
        this.open();
      }, this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    };
  }

  private subscribeStatus(): void {
    void this.call('status/subscribe', {}).catch(() => undefined);
  }

  private subscribeTraffic(): void {
    void this.call('traffic/subscribe', {}).catch(() => undefined);
  }

  private onMessage(text: string): void {
    let msg: {
      id?: unknown;
      method?: unknown;
      params?: Record<string, unknown>;
      result?: unknown;
      error?: { message?: unknown; data?: unknown };
    };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg.method === 'string') {
      const p = msg.params ?? {};
      if (msg.method === 'status/changed') this.status.emit(p['endpoint'] as EndpointStatus);
      else if (msg.method === 'traffic/record') this.traffic.emit(p['record'] as TrafficRecord);
      else if (msg.method === 'auth/authorize') this.authorize.emit(String(p['endpoint']), String(p['url']));
      return;
    }
    if (typeof msg.id !== 'number') return;
    const pending = this.pending.get(msg.id);
    if (!pending) return;
    this.pending.delete(msg.id);
    if (msg.error) pending.reject(ControlError.fromJsonRpc(msg.error));
    else pending.resolve(msg.result);
  }
}

/** The inspector's WebSocket URL for a page at `location` (`…/t/<token>/` → `…/t/<token>/ws`). */
export function inspectorSocketUrl(location: Pick<Location, 'protocol' | 'host' | 'pathname'>): string {
  const dir = location.pathname.slice(0, location.pathname.lastIndexOf('/') + 1);
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${dir}ws`;
}
