/**
 * One window's side of the IPC contract (main/common/ipc.ts) in the main process: its own engine
 * connection, so `status/subscribe` and `traffic/subscribe` behave per window as on the control
 * socket; calls answered as {@link IpcReply} (the engine's error code kept); notifications passed on
 * as events; subscriptions re-made after the engine restarts. Electron-free: main/app wires `send`
 * to `webContents.send`, and tests drive it against a real engine.
 */
import type { ControlParams, ControlResult } from '../common/control-api.js';
import type { ControlClient } from '../common-node/control-client.js';
import { ErrorCode, TetherError, toTetherError } from '../common/errors.js';
import type { IpcEvents, IpcReply, WindowMethod } from '../common/ipc.js';
import { WINDOW_METHODS } from '../common/ipc.js';

/** Options of {@link WindowBridge}. */
export interface WindowBridgeOptions {
  /** Opens a new engine connection (without starting an engine: the supervisor does that). */
  open: () => Promise<ControlClient>;
  /** Sends an event to the window. */
  send: <E extends keyof IpcEvents>(event: E, payload: IpcEvents[E]) => void;
}

/** See the module comment. */
export class WindowBridge {
  private client: Promise<ControlClient> | undefined;
  private statusSubscribed = false;
  private trafficFilter: ControlParams<'traffic/subscribe'> | undefined;
  private closed = false;

  constructor(private readonly opts: WindowBridgeOptions) {}

  /**
   * Calls a control method for the window. Never rejects: failures come back as
   * `{ ok: false, error: { code, message, data } }`.
   */
  async call<M extends WindowMethod>(method: M, params: unknown): Promise<IpcReply<ControlResult<M>>> {
    try {
      if (!(WINDOW_METHODS as readonly string[]).includes(method)) {
        throw new TetherError(ErrorCode.METHOD_NOT_FOUND, `${String(method)} is not available to windows`);
      }
      const client = await this.connection();
      const result = await client.request(method, params as ControlParams<M>);
      // Remembered only once the engine accepted them, to be re-made after a restart.
      if (method === 'status/subscribe') this.statusSubscribed = true;
      if (method === 'traffic/subscribe')
        this.trafficFilter = (params ?? {}) as ControlParams<'traffic/subscribe'>;
      return { ok: true, result };
    } catch (err) {
      const e = toTetherError(err);
      return { ok: false, error: { code: e.code, message: e.message, data: e.data } };
    }
  }

  /**
   * Re-opens the connection after the engine restarted and re-makes the window's subscriptions.
   * @throws TetherError when the engine cannot be reached
   */
  async reconnect(): Promise<void> {
    if (this.closed) return;
    const old = this.client;
    this.client = undefined;
    if (old)
      old.then(
        (c) => c.close(),
        () => undefined,
      );
    const client = await this.connection();
    if (this.statusSubscribed) await client.request('status/subscribe', {});
    if (this.trafficFilter) await client.request('traffic/subscribe', this.trafficFilter);
  }

  /** Closes the connection (the window closed). */
  close(): void {
    this.closed = true;
    this.client?.then(
      (c) => c.close(),
      () => undefined,
    );
    this.client = undefined;
  }

  private connection(): Promise<ControlClient> {
    if (this.closed)
      return Promise.reject(new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'the window closed'));
    if (!this.client) {
      const opening = this.opts.open().then((client) => {
        client.onNotification('status/changed', (p) => this.opts.send('status/changed', p));
        client.onNotification('traffic/record', (p) => this.opts.send('traffic/record', p));
        client.onNotification('auth/authorize', (p) => this.opts.send('auth/authorize', p));
        // A dead connection is dropped, so the next call opens a fresh one.
        void client.closed().then(() => {
          if (this.client === opening) this.client = undefined;
        });
        return client;
      });
      opening.catch(() => {
        if (this.client === opening) this.client = undefined;
      });
      this.client = opening;
    }
    return this.client;
  }
}
