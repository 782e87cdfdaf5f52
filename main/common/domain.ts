/**
 * Domain types shared by the engine, CLI, shim and UI: health states, status, traffic records,
 * doctor reports. Pure types, no runtime.
 */
import type { JsonRpcId } from './jsonrpc.js';
import type { EndpointConfig, TransportKind } from './schemas.js';

/**
 * Per-endpoint health (docs/architecture.md "Traffic and health"):
 * - `idle`: nothing uses it; no connection.
 * - `connecting`: opening the transport or running `initialize`.
 * - `ready`: the last probe or request succeeded.
 * - `degraded`: reachable, but a probe failed or was slow; requests may still work.
 * - `down`: cannot be reached; retrying with backoff.
 * - `auth-required`: the remote answered 401/403, or its credentials are missing (not stored, not
 *   signed in, the keychain unavailable).
 * - `host-untrusted`: the SSH host key is unknown or changed.
 * - `disconnected`: the user disconnected it (`mcp-tether disconnect`); nothing goes to the server
 *   until `mcp-tether connect`. Kept across engine restarts.
 */
export type HealthState =
  'idle' | 'connecting' | 'ready' | 'degraded' | 'down' | 'auth-required' | 'host-untrusted' | 'disconnected';

/** A failure as shown to people: stable code, message, when (ISO 8601). */
export interface LastError {
  code: string;
  message: string;
  at: string;
}

/** The health of one endpoint. Durations in ms. */
export interface EndpointStatus {
  name: string;
  state: HealthState;
  /** When the state last changed (ISO 8601). */
  since: string;
  /** Time in the current state (ms). */
  timeInStateMs: number;
  /** The transport in use (after auto-detection), when known. */
  transport?: Exclude<TransportKind, 'auto'>;
  /** The protocol version negotiated by the last `initialize` seen, when known. */
  protocolVersion?: string;
  /** Round-trip time of the last successful MCP `ping` (ms). */
  rttMs?: number;
  /** The last (at most 60) ping RTTs, oldest first (ms). */
  rttHistory: number[];
  lastError?: LastError;
  /** How many times an upstream session had to be re-established. */
  reconnects: number;
  /** Shim sessions attached now. */
  sessions: number;
  /** True when the user asked to keep it connected (`mcp-tether connect`). */
  pinned: boolean;
  /**
   * The server's era (MCP 2026-07-28 basic/versioning): `legacy` (`initialize`-based) or `modern`
   * (per-request `_meta`), once probed.
   */
  era?: 'legacy' | 'modern';
  /** The protocol versions a modern server said it supports (`server/discover`). */
  serverVersions?: string[];
  /**
   * Set while a session is answered from the last known state (the server unreachable or the
   * endpoint disconnected): when that state was saved and when it was last served (ISO 8601), and
   * its age then (ms).
   */
  lastKnown?: { savedAt: string; servedAt: string; ageMs: number };
  /** True when an OAuth endpoint needs a sign-in (`mcp-tether login`; the tray offers "Sign in to"). */
  signInNeeded?: boolean;
}

/** Message direction relative to the remote server (MCP's client and server roles). */
export type Direction = 'client-to-server' | 'server-to-client';

/** Kinds of traffic records: the four JSON-RPC message kinds, plus engine events. */
export type RecordKind = 'request' | 'response' | 'notification' | 'error' | 'event';

/**
 * One traffic record (docs/architecture.md "Traffic and health"). `message` holds the JSON-RPC
 * message itself (secrets redacted); events have `event` instead, and no direction.
 */
export interface TrafficRecord {
  /** Increasing per engine, from 1. */
  seq: number;
  /** Wall-clock time (ISO 8601). */
  time: string;
  endpoint: string;
  /** The shim session (or `health` for probes). */
  session: string;
  direction?: Direction;
  kind: RecordKind;
  method?: string;
  id?: JsonRpcId | null;
  /** UTF-8 size of the message text (bytes). */
  bytes: number;
  /** On responses and errors: time since the matching request (ms). */
  latencyMs?: number;
  /** On errors: the JSON-RPC error code, and `data.code` when present. */
  errorCode?: number;
  errorDataCode?: string;
  /** The message (parsed); absent for events. */
  message?: unknown;
  /** For `event` records: what happened (connect, reconnect, http-status, transport, stderr…). */
  event?: { type: string; detail: string };
}

/** Filter for traffic queries and subscriptions. All fields are optional and combine with AND. */
export interface TrafficFilter {
  endpoint?: string;
  session?: string;
  method?: string;
  direction?: Direction;
  kind?: RecordKind;
  /** Case-insensitive substring of the message text or event detail. */
  text?: string;
  /** Only records with seq greater than this. */
  afterSeq?: number;
  /** Only records with seq less than this (the page before one already read). */
  beforeSeq?: number;
  /** At most this many (the newest), default 1000. */
  limit?: number;
}

/** One endpoint as listed: its stored config and current status. */
export interface EndpointSummary {
  name: string;
  config: EndpointConfig;
  status: EndpointStatus;
}

/** The request counters of one endpoint and method (as `mcp_remote_*` metrics count them). */
export interface RequestCounters {
  endpoint: string;
  /** An MCP request method, or `other`. */
  method: string;
  /** Requests answered (by the server or the relay). */
  requests: number;
  /** Of those, answered with a JSON-RPC error. */
  errors: number;
  /** Sum of their latencies (seconds). */
  durationSecondsSum: number;
}

/** Facts about the running engine. */
export interface EngineInfo {
  pid: number;
  version: string;
  /** ISO 8601. */
  startedAt: string;
  uptimeMs: number;
  socketPath: string;
  configFile: string;
  /** Resident set size (bytes). */
  rssBytes: number;
  /** V8 heap in use, and memory outside it (buffers: the traffic ring's slabs), in bytes. */
  heapUsedBytes: number;
  externalBytes: number;
  traffic: { records: number; bytes: number; maxRecords: number; maxBytes: number };
}

/** An SSH host key met on the way to an endpoint, and whether it is trusted. */
export interface HostKeyInfo {
  host: string;
  port: number;
  /** `jump` for a jump host, `target` for the SSH server the endpoint runs behind. */
  role: 'jump' | 'target';
  /** e.g. `ssh-ed25519`. */
  keyType: string;
  /** `SHA256:…`, as ssh-keygen -l shows it. */
  fingerprint: string;
  status: 'trusted' | 'unknown' | 'mismatch' | 'revoked';
}

/**
 * A secret stored in the OS keychain (service `mcp-tether`, account `<endpoint>/<name>`). Values
 * never leave the engine; this is all anyone sees of them.
 */
export interface SecretInfo {
  endpoint: string;
  /** `bearer`, `header:<Name>`, `oauth-tokens:<issuer>` or `oauth-client:<issuer>`. */
  name: string;
}

/** One layer checked by `doctor`. */
export interface DoctorStep {
  layer:
    | 'config'
    | 'proxy'
    | 'dns'
    | 'tcp'
    | 'ssh-host-key'
    | 'ssh-auth'
    | 'ssh-channel'
    | 'tls'
    | 'http'
    | 'transport'
    | 'initialize'
    | 'ping';
  ok: boolean;
  /** What was found, e.g. "127.0.0.1 (IPv4)" or "HTTP 404 Not Found". */
  detail: string;
  /** When not ok: what to try. */
  hint?: string;
  /** Time taken (ms). */
  ms: number;
}

/** The result of `doctor`: the layers in order; it stops at the first failing one. */
export interface DoctorReport {
  endpoint: string;
  url: string;
  ok: boolean;
  steps: DoctorStep[];
}
