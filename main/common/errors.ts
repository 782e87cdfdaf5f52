/**
 * Stable error codes and the one error type of MCP Tether.
 *
 * Every failure the engine, CLI or shim reports carries one of these codes. They cross the
 * control socket and the relay as JSON-RPC errors whose `data.code` is the code (JSON-RPC 2.0 §5.1),
 * so clients and tests can match on them; the message is for people and may change.
 */
export const ErrorCode = {
  /** endpoints.json is not valid JSON or does not match the schema; never overwritten. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** endpoints.json could not be read or written (permissions, disk). */
  CONFIG_IO: 'CONFIG_IO',
  /** A value given on the command line or over the control API is malformed. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A header that carries credentials was given as a plain (file-stored) header. */
  SECRET_IN_CONFIG: 'SECRET_IN_CONFIG',
  /** No endpoint with that name. */
  ENDPOINT_NOT_FOUND: 'ENDPOINT_NOT_FOUND',
  /** An endpoint with that name exists already. */
  ENDPOINT_EXISTS: 'ENDPOINT_EXISTS',
  /** The remote could not be reached (DNS, TCP, TLS, HTTP 5xx, closed stream). */
  UPSTREAM_UNREACHABLE: 'UPSTREAM_UNREACHABLE',
  /** The remote did not answer within the configured time. */
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  /** The remote answered with an HTTP status or payload that the transport cannot use. */
  UPSTREAM_PROTOCOL: 'UPSTREAM_PROTOCOL',
  /** The upstream session ended (server restart, expired session) while the request was in flight. */
  UPSTREAM_SESSION_LOST: 'UPSTREAM_SESSION_LOST',
  /** The remote wants credentials (HTTP 401/403), or none are stored: the hint says what to run. */
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  /** An OAuth sign-in failed: refused, timed out, or an authorization server MCP Tether must not trust. */
  AUTH_FAILED: 'AUTH_FAILED',
  /** No OS keychain (Secret Service, Keychain, Credential Manager) can be reached, or it is locked. */
  KEYCHAIN_UNAVAILABLE: 'KEYCHAIN_UNAVAILABLE',
  /** The SSH host key is not in any known_hosts file: `mcp-tether hosts trust` after checking it. */
  HOST_KEY_UNKNOWN: 'HOST_KEY_UNKNOWN',
  /** The SSH host key differs from the recorded one, or is revoked: never accepted silently. */
  HOST_KEY_MISMATCH: 'HOST_KEY_MISMATCH',
  /** SSH authentication failed (agent keys and identity files were refused). */
  SSH_AUTH_FAILED: 'SSH_AUTH_FAILED',
  /** The only usable identity file is encrypted and no passphrase is available. */
  SSH_KEY_PASSPHRASE_REQUIRED: 'SSH_KEY_PASSPHRASE_REQUIRED',
  /** The SSH server (or a jump host) could not be reached. */
  SSH_UNREACHABLE: 'SSH_UNREACHABLE',
  /** The SSH handshake did not finish in time. */
  SSH_TIMEOUT: 'SSH_TIMEOUT',
  /** The SSH server could not open a channel: a closed remote port, or forwarding not allowed. */
  SSH_CHANNEL_FAILED: 'SSH_CHANNEL_FAILED',
  /** The remote command of a stdio-over-SSH endpoint was not found (exit 127) or exited. */
  REMOTE_COMMAND_FAILED: 'REMOTE_COMMAND_FAILED',
  /**
   * The user disconnected the endpoint (`mcp-tether disconnect`, the tray, the UI): nothing is sent
   * to its server until `mcp-tether connect`.
   */
  ENDPOINT_DISCONNECTED: 'ENDPOINT_DISCONNECTED',
  /** The shim lost its engine while the request was in flight. */
  ENGINE_UNAVAILABLE: 'ENGINE_UNAVAILABLE',
  /** The engine could not be started or reached. */
  ENGINE_START_FAILED: 'ENGINE_START_FAILED',
  /** The client sent something that is not JSON-RPC 2.0, or a request before `initialize`. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** A line on stdin or the control socket exceeded the configured limit. */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** A control-API method that does not exist. */
  METHOD_NOT_FOUND: 'METHOD_NOT_FOUND',
  /** Anything else: a bug. The message says what happened. */
  INTERNAL: 'INTERNAL',
} as const;

