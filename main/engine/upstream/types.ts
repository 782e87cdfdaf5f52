/**
 * The contract between the relay and the transports that reach a remote MCP server.
 */
import type { TetherError } from '../../common/errors.js';
import type { JsonRpcMessage, MessageInfo } from '../../common/jsonrpc.js';
import type { EndpointConfig, TransportKind } from '../../common/schemas.js';
import type { Agents } from './http.js';

/** A concrete transport (after auto-detection). */
export type ConcreteTransport = Exclude<TransportKind, 'auto'>;

/** What a transport reports to its owner. */
export interface UpstreamHandlers {
  /**
   * One message from the server. `text` is a single-line JSON text, exactly as the server sent it
   * unless it contained raw newlines (then it is the compact form of the same value).
   */
  message(text: string, parsed: unknown): void;
  /** The upstream session is gone for good (server restart, expired session, closed stream). */
  closed(error: TetherError): void;
  /** Something worth a line in the traffic log: an HTTP status, a stream opened or resumed. */
  event(type: string, detail: string): void;
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
   * Sends one message. Resolves once the transport has handed it over (and, for a Streamable HTTP
   * POST answered with a stream, once that stream ended). Responses arrive through
   * {@link UpstreamHandlers.message}.
   * @throws TetherError UPSTREAM_UNREACHABLE, UPSTREAM_PROTOCOL, UPSTREAM_SESSION_LOST, AUTH_REQUIRED
   *   when the message could not be delivered or its response can no longer arrive
   */
  send(msg: OutboundMessage): Promise<void>;
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
   * The server answered HTTP 401 to a request sent with `sent`. Resolves when a retry with fresh
   * {@link headers} may succeed (a refreshed token, a changed keychain entry).
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
