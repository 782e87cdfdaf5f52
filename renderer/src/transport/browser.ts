/**
 * The browser inspector's transport: the control API over a WebSocket to the engine that served the
 * page (one JSON-RPC message per frame). The page's URL carries the access token in its path
 * (`/t/<token>/`), so the socket URL is made relative to it.
 */
import type { ControlParams, ControlResult } from '../../../main/common/control-api.js';
import { ControlRpc } from '../../../main/common/control-rpc.js';
import type { EndpointStatus, TrafficRecord } from '../../../main/common/domain.js';
import { ErrorCode, TetherError } from '../../../main/common/errors.js';
import type { WindowMethod } from '../../../main/common/ipc.js';
import { Listeners, type LinkState, type Transport } from './types.js';

/** Longest wait between reconnection attempts (ms). */
const MAX_BACKOFF_MS = 10_000;

/** See the module comment. */
export class BrowserTransport implements Transport {
  readonly kind = 'browser';
  /** The current connection's client (a new one per WebSocket). */
  private rpc: ControlRpc | undefined;
  private state: LinkState = 'connecting';
  /** Calls made while connecting: sent when it opens, failed when it closes first. */
  private readonly waitingForOpen: { send(): void; fail(err: TetherError): void }[] = [];
  private readonly status = new Listeners<[EndpointStatus]>();
  private readonly traffic = new Listeners<[TrafficRecord]>();
  private readonly link = new Listeners<[LinkState]>();
  private readonly authorize = new Listeners<[string, string]>();
  private backoff = 500;

  /** @param url the WebSocket URL (see {@link inspectorSocketUrl}) */
  constructor(private readonly url: string) {
    this.open();
  }

  call<M extends WindowMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    if (this.state === 'open') return this.rpc!.request(method, params);
    if (this.state === 'closed')
      return Promise.reject(new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'not connected to the engine'));
    return new Promise((resolve, reject) => {
      this.waitingForOpen.push({
        send: () => this.rpc!.request(method, params).then(resolve, reject),
        fail: reject,
      });
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
    // One JSON-RPC message per frame.
    const rpc = new ControlRpc((message) => ws.send(message));
    rpc.onNotification('status/changed', (p) => this.status.emit(p.endpoint));
    rpc.onNotification('traffic/record', (p) => this.traffic.emit(p.record));
    rpc.onNotification('auth/authorize', (p) => this.authorize.emit(p.endpoint, p.url));
    this.rpc = rpc;
    ws.onopen = () => {
      this.backoff = 500;
      // Subscriptions live on the connection: a new one needs them again.
      if (this.status.size) this.subscribeStatus();
      if (this.traffic.size) this.subscribeTraffic();
      this.setState('open');
      for (const w of this.waitingForOpen.splice(0)) w.send();
    };
    ws.onmessage = (ev: MessageEvent<string>) => rpc.receive(ev.data);
    ws.onclose = () => {
      const lost = new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'the connection to the engine closed');
      rpc.close(lost);
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
}

/** The inspector's WebSocket URL for a page at `location` (`…/t/<token>/` → `…/t/<token>/ws`). */
export function inspectorSocketUrl(location: Pick<Location, 'protocol' | 'host' | 'pathname'>): string {
  const dir = location.pathname.slice(0, location.pathname.lastIndexOf('/') + 1);
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${dir}ws`;
}