/** One of {@link ErrorCode}'s values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** JSON-RPC 2.0 error codes (JSON-RPC 2.0 §5.1) plus the implementation-defined ones we use. */
export const JsonRpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Implementation-defined server error: every relay failure uses it, with `data.code` telling which. */
  SERVER_ERROR: -32000,
} as const;

/**
 * The structured data of a {@link TetherError} (never secrets). The members the engine decides on
 * are typed here; others (`path`, `line`, `column` of CONFIG_INVALID, `issues`…) are free-form.
 */
export interface TetherErrorDetails {
  /** What the user can do about it, when we know. */
  hint?: string;
  /** The HTTP status the server answered with (UPSTREAM_PROTOCOL, UPSTREAM_SESSION_LOST, AUTH_REQUIRED…). */
  status?: number;
  /** UPSTREAM_UNREACHABLE, SSH_UNREACHABLE: the socket error's code (`ECONNREFUSED`, `ENOTFOUND`…). */
  errno?: string;
  /**
   * UPSTREAM_UNREACHABLE: the request failed on a kept-alive socket the server had already closed
   * (ECONNRESET or EPIPE on a reused socket), so it was never processed and may be sent again.
   */
  staleSocket?: boolean;
  /** UPSTREAM_UNREACHABLE: the request was aborted on purpose (the connection is being closed). */
  aborted?: boolean;
  /**
   * UPSTREAM_SESSION_LOST: the id of the JSON-RPC request the server refused for its unknown
   * session (so it never ran and may be sent on a new session).
   */
  refusedId?: string | number;
  /** UPSTREAM_PROTOCOL: the server's era is not the one the endpoint assumed (see protocol/versions.ts). */
  eraMismatch?: boolean;
  /** The JSON-RPC error code of the server's error answer to a handshake request. */
  rpcCode?: number;
  /** INVALID_ARGUMENT: the port asked for is taken (EADDRINUSE). */
  taken?: boolean;
  [key: string]: unknown;
}

/** The `data` member of every JSON-RPC error we produce: the details plus the stable code. */
export interface TetherErrorData extends TetherErrorDetails {
  /** Stable machine-readable code. */
  code: ErrorCode;
}

/**
 * The error type of the engine, CLI and shim: a stable {@link ErrorCode}, a message for people,
 * and structured data (for example `{ path, line, column }` for CONFIG_INVALID). The error it wraps,
 * if any, is its `cause` (ES2022 error cause); the cause never crosses the control socket or the
 * relay (see {@link toJsonRpc}).
 */
export class TetherError extends Error {
  override readonly name = 'TetherError';
  /**
   * @param code stable code
   * @param message what went wrong, and what to do about it
   * @param data extra structured fields (never secrets)
   * @param options `cause`: the error this one wraps (for logs and debuggers)
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data: TetherErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** What the user can do about it (`data.hint`), when it says. */
  get hint(): string | undefined {
    // The data of an error received over the control socket is what the engine sent.
    const hint: unknown = this.data.hint;
    return typeof hint === 'string' ? hint : undefined;
  }

  /** The JSON-RPC `error` object for this error (JSON-RPC 2.0 §5.1). */
  toJsonRpc(jsonRpcCode: number = JsonRpcErrorCode.SERVER_ERROR): {
    code: number;
    message: string;
    data: TetherErrorData;
  } {
    return { code: jsonRpcCode, message: this.message, data: { ...this.data, code: this.code } };
  }

  /**
   * Rebuilds a TetherError from a JSON-RPC error object received over the control socket.
   * Unknown shapes become INTERNAL.
   */
  static fromJsonRpc(error: { message?: unknown; data?: unknown }): TetherError {
    const data = (typeof error.data === 'object' && error.data !== null ? error.data : {}) as Record<
      string,
      unknown
    >;
    const code = isErrorCode(data['code']) ? data['code'] : ErrorCode.INTERNAL;
    const { code: _omit, ...rest } = data;
    return new TetherError(code, typeof error.message === 'string' ? error.message : 'unknown error', rest);
  }
}

/** True when `value` is one of the {@link ErrorCode} strings. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCode, value);
}

/**
 * Wraps any thrown value as a TetherError (`fallback`, INTERNAL by default, unless it already is
 * one); the wrapped value is its `cause`.
 */
export function toTetherError(err: unknown, fallback: ErrorCode = ErrorCode.INTERNAL): TetherError {
  if (err instanceof TetherError) return err;
  return new TetherError(fallback, errorMessage(err), {}, { cause: err });
}

/** The message of any thrown value: an Error's `message`, else the value as a string. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
