/**
 * The control API contract (docs/architecture.md "Processes"): JSON-RPC 2.0 over the engine's
 * control socket, one JSON object per line. Written once here; the engine validates params with
 * these schemas, the CLI, shim and UI derive their types from them.
 */
import { z } from 'zod';
import type {
  DoctorReport,
  EndpointStatus,
  EndpointSummary,
  EngineInfo,
  HostKeyInfo,
  RequestCounters,
  SecretInfo,
  TrafficRecord,
} from './domain.js';
import type { DemoRunResult, DemoStep } from './demo.js';
import type { SystemReport } from './system-doctor.js';
import { MCP_CLIENTS, type ClientConfigChange, type ClientInfo, type ClientSnippet } from './clients.js';
import {
  ENDPOINT_NAME_RE,
  EndpointConfigSchema,
  MetricsSettingsSchema,
  TelemetrySettingsSchema,
  type Settings,
} from './schemas.js';

/** What `settings/get` and `settings/update` answer. */
export interface ObservabilitySettings {
  metrics: Settings['metrics'];
  telemetry: Settings['telemetry'];
  /** The Prometheus scrape URL, while served. */
  metricsUrl?: string;
  /** True when traces are exported now (settings or OTEL_EXPORTER_OTLP_* at engine start). */
  tracing: boolean;
}

const name = z
  .string()
  .regex(
    ENDPOINT_NAME_RE,
    'not a valid endpoint name: use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 64)',
  );
const empty = z.object({}).strict().prefault({});
const mcpClient = z.enum(MCP_CLIENTS, {
  error: () => `not a supported client: use one of ${MCP_CLIENTS.join(', ')}`,
});
/** A secret's name: `bearer`, `header:<Name>`, a bare header name, or an `oauth…` entry. */
const secretName = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[\x21-\x7e]+$/, 'a secret name is printable ASCII without spaces');

