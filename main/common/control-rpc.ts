/**
 * The request/response bookkeeping of a control-API client (JSON-RPC 2.0), apart from what carries
 * the messages: the CLI and the tray app wrap it around the control socket
 * (main/common-node/control-client.ts), the browser inspector around a WebSocket
 * (renderer/src/transport/browser.ts). No Node module and no schema library here: the renderer
 * bundles it.
 */
import type { ControlMethod, ControlNotifications, ControlParams, ControlResult } from './control-api.js';
import { TetherError } from './errors.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: TetherError) => void };

/**
 * One connection's control-API client: numbers the requests, matches each response to its request
 * by id (JSON-RPC 2.0 §5), hands notifications to their listeners, and fails every request in
 * flight when the connection ends. Requests are typed by the contract in `control-api.ts`; errors
 * come back as TetherError with the engine's code (`data.code`, see {@link TetherError.fromJsonRpc}).
 */
export class ControlRpc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(method: string, params: unknown) => void>();
  private closedError: TetherError | undefined;

  /**
   * @param send writes one serialized JSON-RPC request (without a line end) to the connection;
   *   the caller frames it (a line on a socket, a WebSocket frame)
   */
  constructor(private readonly send: (message: string) => void) {}

  /**
   * Calls a control method.
   * @throws TetherError with the engine's code, or the error the connection closed with
   *   (see {@link close})
   */
  request<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Subscribes to push notifications of one method; returns an unsubscribe function. */
  onNotification<N extends keyof ControlNotifications>(
    method: N,
    cb: (params: ControlNotifications[N]) => void,
  ): () => void {
    const l = (m: string, p: unknown) => {
      if (m === method) cb(p as ControlNotifications[N]);
    };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Handles one message received from the engine (a line or a frame, as text): a notification goes
   * to its listeners, a response settles its request. Anything else (not JSON, an unknown id) is
   * ignored.
   */
  receive(text: string): void {
    let msg: {
      id?: unknown;
      result?: unknown;
      error?: { message?: unknown; data?: unknown };
      method?: unknown;
      params?: unknown;
    };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    if (typeof msg.method === 'string') {
      for (const l of this.listeners) l(msg.method, msg.params);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(TetherError.fromJsonRpc(msg.error));
    else p.resolve(msg.result);
  }

  /**
   * The connection ended: every request in flight, and every later one, rejects with `err` (the
   * first error given wins).
   */
  close(err: TetherError): void {
    this.closedError ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
