/**
 * The API the tray app's preload script exposes to its windows as `window.tether` (through
 * `contextBridge`), derived from the control-API contract (main/common/control-api.ts) and the IPC
 * contract (main/common/ipc.ts). No Electron here: the renderer imports this file for its types.
 */
import type { ControlParams, ControlResult } from '../main/common/control-api.js';
import type { EndpointStatus, TrafficRecord } from '../main/common/domain.js';
import type { AppEngineEvent, IpcError, WindowMethod } from '../main/common/ipc.js';

/**
 * How a failed call rejects: a plain object, not an `Error`, because `contextBridge` drops an
 * Error's own properties (the engine's stable `code` and `data`) on the way to the page.
 */
export type BridgeError = IpcError;

/** `window.tether`. */
export interface TetherBridge {
  /**
   * Calls one control method through the app's main process, on this window's own engine
   * connection (so `status/subscribe` and `traffic/subscribe` start this window's events).
   * @throws BridgeError `{ code, message, data }` with the engine's stable code
   */
  call<M extends WindowMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>>;
  /** Every endpoint status change, after `status/subscribe`. @returns unsubscribe */
  onStatusChanged(cb: (status: EndpointStatus) => void): () => void;
  /** Every new traffic record, after `traffic/subscribe`. @returns unsubscribe */
  onTrafficRecord(cb: (record: TrafficRecord) => void): () => void;
  /** During `auth/login`: the authorization URL. @returns unsubscribe */
  onAuthorizeUrl(cb: (endpoint: string, url: string) => void): () => void;
  /** The engine as the app supervises it (restarting, running again…). @returns unsubscribe */
  onEngineState(cb: (event: AppEngineEvent) => void): () => void;
}

/** The name under which the bridge is exposed on `window`. */
export const BRIDGE_KEY = 'tether';
