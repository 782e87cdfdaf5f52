/**
 * `mcp-tether shim <name>`: the stdio MCP server a client such as Claude Desktop launches
 * (MCP 2025-11-25 §Transports/stdio). It attaches to the engine's control socket and relays
 * newline-delimited JSON-RPC both ways. stdout carries only protocol; diagnostics go to stderr.
 *
 * - Garbage on stdin never stops it: a non-JSON line gets -32700, a non-JSON-RPC one -32600, an
 *   oversized one -32600 with MESSAGE_TOO_LARGE, when an id can be recovered; a stderr line otherwise.
 * - Lines pass as bytes: the shim decodes a client line once (to validate it and note its id), or
 *   only scans the top level of a large one; what the engine sends back passes to the client as it
 *   comes, never gathered nor decoded, and each answer is marked with a `#<id>` line before it.
 * - If the engine dies, requests in flight get ENGINE_UNAVAILABLE errors, a new engine is started,
 *   and the shim re-attaches, handing over the client's `initialize` so the session carries on.
 *
 * Kept small: no schema library, no SDK, so it starts fast.
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { connectEngine } from '../common-node/control-client.js';
import { ErrorCode, JsonRpcErrorCode, TetherError, errorMessage, toTetherError } from '../common/errors.js';
import {
  errorResponseLine,
  idKey,
  inspectMessage,
  LARGE_LINE_BYTES,
  NestedValue,
  scanTopLevel,
  type JsonRpcId,
} from '../common/jsonrpc.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, sniffId, writeLine } from '../common-node/ndjson.js';
import { EngineLineReader } from './engine-lines.js';
import type { TetherPaths } from '../common-node/paths.js';

/** Where the shim reads and writes; process stdio by default, injectable for tests. */
export interface ShimIo {
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: NodeJS.WritableStream;
}

/** How the shim ended. */
export type ShimExit = { code: number };

const MAX_QUEUED_LINES = 10_000;

/** The `requestId` of `notifications/cancelled` params (decoded, or as scanned in `line`). */
function cancelledId(line: Buffer, params: unknown): JsonRpcId | undefined {
  let p = params;
  if (p instanceof NestedValue) {
    try {
      p = p.parse(line);
    } catch {
      return undefined; // not JSON: the engine answers -32700 and cancels nothing
    }
  }
  const rid = (p as { requestId?: unknown } | null | undefined)?.requestId;
  return typeof rid === 'string' || typeof rid === 'number' ? rid : undefined;
}

/**
 * Answers every request of the client with `error` (JSON-RPC error -32000, its message, and
 * `data.code` and `data.hint`) until stdin ends, so the client shows why its server cannot start
 * instead of a process that ended without a word. Notifications, responses and lines that are not
 * JSON get nothing; a batch gets one array of answers (JSON-RPC 2.0 §6).
 */
function refuseRequests(io: ShimIo, error: TetherError): Promise<void> {
  const { code, message, data } = error.toJsonRpc();
  return new Promise((resolve) => {
    const splitter = new LineSplitter(
      {
        bytes: (line) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(line.toString('utf8'));
          } catch {
            return;
          }
          const answers = (Array.isArray(parsed) ? parsed : [parsed])
            .map((m) => m as { id?: unknown; method?: unknown } | null)
            .filter(
              (m) => typeof m?.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number'),
            )
            .map((m) => errorResponseLine(m!.id as JsonRpcId, code, message, data));
          if (answers.length === 0) return;
          writeLine(io.stdout, Array.isArray(parsed) ? `[${answers.join(',')}]` : answers[0]!);
        },
        oversized: () => undefined,
      },
      DEFAULT_MAX_LINE_BYTES,
    );
    io.stdin.on('data', (c: Buffer) => splitter.push(c));
    io.stdin.on('end', () => {
      splitter.end();
      resolve();
    });
  });
}

/**
 * Runs the shim until stdin ends (exit 0). When attaching fails (an unknown endpoint, endpoints.json
 * that cannot be read, an engine that cannot start), the reason is one line on stderr and each
 * request of the client is answered with that error (its code in `data.code`, with a hint) until
 * stdin ends; then the exit code is 2 for an unknown endpoint (ENDPOINT_NOT_FOUND), else 1.
 */
