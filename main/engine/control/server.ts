/**
 * The control-socket server (docs/architecture.md "Processes"): JSON-RPC 2.0, one JSON object per
 * line, on a Unix domain socket (named pipe on Windows). Params are validated against the contract
 * in `main/common/control-api.ts`; handler errors become JSON-RPC errors with `data.code`.
 * `shim/attach` turns a connection into a raw relay for one MCP session.
 */
import { chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import {
  controlMethods,
  type ControlMethod,
  type ControlNotifications,
  type ControlParsedParams,
  type ControlResult,
} from '../../common/control-api.js';
import { ErrorCode, JsonRpcErrorCode, toTetherError } from '../../common/errors.js';
import { validationIssues } from '../../common/validation.js';
import { errorResponseLine, type JsonRpcId } from '../../common/jsonrpc.js';
import { LineSplitter, sniffId, writeLine } from '../../common-node/ndjson.js';
import { safeStringify } from '../../common/safe-json.js';
import { NO_SECRETS, redactSerialized, type SecretPatterns } from '../secrets/redact.js';

/** A relay installed on a connection by `shim/attach`. */
export interface AttachedRelay {
  /** One line from the shim, as bytes. */
  line(raw: Buffer): void;
  /** A line over the limit arrived; `id` was recovered from its start when possible. */
  oversized(bytes: number, id: JsonRpcId | undefined): void;
  closed(): void;
  /**
   * Backpressure: once more than `maxQueuedBytes` wait to be written to the shim, `congested(true)`;
   * when they have been written, `congested(false)`.
   */
  backpressure?: { maxQueuedBytes: number; congested(on: boolean): void };
}

/** One client connection, as handlers see it. */
export interface ControlConnection {
  /** Sends a push notification. Dropped when the client reads too slowly (over 16 MiB queued). */
  notify<N extends keyof ControlNotifications>(method: N, params: ControlNotifications[N]): void;
  /** Writes lines, as text or UTF-8 bytes, each followed by a newline (relay mode). */
  writeLine(...lines: (string | Buffer)[]): void;
  /** Runs `cb` when the connection closes. */
  onClose(cb: () => void): void;
  /** Ends the connection. */
  end(): void;
}

/** A peer that exchanges whole messages (a WebSocket), for {@link ControlServer.serveMessages}. */
export interface MessagePeer {
  send(text: string): void;
  /** Bytes queued and not yet sent (notifications are dropped above 16 MiB). */
  bufferedBytes(): number;
  close(): void;
}

/** The attach handler returns its result and the relay to install. */
interface AttachOutcome {
  result: ControlResult<'shim/attach'>;
  relay: AttachedRelay;
}

/** Handlers for every method of the contract. */
export type ControlHandlers = {
  [M in Exclude<ControlMethod, 'shim/attach'>]: (
    params: ControlParsedParams<M>,
    conn: ControlConnection,
  ) => ControlResult<M> | Promise<ControlResult<M>>;
} & {
  'shim/attach': (
    params: ControlParsedParams<'shim/attach'>,
    conn: ControlConnection,
  ) => AttachOutcome | Promise<AttachOutcome>;
};

const MAX_QUEUED_NOTIFY_BYTES = 16 * 1024 * 1024;

/** See the module comment. */
export class ControlServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /**
   * @param handlers one per method
   * @param maxLineBytes longest accepted line (bytes)
   * @param log diagnostics sink
   * @param secrets the known secrets, masked in everything this server sends but relayed messages
   */
  constructor(
    private readonly handlers: ControlHandlers,
    private readonly maxLineBytes: () => number,
    private readonly log: (line: string) => void,
    private readonly secrets: () => SecretPatterns = () => NO_SECRETS,
  ) {}

  /**
   * One outgoing message (a result, an error, a notification) as a line: never throws (see
   * common/safe-json), and known secrets are masked (a server's text in `lastError`, a doctor
   * detail, an error message).
   */
  private serialize(message: unknown): string {
    return redactSerialized(message, safeStringify(message), this.secrets());
  }

  /**
   * Listens on the socket path (mode 0600) or pipe.
   * @throws Error from `listen` (EADDRINUSE when another engine owns it)
   */
  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(path, () => {
        server.removeListener('error', reject);
        if (process.platform !== 'win32') chmodSync(path, 0o600);
        this.server = server;
        resolve();
      });
    });
  }

  /** Stops listening and ends every connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * Serves one message-framed peer (the browser inspector's WebSocket: one JSON-RPC message per
   * frame) through the same dispatch as socket connections. `shim/attach` is refused on it: a relay
   * needs the socket's line framing.
   * @returns what the peer's transport calls for each message received and when it closes
   */
  serveMessages(peer: MessagePeer): { message(text: string): void; closed(): void } {
    const closers: (() => void)[] = [];
    const conn: ControlConnection = {
      notify: (method, params) => {
        if (peer.bufferedBytes() > MAX_QUEUED_NOTIFY_BYTES) return;
        this.guard(`notify ${method}`, () => peer.send(this.serialize({ jsonrpc: '2.0', method, params })));
      },
      writeLine: (...lines) =>
        lines.forEach((l) => peer.send(typeof l === 'string' ? l : l.toString('utf8'))),
      onClose: (cb) => closers.push(cb),
      end: () => peer.close(),
    };
    return {
      message: (text) =>
        void this.handle(
          text,
          conn,
          () => undefined,
          () => undefined,
          false,
        ),
      closed: () => {
        for (const cb of closers.splice(0)) cb();
      },
    };
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const closers: (() => void)[] = [];
    let relay: AttachedRelay | undefined;
    let attaching = false;
    const queued: Buffer[] = [];
    let congested = false;
    /** After a relay write: reports a shim that does not read fast enough (see AttachedRelay). */
    const checkQueue = () => {
      const bp = relay?.backpressure;
      if (!bp || congested || socket.writableLength <= bp.maxQueuedBytes) return;
      congested = true;
      this.guard('relay', () => bp.congested(true));
      socket.once('drain', () => {
        congested = false;
        this.guard('relay', () => bp.congested(false));
      });
    };
    const conn: ControlConnection = {
      notify: (method, params) => {
        if (socket.writableLength > MAX_QUEUED_NOTIFY_BYTES) return;
        this.guard(`notify ${method}`, () =>
          socket.write(this.serialize({ jsonrpc: '2.0', method, params }) + '\n'),
        );
      },
      writeLine: (...lines) => {
        writeLine(socket, ...lines);
        checkQueue();
      },
      onClose: (cb) => closers.push(cb),
      end: () => socket.end(),
    };
    const onControlLine = (raw: Buffer) => {
      if (attaching) {
        queued.push(raw);
        return;
      }
      if (relay) {
        const r = relay;
        this.guard('relay', () => r.line(raw));
        return;
      }
      void this.handle(
        raw.toString('utf8'),
        conn,
        (r) => {
          relay = r;
        },
        (on) => {
          attaching = on;
          if (!on) {
            const lines = queued.splice(0);
            for (const l of lines) onControlLine(l);
          }
        },
      );
    };
    const splitter = new LineSplitter(
      {
        bytes: onControlLine,
        oversized: (bytes, head) => {
          const id = sniffId(head);
          const r = relay;
          if (r) this.guard('relay', () => r.oversized(bytes, id));
          else
            socket.write(
              errorResponseLine(
                id ?? null,
                JsonRpcErrorCode.INVALID_REQUEST,
                `line of ${bytes}+ bytes exceeds the limit`,
                { code: ErrorCode.MESSAGE_TOO_LARGE },
              ) + '\n',
            );
        },
      },
      this.maxLineBytes() + 1024,
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      const r = relay;
      if (r) this.guard('relay', () => r.closed());
      for (const cb of closers) this.guard('close', cb);
    });
  }

  /**
   * Runs `fn`, logging instead of throwing: nothing one connection or message does (a handler's
   * bug, a listener that throws) may escape into the socket's event handlers and end the engine.
   */
  private guard(what: string, fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.log(`control ${what} failed: ${(err as Error).stack ?? String(err)}`);
    }
  }

  private async handle(
    text: string,
    conn: ControlConnection,
    installRelay: (r: AttachedRelay) => void,
    setAttaching: (on: boolean) => void,
    allowAttach = true,
  ): Promise<void> {
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      conn.writeLine(
        errorResponseLine(null, JsonRpcErrorCode.PARSE_ERROR, 'Parse error', {
          code: ErrorCode.INVALID_MESSAGE,
        }),
      );
      return;
    }
    const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : null;
    const method = msg.method;
    if (typeof method !== 'string' || !Object.hasOwn(controlMethods, method)) {
      if (id !== null) {
        conn.writeLine(
          errorResponseLine(id, JsonRpcErrorCode.METHOD_NOT_FOUND, `unknown method ${String(method)}`, {
            code: ErrorCode.METHOD_NOT_FOUND,
          }),
        );
      }
      return;
    }
    const m = method as ControlMethod;
    if (m === 'shim/attach' && !allowAttach) {
      if (id !== null)
        conn.writeLine(
          errorResponseLine(id, JsonRpcErrorCode.INVALID_REQUEST, 'shim/attach needs the control socket', {
            code: ErrorCode.INVALID_ARGUMENT,
          }),
        );
      return;
    }
    const parsed = controlMethods[m].params.safeParse(msg.params ?? {});
    if (!parsed.success) {
      const issues = validationIssues(parsed.error);
      const issue = issues[0]!;
      const at = issue.path.length ? `${issue.path.join('.')}: ` : '';
      conn.writeLine(
        errorResponseLine(id, JsonRpcErrorCode.INVALID_PARAMS, `${at}${issue.message}`, {
          // A schema may name a more precise code for its issue (SECRET_IN_CONFIG in schemas.ts).
          code: issue.code ?? ErrorCode.INVALID_ARGUMENT,
          // Every issue, so a form can mark all its invalid fields at once (the message has the first).
          issues: issues.map((i) => ({ path: i.path, message: i.message })),
        }),
      );
      return;
    }
    const isAttach = m === 'shim/attach';
    if (isAttach) setAttaching(true);
    try {
      const handler = this.handlers[m] as (p: unknown, c: ControlConnection) => unknown;
      const out = await handler(parsed.data, conn);
      if (isAttach) {
        const { result, relay } = out as AttachOutcome;
        conn.writeLine(this.serialize({ jsonrpc: '2.0', id, result }));
        installRelay(relay);
      } else if (id !== null) {
        conn.writeLine(this.serialize({ jsonrpc: '2.0', id, result: out ?? {} }));
      }
    } catch (err) {
      const e = toTetherError(err);
      if (e.code === ErrorCode.INTERNAL)
        this.log(`control ${m} failed: ${(err as Error).stack ?? e.message}`);
      if (id !== null) {
        const jr = e.toJsonRpc(
          e.code === ErrorCode.INVALID_ARGUMENT
            ? JsonRpcErrorCode.INVALID_PARAMS
            : JsonRpcErrorCode.SERVER_ERROR,
        );
        conn.writeLine(this.serialize({ jsonrpc: '2.0', id, error: jr }));
      }
    } finally {
      if (isAttach) setAttaching(false);
    }
  }
}
