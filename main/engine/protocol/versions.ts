/**
 * Protocol versions and eras (MCP 2026-07-28 basic/versioning, "Terminology"): **legacy** versions
 * open a session with `initialize` (2024-11-05 … 2025-11-25); **modern** versions carry version,
 * identity and capabilities in every request's `_meta` (2026-07-28 and later). This module names
 * the versions, the `_meta` keys and the modern error codes, and tells which era a message or a
 * server answer belongs to. Everything era-related in the engine lives in `main/engine/protocol/`.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { JsonRpcMessage } from '../../common/jsonrpc.js';

/** An era, as MCP 2026-07-28 basic/versioning defines it. */
export type Era = 'legacy' | 'modern';

/** The modern protocol version the engine speaks. */
export const MODERN_VERSION = '2026-07-28';
/** The newest legacy version; what the engine asks for in its own `initialize`. */
export const LATEST_LEGACY_VERSION = '2025-11-25';
/** The legacy versions the bridge can answer a client's `initialize` with, newest first. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

/** The reserved `_meta` keys of MCP 2026-07-28 (basic/index "_meta"). */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** JSON-RPC error codes MCP 2026-07-28 allocates (basic/index "Error codes"). */
export const ModernErrorCode = {
  HEADER_MISMATCH: -32020,
  MISSING_REQUIRED_CLIENT_CAPABILITY: -32021,
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
} as const;

/** Resource not found: -32002 up to 2025-11-25, -32602 (Invalid Params) since 2026-07-28. */
export const RESOURCE_NOT_FOUND = { legacy: -32002, modern: -32602 } as const;

/**
 * The server→client requests of the legacy revisions that MRTR carries as input requests, and the
 * client capability each needs (MCP 2026-07-28 basic/patterns/mrtr).
 */
export const INPUT_CAPABILITY: Readonly<Record<string, string>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** The requests a server may answer `input_required` (MCP 2026-07-28 basic/patterns/mrtr). */
export const MRTR_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** True for a modern protocol version (2026-07-28 or later; versions are ISO dates). */
export function isModernVersion(version: string | undefined): boolean {
  return version !== undefined && version >= MODERN_VERSION;
}

type Json = Record<string, unknown>;

function asObject(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** The `_meta` object of a request's params, when there is one. */
export function requestMeta(msg: JsonRpcMessage): Json | undefined {
  return asObject(asObject(msg.params)?.['_meta']);
}

/**
 * The era a client message shows: `legacy` for `initialize`, `modern` for a request that carries a
 * modern protocol version in `_meta` (or for `server/discover`), undefined for anything else.
 */
export function messageEra(msg: JsonRpcMessage): Era | undefined {
  if (msg.method === 'initialize') return 'legacy';
  if (msg.method === 'server/discover') return 'modern';
  const v = requestMeta(msg)?.[META.protocolVersion];
  return typeof v === 'string' && isModernVersion(v) ? 'modern' : undefined;
}

/** What a `server/discover` answer says (MCP 2026-07-28 server/discover "DiscoverResult"). */
export interface DiscoverInfo {
  supportedVersions: string[];
  capabilities: Json;
  serverInfo?: { name: string; version: string; [k: string]: unknown };
  instructions?: string;
}

/** The era of a server, from its answer to a modern probe. */
export type ProbeVerdict =
  { era: 'modern'; versions: string[]; discover?: DiscoverInfo } | { era: 'legacy'; reason: string };

/**
 * Reads the answer to a `server/discover` probe as the backward-compatibility rules say (MCP
 * 2026-07-28 basic/versioning "Backward Compatibility", basic/transports/stdio and
 * streamable-http): a `DiscoverResult` or a recognized modern JSON-RPC error (-32020, -32021,
 * -32022) means modern; any other error means legacy.
 */
export function classifyProbeAnswer(answer: JsonRpcMessage): ProbeVerdict {
  if (answer.error) {
    const { code, message } = answer.error;
    const modernCodes: number[] = Object.values(ModernErrorCode);
    if (modernCodes.includes(code)) {
      const supported = asObject(answer.error.data)?.['supported'];
      const versions = Array.isArray(supported)
        ? supported.filter((v): v is string => typeof v === 'string')
        : [];
      return { era: 'modern', versions };
    }
    return { era: 'legacy', reason: `server/discover answered ${code}: ${message}` };
  }
  const r = asObject(answer.result);
  const versions = r?.['supportedVersions'];
  if (!r || !Array.isArray(versions)) {
    return { era: 'legacy', reason: 'server/discover answered without supportedVersions' };
  }
  const discover: DiscoverInfo = {
    supportedVersions: versions.filter((v): v is string => typeof v === 'string'),
    capabilities: asObject(r['capabilities']) ?? {},
  };
  const si = asObject(asObject(r['_meta'])?.[META.serverInfo]) ?? asObject(r['serverInfo']);
  if (si && typeof si['name'] === 'string')
    discover.serverInfo = {
      ...si,
      name: si['name'],
      version: typeof si['version'] === 'string' ? si['version'] : '',
    };
  if (typeof r['instructions'] === 'string') discover.instructions = r['instructions'];
  return { era: 'modern', versions: discover.supportedVersions, discover };
}

/** True when a server advertising `versions` serves legacy clients itself (a dual-era server). */
export function servesLegacy(versions: readonly string[]): boolean {
  return versions.some((v) => !isModernVersion(v));
}

/** The error thrown when a cached era proved wrong; the endpoint probes again and retries once. */
export function eraMismatch(message: string): TetherError {
  return new TetherError(ErrorCode.UPSTREAM_PROTOCOL, message, { eraMismatch: true });
}
