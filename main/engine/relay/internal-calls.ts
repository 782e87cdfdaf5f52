/**
 * Requests the engine makes itself on an upstream session (the replayed `initialize`, health
 * checks, the bridges' own requests) and the matching of their responses. Their ids are strings no client uses
 * (`mcp-tether:<purpose>:<n>`), so they never collide with a client's own.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import { idKey, type JsonRpcMessage, type MessageInfo } from '../../common/jsonrpc.js';
import type { OutboundMessage } from '../upstream/types.js';

type Waiter = {
  resolve: (m: JsonRpcMessage) => void;
  reject: (e: TetherError) => void;
  timer: NodeJS.Timeout;
};

/** Outstanding engine-made requests of one upstream session. */
export class InternalCalls {
  private n = 0;
  private readonly waiters = new Map<string, Waiter>();

  /** @param purpose a word in the ids, e.g. `replay` or `health` */
  constructor(private readonly purpose: string) {}

  /**
   * Builds a request and a promise of its response.
   * @param timeoutMs time allowed for the response (ms)
   * @returns the message to send and the response promise; the promise rejects with
   *   UPSTREAM_TIMEOUT, or with what {@link failAll} is given
   */
  request(
    method: string,
    params: unknown,
    timeoutMs: number,
  ): { out: OutboundMessage; response: Promise<JsonRpcMessage> } {
    const id = `mcp-tether:${this.purpose}:${++this.n}`;
    const parsed: JsonRpcMessage = { jsonrpc: '2.0', id, method, params };
    const key = idKey(id);
    const response = new Promise<JsonRpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new TetherError(ErrorCode.UPSTREAM_TIMEOUT, `no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, { resolve, reject, timer });
    });
    // A caller whose send failed never awaits it: its later timeout must not be an unhandled rejection.
    response.catch(() => undefined);
    return { out: { text: JSON.stringify(parsed), info: { kind: 'request', id, method }, parsed }, response };
  }

  /**
   * Settles a waiting request with a response; returns false when the message is not ours (its id
   * is not one of this purpose's: other engine-made ids, such as the bridge's, pass on).
   */
  settle(info: MessageInfo, parsed: JsonRpcMessage): boolean {
    if (info.kind !== 'response' && info.kind !== 'error') return false;
    if (typeof info.id !== 'string' || !info.id.startsWith(`mcp-tether:${this.purpose}:`)) return false;
    const key = idKey(info.id);
    const w = this.waiters.get(key);
    if (!w) return true; // ours, but late: drop it
    this.waiters.delete(key);
    clearTimeout(w.timer);
    w.resolve(parsed);
    return true;
  }

  /** Rejects every waiting request. */
  failAll(err: TetherError): void {
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }
}
