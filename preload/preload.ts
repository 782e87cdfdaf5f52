/**
 * The tray app's preload script: exposes {@link TetherBridge} as `window.tether` through
 * `contextBridge`, over the IPC channels of main/common/ipc.ts. Runs sandboxed, so it is bundled
 * into one CommonJS file (dist/preload/preload.cjs) that requires nothing but `electron`. The page
 * gets functions only: never `ipcRenderer` itself, nor the IPC event objects.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ControlParams, ControlResult } from '../main/common/control-api.js';
import {
  controlChannel,
  eventChannel,
  type IpcEvents,
  type IpcReply,
  type WindowMethod,
} from '../main/common/ipc.js';
import { BRIDGE_KEY, type BridgeError, type TetherBridge } from './api.js';

/** Listens to one event channel; the page's callback sees the payload only. */
function listen<E extends keyof IpcEvents>(event: E, cb: (payload: IpcEvents[E]) => void): () => void {
  const channel = eventChannel(event);
  const listener = (_e: IpcRendererEvent, payload: IpcEvents[E]) => cb(payload);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const bridge: TetherBridge = {
  async call<M extends WindowMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    if (typeof method !== 'string') throw { code: 'INVALID_ARGUMENT', message: 'method must be a string' };
    const reply = (await ipcRenderer.invoke(controlChannel(method), params)) as IpcReply<ControlResult<M>>;
    if (reply.ok) return reply.result;
    const error: BridgeError = { code: reply.error.code, message: reply.error.message };
    if (reply.error.data) error.data = reply.error.data;
    throw error;
  },
  onStatusChanged: (cb) => listen('status/changed', (p) => cb(p.endpoint)),
  onTrafficRecord: (cb) => listen('traffic/record', (p) => cb(p.record)),
  onAuthorizeUrl: (cb) => listen('auth/authorize', (p) => cb(p.endpoint, p.url)),
  onEngineState: (cb) => listen('app/engine', cb),
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
