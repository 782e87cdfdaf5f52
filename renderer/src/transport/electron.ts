/**
 * The tray app's transport: the preload bridge (`window.tether`). The app's main process keeps one
 * engine connection per window, restarts the engine when it dies, and re-makes this window's
 * subscriptions afterwards; its `app/engine` events are this transport's link state.
 */
import type { ControlParams, ControlResult } from '../../../main/common/control-api.js';
import type { EndpointStatus, TrafficRecord } from '../../../main/common/domain.js';
import { ErrorCode, TetherError, isErrorCode } from '../../../main/common/errors.js';
import type { AppEngineEvent, WindowMethod } from '../../../main/common/ipc.js';
import type { BridgeError, TetherBridge } from '../../../preload/api.js';
import { Listeners, type LinkState, type Transport } from './types.js';

const LINK_OF: Record<AppEngineEvent['state'], LinkState> = {
  starting: 'connecting',
  running: 'open',
  restarting: 'closed',
  stopped: 'closed',
};

/** See the module comment. */
export class ElectronTransport implements Transport {
  readonly kind = 'electron';
  private state: LinkState = 'open';
  private readonly link = new Listeners<[LinkState]>();
  private statusSubscribed = false;
  private trafficSubscribed = false;

  /** @param bridge `window.tether` */
  constructor(private readonly bridge: TetherBridge) {
    bridge.onEngineState((e) => {
      const state = LINK_OF[e.state];
      if (state === this.state) return;
      this.state = state;
      this.link.emit(state);
    });
  }

  async call<M extends WindowMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    try {
      return await this.bridge.call(method, params);
    } catch (err) {
      // The bridge rejects with a plain BridgeError (contextBridge drops an Error's own members).
      const e: Partial<BridgeError> = typeof err === 'object' && err !== null ? err : {};
      throw new TetherError(
        isErrorCode(e.code) ? e.code : ErrorCode.INTERNAL,
        typeof e.message === 'string' ? e.message : String(err),
        typeof e.data === 'object' && e.data !== null ? e.data : {},
      );
    }
  }

  // Subscriptions are per window and made once: main re-makes them after an engine restart.
  onStatusChanged(cb: (status: EndpointStatus) => void): () => void {
    const off = this.bridge.onStatusChanged(cb);
    if (!this.statusSubscribed) {
      this.statusSubscribed = true;
      void this.call('status/subscribe', {}).catch(() => (this.statusSubscribed = false));
    }
    return off;
  }

  onTrafficRecord(cb: (record: TrafficRecord) => void): () => void {
    const off = this.bridge.onTrafficRecord(cb);
    if (!this.trafficSubscribed) {
      this.trafficSubscribed = true;
      void this.call('traffic/subscribe', {}).catch(() => (this.trafficSubscribed = false));
    }
    return off;
  }

  onLinkState(cb: (state: LinkState) => void): () => void {
    return this.link.add(cb);
  }

  linkState(): LinkState {
    return this.state;
  }

  onAuthorizeUrl(cb: (endpoint: string, url: string) => void): () => void {
    return this.bridge.onAuthorizeUrl(cb);
  }
}
