/**
 * The control API contract (DESIGN §3): JSON-RPC 2.0 over the engine's control socket, one JSON
 * object per line. Written once here; the engine validates params with these schemas, the CLI, shim
 * and UI derive their types from them.
 */
import { z } from 'zod';
import type {
  DoctorReport,
  EndpointStatus,
  EndpointSummary,
  EngineInfo,
  HostKeyInfo,
  TrafficRecord,
} from './domain.js';
import { ENDPOINT_NAME_RE, EndpointConfigSchema } from './schemas.js';

const name = z
  .string()
  .regex(
    ENDPOINT_NAME_RE,
    'not a valid endpoint name: use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 64)',
  );
const empty = z.object({}).strict().prefault({});

const trafficFilter = z
  .object({
    endpoint: name.optional(),
    session: z.string().optional(),
    method: z.string().optional(),
    direction: z.enum(['client-to-server', 'server-to-client']).optional(),
    kind: z.enum(['request', 'response', 'notification', 'error', 'event']).optional(),
    text: z.string().optional(),
    afterSeq: z.number().int().min(0).optional(),
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
  /** All endpoints with config and status. Errors: CONFIG_INVALID, CONFIG_IO. */
  'endpoints/list': { params: empty, result: result<{ endpoints: EndpointSummary[] }>() },
  /** Adds an endpoint. Errors: ENDPOINT_EXISTS, CONFIG_INVALID, INVALID_ARGUMENT, SECRET_IN_CONFIG. */
  'endpoints/add': {
    params: z.object({ name, endpoint: EndpointConfigSchema }).strict(),
    result: result<{ endpoint: EndpointSummary }>(),
  },
  /** Replaces an endpoint's config; its live sessions reconnect on their next request. */
  'endpoints/update': {
    params: z.object({ name, endpoint: EndpointConfigSchema }).strict(),
    result: result<{ endpoint: EndpointSummary }>(),
  },
  /** Removes an endpoint and ends its sessions. Errors: ENDPOINT_NOT_FOUND. */
  'endpoints/remove': { params: z.object({ name }).strict(), result: result<Record<string, never>>() },
  /** Keeps an endpoint connected and probed even with no shim attached. */
  'endpoints/connect': { params: z.object({ name }).strict(), result: result<EndpointStatus>() },
  /** Drops the keep-connected flag and closes the probe session. */
  'endpoints/disconnect': { params: z.object({ name }).strict(), result: result<EndpointStatus>() },
  /** Engine facts and every endpoint's health (or one). */
  'status/get': {
    params: z.object({ endpoint: name.optional() }).strict().prefault({}),
    result: result<{ engine: EngineInfo; endpoints: EndpointStatus[] }>(),
  },
  /** Starts `status/changed` notifications on this connection. */
  'status/subscribe': { params: empty, result: result<{ endpoints: EndpointStatus[] }>() },
  /** Records matching a filter, oldest first. */
  'traffic/query': { params: trafficFilter, result: result<{ records: TrafficRecord[] }>() },
  /** Starts `traffic/record` notifications for records matching the filter (limit/afterSeq ignored). */
  'traffic/subscribe': { params: trafficFilter, result: result<{ lastSeq: number }>() },
  /**
   * The SSH host keys on the way to an endpoint, hop by hop up to the first one not trusted; with
   * `fingerprint`, records that (unknown) key in the app's known_hosts first. A changed or revoked
   * key is never recorded. Errors: HOST_KEY_MISMATCH, INVALID_ARGUMENT (fingerprint does not match,
   * not an SSH endpoint), the SSH_* codes.
   */
  'hosts/trust': {
    params: z
      .object({
        endpoint: name,
        fingerprint: z
          .string()
          .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a fingerprint looks like SHA256: and 43 base64 characters')
          .optional(),
      })
      .strict(),
    result: result<{ hosts: HostKeyInfo[]; trusted?: HostKeyInfo }>(),
  },
  /** Layered diagnosis of an endpoint: config, DNS, TCP, TLS, HTTP, transport, initialize, ping. */
  'doctor/run': { params: z.object({ name }).strict(), result: result<DoctorReport>() },
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
}
