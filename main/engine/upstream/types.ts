/**
 * The contract between the relay and the transports that reach a remote MCP server.
 */
import type { TetherError } from '../../common/errors.js';
import type { JsonRpcId, JsonRpcMessage, MessageInfo } from '../../common/jsonrpc.js';
import type { EndpointConfig, TransportKind } from '../../common/schemas.js';
import type { Agents } from './http.js';
import type { ToolParamHeaders } from './param-headers.js';

/** A concrete transport (after auto-detection). */
export type ConcreteTransport = Exclude<TransportKind, 'auto'>;

/** What a transport reports to its owner. */
export interface UpstreamHandlers {
  /**
   * One message from the server. `text` is a single-line JSON text, exactly as the server sent it
   * unless it contained raw newlines (then it is the compact form of the same value). A large
   * message (`LARGE_LINE_BYTES` or more, common/jsonrpc.ts) comes with `raw`, the same text as
   * UTF-8 bytes, which the relay writes and records instead of `text`, and `parsed` is read lazily
   * (`parseLargeObject`); a wrapper that does not pass `raw` on loses only that saving.
   */
  message(text: string, parsed: unknown, raw?: Buffer): void;
  /** The upstream session is gone for good (server restart, expired session, closed stream). */
  closed(error: TetherError): void;
  /** Something worth a line in the traffic log: an HTTP status, a stream opened or resumed. */
  event(type: string, detail: string): void;
  /**
   * The answer to request `id` can no longer arrive on this connection (its response stream broke
   * and could not be resumed in time); the connection itself lives on. Without it such a request
   * just gets no answer (the caller's own timeout applies).
   */
  requestFailed?(id: JsonRpcId, error: TetherError): void;
}

/** One message to send, with what the relay already knows of it. */
export interface OutboundMessage {
  /** The single-line JSON text. */
  text: string;
  /** The same message as the bytes the client sent, when the relay has them: sent as they are. */
  raw?: Buffer;
  info: MessageInfo;
  parsed: JsonRpcMessage;
}

/**
 * One upstream MCP session over one transport. Created by {@link openUpstream}.
 */
export interface UpstreamConnection {
  readonly transport: ConcreteTransport;
  /**
   * Sends one message. Resolves once the server accepted it: the transport handed it over, and for
   * HTTP the response headers arrived (a JSON body is read first; an SSE response stream is read in
   * the background, so no message waits for another's stream). Responses arrive through
   * {@link UpstreamHandlers.message}; a stream that breaks later is reported through
   * {@link UpstreamHandlers.requestFailed}.
   * @throws TetherError UPSTREAM_UNREACHABLE, UPSTREAM_PROTOCOL, UPSTREAM_SESSION_LOST, AUTH_REQUIRED
   *   when the message could not be delivered or the server refused it
   */
  send(msg: OutboundMessage): Promise<void>;
  /**
   * Cancels request `id` as its transport and protocol version say. A 2026-07-28 Streamable HTTP
   * request: its response stream is closed, which is the cancellation signal, and `notice` is not
   * sent (MCP 2026-07-28 basic/patterns/cancellation). Any other: `notice` (a
   * `notifications/cancelled`) is sent, and a Streamable HTTP response stream of the request is
   * closed too. Never throws; a failure to send `notice` becomes an event.
   */
  cancel(id: JsonRpcId, notice: OutboundMessage): void;
  /** The protocol version negotiated by `initialize`; later requests carry it in their headers. */
  setProtocolVersion(version: string): void;
  /** Ends the session (Streamable HTTP: DELETE with the session id) and frees its sockets. */
  close(): Promise<void>;
  /**
   * Stops reading from the server (its response streams, WebSocket, SSH channel) until
   * {@link resume}: backpressure from a client that reads too slowly (see upstream/flow.ts).
   */
  pause(): void;
  /** Reads from the server again. */
  resume(): void;
}

/**
 * Per-request credentials of an endpoint (its `auth`: a keychain secret or OAuth tokens). Asked for
 * on every HTTP request and WebSocket handshake, so secrets never sit in config objects and a
 * refreshed token is used at once.
 */
export interface UpstreamAuth {
  /**
   * The headers to add (lowercase names).
   * @throws TetherError AUTH_REQUIRED (nothing stored, sign-in expired), KEYCHAIN_UNAVAILABLE,
   *   UPSTREAM_UNREACHABLE (the authorization server cannot be reached to refresh)
   */
  headers(): Promise<Record<string, string>>;
  /**
   * The server answered HTTP 401 (or 403 `insufficient_scope`) to a request sent with `sent`.
   * Resolves when a retry with fresh {@link headers} may succeed (a refreshed token, a changed
   * keychain entry, a sign-in for a larger scope).
   * @throws TetherError AUTH_REQUIRED with a hint when retrying cannot help
   */
  rejected(sent: Record<string, string>, status: number, wwwAuthenticate?: string): Promise<void>;
  /** The AUTH_REQUIRED error for a final refusal (HTTP 401/403), with what the user can do. */
  refused(status: number, wwwAuthenticate?: string): TetherError;
}

/** What a transport needs to open. */
export interface UpstreamOptions {
  name: string;
  config: EndpointConfig;
  handlers: UpstreamHandlers;
  /** The endpoint's credentials, when its config has `auth`. */
  auth?: UpstreamAuth;
  /**
   * The endpoint's learned `x-mcp-header` annotations (one per endpoint, so a new connection knows
   * them at once); a connection without makes its own.
   */
  toolHeaders?: ToolParamHeaders;
}

/** What the network transports (Streamable HTTP, SSE, WebSocket) need besides. */
export interface NetworkUpstreamOptions extends UpstreamOptions {
  /** The server's URL (the endpoint's `url`, parsed). */
  url: URL;
  /** The endpoint's keep-alive agents (over its SSH tunnel, for an SSH endpoint). */
  agents: Agents;
  /** Largest message accepted from the server (bytes). */
  maxMessageBytes: number;
}
