/**
 * How the UI reaches the engine. One interface, three ways: the tray app's preload bridge
 * (Electron IPC), the browser inspector's WebSocket, and an in-memory demo. The UI sees only this.
 */
import type { ControlParams, ControlResult } from '../../../main/common/control-api.js';
import type { EndpointStatus, TrafficRecord } from '../../../main/common/domain.js';
import type { WindowMethod } from '../../../main/common/ipc.js';

/** Whether the UI can reach the engine right now. */
export type LinkState = 'connecting' | 'open' | 'closed';

/** The one way the UI talks to the engine. */
export interface Transport {
  /** What carries the calls, for the status line. */
  readonly kind: 'electron' | 'browser' | 'demo';
  /**
   * Calls one control method (those a window may call: main/common/ipc.ts).
   * @throws TetherError with the engine's stable code (INVALID_ARGUMENT, ENDPOINT_EXISTS…);
   *   ENGINE_UNAVAILABLE when the link dropped
   */
  call<M extends WindowMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>>;
  /** Every endpoint status change, live. @returns unsubscribe */
  onStatusChanged(cb: (status: EndpointStatus) => void): () => void;
  /** Every new traffic record, live, oldest first. @returns unsubscribe */
  onTrafficRecord(cb: (record: TrafficRecord) => void): () => void;
  /** The link to the engine opening and closing (the UI reloads its state when it reopens). */
  onLinkState(cb: (state: LinkState) => void): () => void;
  /** The link's state now. */
  linkState(): LinkState;
  /** During `auth/login`: the URL to open, when the engine cannot open a browser itself. */
  onAuthorizeUrl?(cb: (endpoint: string, url: string) => void): () => void;
}

/** A tiny listener set: add returns its own remover. */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();

  /** Adds a listener. @returns its remover */
  add(cb: (...args: A) => void): () => void {
    this.set.add(cb);
    return () => this.set.delete(cb);
  }

  /** Calls every listener; one that throws does not stop the others. */
  emit(...args: A): void {
    for (const cb of [...this.set]) {
      try {
        cb(...args);
      } catch (err) {
        console.error(err);
      }
    }
  }

  /** How many listeners there are. */
  get size(): number {
    return this.set.size;
  }
}
