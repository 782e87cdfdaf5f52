/**
 * What the parts of a Streamable HTTP connection outside streamable-http.ts (the GET stream in
 * streamable-get.ts, the engine's own `tools/list` requests in streamable-relearn.ts) see of it:
 * its URL, options, session id, protocol version and the headers every request carries.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { TetherError } from '../../common/errors.js';
import type { ReadGate } from './flow.js';
import type { ToolParamHeaders } from './param-headers.js';
import type { NetworkUpstreamOptions } from './types.js';

/** One Streamable HTTP connection, as its GET stream and its own requests use it. */
export interface StreamableHttpPort {
  readonly url: URL;
  readonly opts: NetworkUpstreamOptions;
  /** Backpressure: pauses the SSE streams the connection reads. */
  readonly gate: ReadGate;
  /** The `x-mcp-header` annotations learned from `tools/list` results. */
  readonly toolHeaders: ToolParamHeaders;
  /** Aborted when the connection closes or is lost. */
  readonly signal: AbortSignal;
  /** True once the connection closed or was lost. */
  isDead(): boolean;
  /** The `Mcp-Session-Id` the server gave at `initialize` (2025), if any. */
  sessionId(): string | undefined;
  /** The negotiated protocol version, once known. */
  protocolVersion(): string | undefined;
  /** The configured headers and `Mcp-Session-Id`: what every request carries. */
  baseHeaders(): OutgoingHttpHeaders;
  /** Ends the connection as lost with `err` (the handlers' `closed`). */
  markDead(err: TetherError): void;
  /** A fresh id for one of the engine's own requests (`mcp-tether:headers:<n>`). */
  nextOwnId(): string;
}