export async function runShim(name: string, paths: TetherPaths, io: ShimIo): Promise<ShimExit> {
  const diag = (line: string) => io.stderr.write(`mcp-tether shim ${name}: ${line}\n`);
  const pending = new Map<string, JsonRpcId>();
  let initializeLine: string | undefined;
  let initialized = false;
  let socket: Socket | undefined;
  let queue: Buffer[] = [];
  let stdinEnded = false;
  let maxLineBytes = DEFAULT_MAX_LINE_BYTES;

  /** The reader of the engine connection in use (engine-lines.ts). */
  let reader: EngineLineReader | undefined;
  /** The shim's own lines held back while an answer from the engine is half written. */
  let held: string[] = [];

  const out = (line: string) => {
    if (reader?.midLine) held.push(line);
    else writeLine(io.stdout, line);
  };

  const flushHeld = () => {
    if (held.length === 0) return;
    const lines = held;
    held = [];
    writeLine(io.stdout, ...lines);
  };

  const replyError = (id: JsonRpcId, code: number, message: string, dataCode: ErrorCode) =>
    out(errorResponseLine(id, code, message, { code: dataCode }));

  /** Attaches to the engine (starting one if needed); resolves with the relay socket. */
  const attach = async (): Promise<Socket> => {
    const s = await connectEngine(paths);
    return new Promise<Socket>((resolve, reject) => {
      let attached = false;
      const lines: EngineLineReader = new EngineLineReader({
        first: (buf) => {
          let res: {
            result?: { maxMessageBytes?: number };
            error?: { message?: unknown; data?: unknown };
          };
          try {
            res = JSON.parse(buf.toString('utf8'));
          } catch {
            reject(
              new TetherError(
                ErrorCode.INTERNAL,
                'the engine answered attach with something that is not JSON',
              ),
            );
            return;
          }
          if (res.error) {
            s.destroy();
            reject(TetherError.fromJsonRpc(res.error));
            return;
          }
          attached = true;
          reader = lines;
          if (res.result?.maxMessageBytes) maxLineBytes = res.result.maxMessageBytes;
          resolve(s);
        },
        mark: onMark,
        pass: (piece) => io.stdout.write(piece),
      });
      s.on('data', (c: Buffer) => fromEngine(lines, c));
      s.on('error', () => undefined);
      s.once('close', () => {
        if (!attached)
          reject(
            new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'the engine closed the connection while attaching'),
          );
        else onEngineLost(s, lines);
      });
      const params: Record<string, unknown> = { endpoint: name, clientPid: process.ppid };
      if (initializeLine) params['resume'] = { initialize: initializeLine, initialized };
      s.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'shim/attach', params }) + '\n');
    });
  };

  /**
   * `#<id>`: the engine's mark that the next line answers request <id> (see shim/attach);
   * `#[<id>,…]` before a batch answer.
   */
  const onMark = (text: string) => {
    try {
      const mark = JSON.parse(text) as unknown;
      for (const id of Array.isArray(mark) ? (mark as unknown[]) : [mark])
        if (typeof id === 'string' || typeof id === 'number') pending.delete(idKey(id));
    } catch {
      diag('ignored a malformed answer mark from the engine');
    }
  };

  /**
   * One chunk from the engine: its answer bytes go to the client as they come (engine-lines.ts),
   * in one write (stdout is corked meanwhile).
   */
  const fromEngine = (lines: EngineLineReader, chunk: Buffer) => {
    io.stdout.cork();
    lines.push(chunk);
    if (!lines.midLine) flushHeld();
    io.stdout.uncork();
    // Backpressure: a client that stops reading stops our reading of the engine (which then stops
    // reading the server) instead of growing this process.
    if (io.stdout.writableNeedDrain && socket && !socket.isPaused()) {
      const s = socket;
      s.pause();
      io.stdout.once('drain', () => s.resume());
    }
  };

  let reattaching = false;
  /** @param lines the reader of the lost connection */
  const onEngineLost = (lost: Socket, lines: EngineLineReader) => {
    if (socket !== lost) return;
    // End an answer that broke off inside its line, so what follows reaches the client as lines of
    // its own. (Its request is still in flight: a mark counts once its whole line has passed.)
    if (lines.midLine) io.stdout.write('\n');
    if (reader === lines) reader = undefined;
    flushHeld();
    if (stdinEnded) return;
    socket = undefined;
    for (const id of pending.values()) {
      replyError(
        id,
        JsonRpcErrorCode.SERVER_ERROR,
        'mcp-tether: the engine stopped while this request was in flight; it is being restarted',
        ErrorCode.ENGINE_UNAVAILABLE,
      );
    }
    pending.clear();
    diag('lost the engine; starting a new one and re-attaching');
    if (reattaching) return;
    reattaching = true;
    void (async () => {
      for (let delay = 100; !stdinEnded; delay = Math.min(delay * 2, 5000)) {
        try {
          socket = await attach();
          reattaching = false;
          diag('re-attached');
          const lines = queue;
          queue = [];
          for (const l of lines) toEngine(l);
          return;
        } catch (err) {
          diag(`re-attach failed: ${errorMessage(err)}`);
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })();
  };

  const toEngine = (line: Buffer, id?: JsonRpcId) => {
    if (socket) {
      writeLine(socket, line);
      return;
    }
    if (queue.length >= MAX_QUEUED_LINES) {
      if (id !== undefined) {
        pending.delete(idKey(id));
        replyError(
          id,
          JsonRpcErrorCode.SERVER_ERROR,
          'mcp-tether: the engine is restarting and its queue is full',
          ErrorCode.ENGINE_UNAVAILABLE,
        );
      }
      return;
    }
    queue.push(line);
  };

  /**
   * One client line. A large one is not decoded: {@link scanTopLevel} reads its top-level members
   * (what a JSON.parse of megabytes would cost, saved); a syntax error inside its nested values is
   * then the engine's to answer (-32700, marked with the id noted here).
   */
  const fromClient = (line: Buffer) => {
    const top = line.length >= LARGE_LINE_BYTES ? scanTopLevel(line) : undefined;
    if (top) return fromClientMessage(line, top);
    const text = line.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      const id = sniffId(text);
      if (id !== undefined)
        replyError(
          id,
          JsonRpcErrorCode.PARSE_ERROR,
          'Parse error: the line is not valid JSON',
          ErrorCode.INVALID_MESSAGE,
        );
      else diag(`ignored a line that is not JSON: ${text.slice(0, 120)}`);
      return;
    }
    if (Array.isArray(parsed)) {
      // A batch (JSON-RPC 2.0 §6): the engine answers it as one; note its requests as in flight.
      for (const m of parsed) {
        const i = inspectMessage(m);
        if (typeof i !== 'string' && i.kind === 'request')
          pending.set(idKey(i.id as JsonRpcId), i.id as JsonRpcId);
      }
      toEngine(line);
      return;
    }
    fromClientMessage(line, parsed, text);
  };

  /** One client message (not a batch): `parsed` decoded whole, or its top-level members scanned. */
  const fromClientMessage = (line: Buffer, parsed: unknown, text?: string) => {
    const textOf = () => text ?? line.toString('utf8');
    const info = inspectMessage(parsed);
    if (typeof info === 'string') {
      const id = (parsed as { id?: unknown } | null)?.id;
      if (typeof id === 'string' || typeof id === 'number') {
        replyError(
          id,
          JsonRpcErrorCode.INVALID_REQUEST,
          `Invalid Request: ${info}`,
          ErrorCode.INVALID_MESSAGE,
        );
      } else diag(`ignored a line that is not JSON-RPC 2.0 (${info}): ${textOf().slice(0, 120)}`);
      return;
    }
    if (info.kind === 'request') {
      pending.set(idKey(info.id as JsonRpcId), info.id as JsonRpcId);
      if (info.method === 'initialize') {
        initializeLine = textOf();
        initialized = false;
      }
    } else if (info.method === 'notifications/initialized') {
      initialized = true;
    } else if (info.method === 'notifications/cancelled') {
      // The client wants no answer to a cancelled request, not even our engine-loss error.
      const rid = cancelledId(line, (parsed as { params?: unknown }).params);
      if (rid !== undefined) pending.delete(idKey(rid));
    }
    toEngine(line, info.kind === 'request' ? (info.id as JsonRpcId) : undefined);
  };

  try {
    socket = await attach();
  } catch (err) {
    const e = toTetherError(err, ErrorCode.ENGINE_START_FAILED);
    const hint = e.hint !== undefined ? ` ${e.hint}` : '';
    diag(`${e.message}${hint}`);
    const configBroken = e.code === ErrorCode.CONFIG_INVALID || e.code === ErrorCode.CONFIG_IO;
    const fix = configBroken
      ? `Fix ${paths.configFile} (\`mcp-tether list\` shows what is wrong), then restart this MCP server in your client.`
      : undefined;
    await refuseRequests(io, new TetherError(e.code, e.message, { ...e.data, hint: e.hint ?? fix }));
    return { code: e.code === ErrorCode.ENDPOINT_NOT_FOUND ? 2 : 1 };
  }

  return new Promise<ShimExit>((resolve) => {
    const splitter = new LineSplitter(
      {
        bytes: fromClient,
        oversized: (bytes, head) => {
          const id = sniffId(head);
          const msg = `Invalid Request: message of ${bytes}+ bytes exceeds the ${maxLineBytes}-byte limit`;
          if (id !== undefined)
            replyError(id, JsonRpcErrorCode.INVALID_REQUEST, msg, ErrorCode.MESSAGE_TOO_LARGE);
          else diag(msg);
        },
      },
      maxLineBytes,
    );
    io.stdin.on('data', (c: Buffer) => splitter.push(c));
    io.stdin.on('end', () => {
      splitter.end();
      stdinEnded = true;
      const s = socket;
      if (!s) return resolve({ code: 0 });
      // Let answers to the last requests arrive before leaving (bounded).
      const finish = () => {
        s.destroy();
        resolve({ code: 0 });
      };
      if (pending.size === 0) return finish();
      const t = setTimeout(finish, 2000);
      s.once('close', () => {
        clearTimeout(t);
        resolve({ code: 0 });
      });
      const check = setInterval(() => {
        if (pending.size === 0) {
          clearInterval(check);
          clearTimeout(t);
          finish();
        }
      }, 10);
    });
  });
}
