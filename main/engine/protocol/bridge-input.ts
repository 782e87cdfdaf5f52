/**
 * The `input_required` rules of the legacy-client bridge (bridge.ts; MCP 2026-07-28
 * basic/patterns/mrtr), pure: one client request in flight and its input rounds, which input
 * requests a legacy client can be asked, the server→client request each becomes, and the params of
 * the retry that carries the client's answers.
 */
import type { JsonRpcId, JsonRpcMessage } from '../../common/jsonrpc.js';
import { INPUT_CAPABILITY } from './versions.js';

type Json = Record<string, unknown>;

/** Retries of one request that may again answer `input_required` (a bound, not a protocol rule). */
export const MAX_INPUT_ROUNDS = 10;

/** One client request in flight upstream. */
export interface Call {
  clientId: JsonRpcId;
  method: string;
  /** The client's params, without the modern `_meta` (added on each send). */
  params: Json;
  upstreamId: JsonRpcId;
  rounds: number;
  /** Input requests sent to the client and not answered yet (ids). */
  waiting: Set<string>;
  responses: Json;
  requestState?: string;
}

/**
 * Why the input request `r` cannot be put to a legacy client whose `initialize` declared
 * `capabilities`: its method has no server→client request before 2026-07-28, or the client lacks
 * the capability it needs; undefined when it can.
 * @returns the reason, and the capability (or method) to name in the error's data
 */
export function inputRefusal(
  r: JsonRpcMessage | undefined,
  capabilities: Json,
): { why: string; capability: string | undefined } | undefined {
  const cap = INPUT_CAPABILITY[r?.method ?? ''];
  const why = !cap
    ? `the server asked for ${String(r?.method)}, which has no server→client request before 2026-07-28`
    : capabilities[cap] === undefined
      ? `the server asked for ${r!.method}, but the client did not declare the "${cap}" capability`
      : undefined;
  return why === undefined ? undefined : { why, capability: cap ?? r?.method };
}

/**
 * The server→client request, under the bridge's `id`, that asks a client of `clientVersion` for
 * the input request `r`: `elicitation/create` loses `mode` before 2025-11-25 (older clients know
 * only form elicitation, without it).
 */
export function clientInputRequest(id: string, r: JsonRpcMessage, clientVersion: string): JsonRpcMessage {
  let params = r.params as Json | undefined;
  if (r.method === 'elicitation/create' && params && clientVersion < '2025-11-25') {
    params = { ...params };
    delete params['mode'];
  }
  const req: JsonRpcMessage = { jsonrpc: '2.0', id, method: r.method! };
  if (params !== undefined) req.params = params;
  return req;
}

/** The params of the retry of `call`: the client's, with `inputResponses` and `requestState`. */
export function retryParams(call: Call): Json {
  const params: Json = { ...call.params, inputResponses: call.responses };
  if (call.requestState !== undefined) params['requestState'] = call.requestState;
  return params;
}
