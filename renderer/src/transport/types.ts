/**
 * How the UI reaches the engine. One interface, three ways: the tray app's preload bridge
 * (Electron IPC), the browser inspector's WebSocket, and an in-memory demo. The UI sees only this.
 */
import type { ControlMethod, ControlParams, ControlResult } from '../../../main/common/control-api.js';
import type { EndpointStatus, TrafficRecord } from '../../../main/common/domain.js';

/**
 * The control methods the UI may call (`shim/attach` makes a relay, which is not for the UI;
 * `net/system-proxies` is the tray app's own).
 */
export type UiMethod = Exclude<ControlMethod, 'shim/attach' | 'net/system-proxies'>;

/** Whether the UI can reach the engine right now. */
export type LinkState = 'connecting' | 'open' | 'closed';

/** The one way the UI talks to the engine. */
export interface Transport {
  /** What carries the calls, for the status line. */
  readonly kind: 'electron' | 'browser' | 'demo';
  /**
   * Calls one control method.
   * @throws ControlError with the engine's stable code (INVALID_ARGUMENT, ENDPOINT_EXISTS…)
   */
  call<M extends UiMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>>;
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

/** A failed control call: the engine's stable code, its message, and its structured data. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  /**
   * @param code a stable code (`INVALID_ARGUMENT`, `SECRET_IN_CONFIG`…); `ENGINE_UNAVAILABLE` when
   *   the link dropped
   * @param message for people
   * @param data `hint`, and for invalid params `issues: {path, message}[]`
   */
  constructor(
    readonly code: string,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** Rebuilds one from a JSON-RPC error object (`data.code` is the stable code). */
  static fromJsonRpc(error: { message?: unknown; data?: unknown }): ControlError {
    const data =
      typeof error.data === 'object' && error.data !== null ? (error.data as Record<string, unknown>) : {};
    return new ControlError(
      typeof data['code'] === 'string' ? data['code'] : 'INTERNAL',
      typeof error.message === 'string' ? error.message : 'unknown error',
      data,
    );
  }

  /** The hint the engine gave, if any. */
  get hint(): string | undefined {
    return typeof this.data['hint'] === 'string' ? this.data['hint'] : undefined;
  }
}

/** Any thrown value as a ControlError. */
export function toControlError(err: unknown): ControlError {
  if (err instanceof ControlError) return err;
  return new ControlError('INTERNAL', err instanceof Error ? err.message : String(err));
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