const trafficFilter = z
  .object({
    endpoint: name.optional(),
    session: z.string().optional(),
    method: z.string().optional(),
    direction: z.enum(['client-to-server', 'server-to-client']).optional(),
    kind: z.enum(['request', 'response', 'notification', 'error', 'event']).optional(),
    text: z.string().optional(),
    afterSeq: z.number().int().min(0).optional(),
    beforeSeq: z.number().int().min(1).optional(),
    limit: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .prefault({});

/** Result phantom: carries a result type through the contract without runtime cost. */
function result<T>(): T {
  return undefined as T;
}

/**
 * Method name → params schema and result type. Push notifications the engine sends after a
 * subscribe are listed in {@link ControlNotifications}.
 */
export const controlMethods = {
  /** Facts about the engine (pid, version, memory, traffic ring use). */
  'engine/info': { params: empty, result: result<EngineInfo>() },
  /** Stops the engine after answering. */
  'engine/shutdown': { params: empty, result: result<Record<string, never>>() },
  /**
   * Starts the browser inspector (the UI on 127.0.0.1, behind a random token) if it is not running,
   * and returns its URL, token included. `port` is used only when it starts (default: any free one).
   * Errors: ENGINE_START_FAILED (the port cannot be bound).
   */
  'engine/inspector': {
    params: z
      .object({ port: z.number().int().min(0).max(65_535).optional() })
      .strict()
      .prefault({}),
    result: result<{ url: string }>(),
  },
  /** All endpoints with config and status. Errors: CONFIG_INVALID, CONFIG_IO. */
  'endpoints/list': { params: empty, result: result<{ endpoints: EndpointSummary[] }>() },
  /** Adds an endpoint. Errors: ENDPOINT_EXISTS, CONFIG_INVALID, INVALID_ARGUMENT, SECRET_IN_CONFIG. */
  'endpoints/add': {
    params: z.object({ name, endpoint: EndpointConfigSchema }).strict(),
    result: result<{ endpoint: EndpointSummary }>(),
  },
  /**
   * Replaces an endpoint's config; its live sessions reconnect on their next request. When its
   * stored credentials were bound to another server than the new URL names, `credentialsMoved`
   * says so: they are sent nowhere until `secrets/rebind` (ask the user).
   */
  'endpoints/update': {
    params: z.object({ name, endpoint: EndpointConfigSchema }).strict(),
    result: result<{ endpoint: EndpointSummary; credentialsMoved?: { from: string; to: string } }>(),
  },
  /**
   * Removes an endpoint, ends its sessions and deletes its keychain secrets (unless `keepSecrets`).
   * Errors: ENDPOINT_NOT_FOUND, KEYCHAIN_UNAVAILABLE (an endpoint with `auth` whose secrets cannot
   * be deleted: nothing was removed).
   */
  'endpoints/remove': {
    params: z.object({ name, keepSecrets: z.boolean().optional() }).strict(),
    result: result<{ deletedSecrets?: string[] }>(),
  },
  /** Keeps an endpoint connected and probed even with no shim attached; lifts a disconnect. */
  'endpoints/connect': { params: z.object({ name }).strict(), result: result<EndpointStatus>() },
  /**
   * Disconnects an endpoint until `endpoints/connect` (kept across engine restarts): every upstream
   * connection and its SSH connection close, requests in flight get ENDPOINT_DISCONNECTED, and its
   * shims are answered without network traffic.
   */
  'endpoints/disconnect': { params: z.object({ name }).strict(), result: result<EndpointStatus>() },
  /** Engine facts and every endpoint's health (or one). */
  'status/get': {
    params: z.object({ endpoint: name.optional() }).strict().prefault({}),
    result: result<{
      engine: EngineInfo;
      endpoints: EndpointStatus[];
      /** Request counters per endpoint and method, and the Prometheus scrape URL when served. */
      metrics: { url?: string; requests: RequestCounters[] };
    }>(),
  },
  /** The observability settings of endpoints.json, and the scrape URL while metrics are served. */
  'settings/get': { params: empty, result: result<ObservabilitySettings>() },
  /**
   * Changes the observability settings of endpoints.json. Metrics move at once; traces follow the
   * next engine start. Errors: INVALID_ARGUMENT, ENGINE_START_FAILED (saved, but not served).
   */
  'settings/update': {
    params: z
      .object({ metrics: MetricsSettingsSchema.optional(), telemetry: TelemetrySettingsSchema.optional() })
      .strict(),
    result: result<ObservabilitySettings>(),
  },
  /** Starts `status/changed` notifications on this connection. */
  'status/subscribe': { params: empty, result: result<{ endpoints: EndpointStatus[] }>() },
  /**
   * Records matching a filter, oldest first. Errors: ENDPOINT_NOT_FOUND when `endpoint` names an
   * endpoint neither configured nor in the ring (a removed endpoint's records stay readable).
   */
  'traffic/query': { params: trafficFilter, result: result<{ records: TrafficRecord[] }>() },
  /**
   * Starts `traffic/record` notifications for records matching the filter (limit, afterSeq and
   * beforeSeq ignored).
   * Errors: ENDPOINT_NOT_FOUND as `traffic/query`.
   */
  'traffic/subscribe': { params: trafficFilter, result: result<{ lastSeq: number }>() },
  /**
   * The SSH host keys on the way to an endpoint, hop by hop up to the first one not trusted; with
   * `fingerprint`, records that (unknown) key in the app's known_hosts first. A changed key is
   * recorded only with `replace` (HOST_KEY_MISMATCH without), a revoked key never. Errors:
   * HOST_KEY_MISMATCH, INVALID_ARGUMENT (fingerprint does not match, not an SSH endpoint), the SSH_*
   * codes.
   */
  'hosts/trust': {
    params: z
      .object({
        endpoint: name,
        fingerprint: z
          .string()
          .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a fingerprint looks like SHA256: and 43 base64 characters')
          .optional(),
        /** Record over a changed key (another key is recorded for the host): the user confirmed it. */
        replace: z.boolean().optional(),
      })
      .strict(),
    result: result<{ hosts: HostKeyInfo[]; trusted?: HostKeyInfo }>(),
  },
  /**
   * The OS proxy settings, from the tray app (Electron's `session.resolveProxy`): URL origin → the
   * proxy list Chromium gives for it (PAC syntax, `PROXY host:port; DIRECT`). Replaces the previous
   * map; used for endpoints with no `--proxy` and no proxy in the engine's environment.
   */
  'net/system-proxies': {
    params: z.object({ proxies: z.record(z.string().max(2048), z.string().max(4096)) }).strict(),
    result: result<Record<string, never>>(),
  },
  /**
   * Stores a secret of an endpoint in the OS keychain (account `<endpoint>/<name>`). `name` defaults
   * to the endpoint's own (`bearer`, or `header:<Name>`); a header name may be given as `X-Key` or
   * `header:X-Key`; `proxy` stores the proxy's `user:password` and makes the endpoint send it. Errors: ENDPOINT_NOT_FOUND, INVALID_ARGUMENT, KEYCHAIN_UNAVAILABLE.
   */
  'secrets/set': {
    params: z
      .object({
        endpoint: name,
        name: secretName.optional(),
        value: z
          .string()
          .min(1, 'the secret is empty')
          .max(65_536)
          .regex(
            /^[\t\x20-\x7e\x80-\uffff]*$/,
            'a secret sent in a header must not contain control characters',
          ),
      })
      .strict(),
    result: result<{ endpoint: string; name: string }>(),
  },
  /**
   * Deletes secrets of an endpoint: `name` (default: the endpoint's own), or with `all`, every
   * secret of it, OAuth tokens included (a sign-out). Errors: KEYCHAIN_UNAVAILABLE.
   */
  'secrets/delete': {
    params: z.object({ endpoint: name, name: secretName.optional(), all: z.boolean().optional() }).strict(),
    result: result<{ deleted: string[] }>(),
  },
  /**
   * Binds an endpoint's stored credentials to its current URL (origin, and for OAuth the resource):
   * the user confirmed that the server the URL now names may have them. Until then, after a URL
   * change, requests get AUTH_REQUIRED (`data.reason: 'origin-changed'`) and nothing is sent.
   * Errors: ENDPOINT_NOT_FOUND, INVALID_ARGUMENT (no credentials configured), CONFIG_INVALID.
   */
  'secrets/rebind': {
    params: z.object({ endpoint: name }).strict(),
    result: result<{ endpoint: string; origin: string; previous?: string }>(),
  },
  /** The names of stored secrets (never their values), of one endpoint or all. */
  'secrets/list': {
    params: z.object({ endpoint: name.optional() }).strict().prefault({}),
    result: result<{ secrets: SecretInfo[] }>(),
  },
  /**
   * Signs in to an OAuth endpoint (MCP authorization, OAuth 2.1 with PKCE) in the engine: a loopback
   * redirect on 127.0.0.1, the system browser unless `openBrowser` is false. The URL to open is also
   * pushed to this connection as `auth/authorize`. One sign-in per endpoint at a time: concurrent
   * callers wait for the running one. Errors: AUTH_FAILED (refused, timed out, an unusable
   * authorization server), INVALID_ARGUMENT (not an OAuth endpoint), KEYCHAIN_UNAVAILABLE.
   */
  'auth/login': {
    params: z
      .object({
        endpoint: name,
        openBrowser: z.boolean().default(true),
        /** How long to wait for the user to finish in the browser (ms). */
        timeoutMs: z.number().int().min(1000).max(3_600_000).default(300_000),
      })
      .strict(),
    result: result<{ endpoint: string; issuer: string; scope?: string; expiresAt?: string }>(),
  },
  /**
   * Writes the entry that starts `mcp-tether shim <endpoint>` (by absolute paths) into an MCP
   * client's config: `configFile` (absolute), or the client's default file for this user. Merges one
   * entry, keeps every other entry and key, writes atomically, keeps `<file>.bak`. Errors:
   * ENDPOINT_NOT_FOUND, CONFIG_INVALID (the client's file is not valid JSON: left untouched),
   * CONFIG_IO, INVALID_ARGUMENT.
   */
  'clients/install': {
    params: z
      .object({ endpoint: name, client: mcpClient, configFile: z.string().min(1).optional() })
      .strict(),
    result: result<ClientConfigChange>(),
  },
  /**
   * Removes MCP Tether's entry for `endpoint` from a client's config (never an entry of that name
   * that starts something else). Errors: CONFIG_INVALID, CONFIG_IO, INVALID_ARGUMENT.
   */
  'clients/uninstall': {
    params: z
      .object({ endpoint: name, client: mcpClient, configFile: z.string().min(1).optional() })
      .strict(),
    result: result<ClientConfigChange>(),
  },
  /** The JSON snippet to paste into a client's config ("Copy client config"). Errors: ENDPOINT_NOT_FOUND. */
  'clients/snippet': {
    params: z.object({ endpoint: name, client: mcpClient }).strict(),
    result: result<ClientSnippet>(),
  },
  /** The supported clients with their default config files; with `endpoint`, whether it is installed. */
  'clients/list': {
    params: z.object({ endpoint: name.optional() }).strict().prefault({}),
    result: result<{ clients: ClientInfo[] }>(),
  },
  /** Layered diagnosis of an endpoint: config, DNS, TCP, TLS, HTTP, transport, initialize, ping. */
  'doctor/run': { params: z.object({ name }).strict(), result: result<DoctorReport>() },
  /**
   * The whole setup (`mcp-tether doctor` with no endpoint): the engine's runtime (and the caller's,
   * when given), MCP Tether's directories and their modes, the OS keychain and its backend, each
   * MCP client's config and which servers it reaches through MCP Tether or otherwise (an
   * `mcp-remote` entry comes with the commands that move it), then each endpoint's doctor in one
   * line. Failures are findings, not errors.
   */
  'doctor/system': {
    params: z
      .object({
        runtime: z
          .object({
            node: z.string().max(64),
            electron: z.string().max(64).optional(),
            execPath: z.string().max(4096),
            platform: z.string().max(32),
            arch: z.string().max(32),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    result: result<SystemReport>(),
  },
  /**
   * The first-run demo: starts the demo MCP server in the engine (127.0.0.1:`port`; default: the
   * `demo` endpoint's port, else 7870), adds endpoint `demo` if absent, runs a short session through
   * `mcp-tether shim demo` with the MCP SDK's client, and starts the browser inspector (`open`:
   * also a browser on it, loopback http(s) URLs only). Each step is pushed as `demo/step` while it
   * runs. Without `keep` the demo server stops when the run ends. A failing step does not throw:
   * the result says which one failed (a taken port fails the `demo server` step).
   */
  'demo/run': {
    params: z
      .object({
        port: z.number().int().min(1).max(65_535).optional(),
        keep: z.boolean().default(false),
        open: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    result: result<DemoRunResult>(),
  },
  /**
   * Stops the demo server; with `remove`, removes the `demo` endpoint too. Errors: ENDPOINT_EXISTS
   * (`remove` found a `demo` endpoint that is not the demo's: left alone).
   */
  'demo/stop': {
    params: z
      .object({ remove: z.boolean().default(false) })
      .strict()
      .prefault({}),
    result: result<{ stopped: boolean; removed: boolean }>(),
  },
  /**
   * Turns this connection into a raw relay for one new MCP session of the endpoint: after the
   * response line, every line in either direction is an MCP JSON-RPC message, except that the
   * engine writes `#<id as JSON>` on a line of its own before each line that answers the client
   * request with that id (so the shim tracks what is in flight without decoding answers).
   * Errors: ENDPOINT_NOT_FOUND (with `data.known`), CONFIG_INVALID.
   */
  'shim/attach': {
    params: z
      .object({
        endpoint: name,
        clientPid: z.number().int().optional(),
        /**
         * Sent by a shim re-attaching after an engine restart: the client's `initialize` line and
         * whether it sent `notifications/initialized`, so the new session replays them upstream.
         */
        resume: z.object({ initialize: z.string(), initialized: z.boolean() }).strict().optional(),
      })
      .strict(),
    result: result<{ session: string; maxMessageBytes: number }>(),
  },
} as const;

/** Names of the control API's methods. */
export type ControlMethod = keyof typeof controlMethods;
/** The params a caller may give for a method (defaults optional). */
export type ControlParams<M extends ControlMethod> = z.input<(typeof controlMethods)[M]['params']>;
/** The params as the engine sees them after validation. */
export type ControlParsedParams<M extends ControlMethod> = z.output<(typeof controlMethods)[M]['params']>;
/** The result type of a method. */
export type ControlResult<M extends ControlMethod> = (typeof controlMethods)[M]['result'];

/** Push notifications: method → params. */
export interface ControlNotifications {
  'status/changed': { endpoint: EndpointStatus };
  'traffic/record': { record: TrafficRecord };
  /** During `auth/login`: the authorization URL the user opens (also when a browser was started). */
  'auth/authorize': { endpoint: string; url: string };
  /** During `demo/run`: a step that just ended. */
  'demo/step': { step: DemoStep };
}
