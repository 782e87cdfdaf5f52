/**
 * The health state machine of one endpoint (docs/architecture.md "Traffic and health"). Fed by the
 * relay (requests that succeed or fail) and by the probe (the RTT of MCP `ping`, or of
 * `server/discover` for a modern server); tells its owner about every change.
 */
import type { EndpointStatus, HealthState, LastError } from '../../common/domain.js';
import { ErrorCode, type TetherError } from '../../common/errors.js';
import type { ConcreteTransport } from '../upstream/types.js';

/** A ping slower than this marks the endpoint degraded (ms). */
export const SLOW_PING_MS = 2000;
const RTT_HISTORY = 60;

/** The state an error puts an endpoint in. */
export function stateForError(err: TetherError): HealthState {
  if (err.code === ErrorCode.AUTH_REQUIRED || err.code === ErrorCode.KEYCHAIN_UNAVAILABLE)
    return 'auth-required';
  if (err.code === ErrorCode.HOST_KEY_UNKNOWN || err.code === ErrorCode.HOST_KEY_MISMATCH)
    return 'host-untrusted';
  if (err.code === ErrorCode.UPSTREAM_TIMEOUT || err.code === ErrorCode.UPSTREAM_SESSION_LOST)
    return 'degraded';
  return 'down';
}

/** Health of one endpoint. */
export class EndpointHealth {
  private state: HealthState = 'idle';
  private sinceMs: number;
  private lastError: LastError | undefined;
  /** When the last failure was reported (wall clock, ms). */
  private lastFailureMs = 0;
  private rttMs: number | undefined;
  private readonly rttHistory: number[] = [];
  private reconnects = 0;
  private transport: ConcreteTransport | undefined;
  private protocolVersion: string | undefined;
  private serverEra: { era: 'legacy' | 'modern'; versions: string[] } | undefined;
  /** Shim sessions attached now (kept by the owner). */
  sessions = 0;
  /** Kept connected by the user. */
  pinned = false;
  /** The endpoint signs in with OAuth: `auth-required` then means a sign-in is needed. */
  oauth = false;
  /** Disconnected by the user: the state stays `disconnected` until {@link setDisconnected}(false). */
  private held = false;
  /** While a session is answered from the last known state: when it was saved and served (ms). */
  private lastKnown: { savedAtMs: number; servedAtMs: number } | undefined;

  /**
   * @param name endpoint name
   * @param onChange called after every change with the new status
   * @param now wall clock (ms)
   */
  constructor(
    readonly name: string,
    private readonly onChange: (status: EndpointStatus) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.sinceMs = now();
  }

  /** The status as shown by `status`. */
  status(): EndpointStatus {
    const s: EndpointStatus = {
      name: this.name,
      state: this.state,
      since: new Date(this.sinceMs).toISOString(),
      timeInStateMs: this.now() - this.sinceMs,
      rttHistory: [...this.rttHistory],
      reconnects: this.reconnects,
      sessions: this.sessions,
      pinned: this.pinned,
    };
    if (this.transport) s.transport = this.transport;
    if (this.protocolVersion) s.protocolVersion = this.protocolVersion;
    if (this.serverEra) {
      s.era = this.serverEra.era;
      if (this.serverEra.versions.length > 0) s.serverVersions = [...this.serverEra.versions];
    }
    if (this.rttMs !== undefined) s.rttMs = this.rttMs;
    if (this.lastError) s.lastError = this.lastError;
    if (this.oauth && this.state === 'auth-required') s.signInNeeded = true;
    if (this.lastKnown)
      s.lastKnown = {
        savedAt: new Date(this.lastKnown.savedAtMs).toISOString(),
        servedAt: new Date(this.lastKnown.servedAtMs).toISOString(),
        ageMs: this.lastKnown.servedAtMs - this.lastKnown.savedAtMs,
      };
    return s;
  }

  /** The current state. */
  get current(): HealthState {
    return this.state;
  }

  private set(state: HealthState): void {
    if (this.held && state !== 'disconnected') return;
    if (state === 'ready') this.lastKnown = undefined;
    if (state !== this.state) {
      this.state = state;
      this.sinceMs = this.now();
    }
    this.onChange(this.status());
  }

  /** A connection attempt started (only from idle/down: a live endpoint stays as it is). */
  connecting(): void {
    if (this.state === 'idle' || this.state === 'down') this.set('connecting');
  }

  /** A request or probe succeeded; `startedMs` (wall clock) is when it was sent. */
  ok(startedMs?: number): void {
    if (this.isStale(startedMs)) return;
    if (this.state !== 'ready') this.set('ready');
  }

  /**
   * True for a success whose request started (at `startedMs`, wall clock) before the last failure:
   * it says nothing about the endpoint now (a ping sent just before a sign-in was revoked).
   */
  private isStale(startedMs: number | undefined): boolean {
    return startedMs !== undefined && startedMs < this.lastFailureMs;
  }

  /** A ping sent at `startedMs` (wall clock) answered in `rttMs` (ms). */
  pinged(rttMs: number, startedMs?: number): void {
    this.rttMs = rttMs;
    this.rttHistory.push(rttMs);
    if (this.rttHistory.length > RTT_HISTORY) this.rttHistory.shift();
    if (this.isStale(startedMs)) this.onChange(this.status());
    else this.set(rttMs > SLOW_PING_MS ? 'degraded' : 'ready');
  }

  /** Something failed. */
  failed(err: TetherError): void {
    this.lastFailureMs = this.now();
    this.lastError = { code: err.code, message: err.message, at: new Date(this.now()).toISOString() };
    this.set(stateForError(err));
  }

  /** An upstream session was re-established after a loss. */
  reconnected(): void {
    this.reconnects++;
    this.set('ready');
  }

  /** Transport and protocol version in use. */
  negotiated(transport: ConcreteTransport, protocolVersion?: string): void {
    this.transport = transport;
    if (protocolVersion) this.protocolVersion = protocolVersion;
    this.onChange(this.status());
  }

  /** The server's era and, for a modern server, the versions it supports. */
  era(era: 'legacy' | 'modern', versions: string[]): void {
    this.serverEra = { era, versions };
    this.onChange(this.status());
  }

  /** Nothing uses the endpoint any more. */
  idle(): void {
    this.set('idle');
  }

  /**
   * The user disconnected the endpoint (true) or connected it again (false): `disconnected` holds
   * until then, whatever the relay reports.
   */
  setDisconnected(on: boolean): void {
    if (on) {
      this.held = false;
      this.set('disconnected');
      this.held = true;
    } else if (this.held) {
      this.held = false;
      this.set('idle');
    }
  }

  /** A session was answered from the last known state saved at `savedAtMs` (wall clock, ms). */
  servedFromCache(savedAtMs: number): void {
    this.lastKnown = { savedAtMs, servedAtMs: this.now() };
    this.onChange(this.status());
  }

  /** Sessions or the pin changed: tell the owner. */
  touched(): void {
    this.onChange(this.status());
  }
}
