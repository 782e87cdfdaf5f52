/**
 * The control-socket client used by the CLI and the tray app (docs/architecture.md "Processes"),
 * and the launcher that starts a detached engine when none runs. Light on purpose: no schema
 * library is loaded here, so the shim, which shares the launcher, starts fast.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ControlMethod,
  ControlNotifications,
  ControlParams,
  ControlResult,
} from '../common/control-api.js';
import { ControlRpc } from '../common/control-rpc.js';
import { ErrorCode, TetherError } from '../common/errors.js';
import { LineSplitter } from './ndjson.js';
import type { TetherPaths } from './paths.js';

/** Opens a connection to the socket or pipe; rejects with the raw errno error (ENOENT, ECONNREFUSED…). */
export function connectSocket(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function isNoEngine(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * V8 options of a started engine: a small young generation. The engine keeps its traffic ring in
 * slabs outside the V8 heap and makes short-lived garbage only, so a 16 MiB semi-space (V8's
 * default) would mostly add resident memory, not speed.
 */
const ENGINE_NODE_OPTIONS = ['--max-semi-space-size=4'];

/** The CLI entry the launcher runs as `node <cli> engine`. */
const CLI_ENTRY = fileURLToPath(new URL('../cli/index.js', import.meta.url));

/** Options of {@link connectEngine}. */
export interface ConnectEngineOptions {
  /** Start a detached engine when none answers (default true). */
  autostart?: boolean;
  /** How long to wait for a started engine to listen (ms, default 15,000). */
  timeoutMs?: number;
}

/**
 * Connects to the engine's control socket, starting a detached engine first when none runs.
 * Many callers racing (ten shims at once) start exactly one engine: one of them takes a start lock
 * and spawns, the others wait for the socket.
 * @throws TetherError ENGINE_UNAVAILABLE when autostart is off and no engine runs;
 *   ENGINE_START_FAILED when a started engine did not listen in time (the message names its log)
 */
export async function connectEngine(paths: TetherPaths, opts: ConnectEngineOptions = {}): Promise<Socket> {
  try {
    return await connectSocket(paths.socketPath);
  } catch (err) {
    if (!isNoEngine(err)) throw err;
    if (opts.autostart === false) {
      throw new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'The MCP Tether engine is not running.', {
        hint: 'Start it with `mcp-tether engine --detach`.',
      });
    }
  }
  mkdirSync(paths.runtimeDir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
  const startLog = join(paths.logDir, 'engine-start.log');
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let spawned = false;
  let delay = 20;
  while (Date.now() < deadline) {
    try {
      return await connectSocket(paths.socketPath);
    } catch (err) {
      if (!isNoEngine(err)) throw err;
    }
    if (!spawned) {
      // Loaded only to start an engine: a shim attaching to a running one skips child_process
      // and crypto (docs/architecture.md "The relay": shim start).
      const { tryAcquirePidLock, tryAcquirePipeLock } = await import('./pid-lock.js');
      const lock =
        process.platform === 'win32'
          ? await tryAcquirePipeLock(`${paths.socketPath}-start`)
          : tryAcquirePidLock(join(paths.runtimeDir, 'start.lock'));
      if ('release' in lock) {
        try {
          // Re-check under the lock: another starter may have just finished.
          try {
            return await connectSocket(paths.socketPath);
          } catch (err) {
            if (!isNoEngine(err)) throw err;
          }
          const child = await spawnEngine(startLog);
          spawned = true;
          const sock = await waitForSocket(paths.socketPath, deadline, child, startLog);
          if (sock) return sock;
        } finally {
          lock.release();
        }
      }
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
  throw new TetherError(
    ErrorCode.ENGINE_START_FAILED,
    `The MCP Tether engine did not start listening on ${paths.socketPath} in time.`,
    { hint: `See ${startLog} and ${join(paths.logDir, 'engine.log')}.` },
  );
}

async function waitForSocket(
  socketPath: string,
  deadline: number,
  child: ChildProcess,
  startLog: string,
): Promise<Socket | undefined> {
  let delay = 10;
  while (Date.now() < deadline) {
    // An engine that exits at once with an error (a broken install) should not cost a long wait.
    if (child.exitCode !== null && child.exitCode !== 0) {
      const log = readFileSync(startLog, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new TetherError(
        ErrorCode.ENGINE_START_FAILED,
        `the engine exited with code ${child.exitCode} while starting:\n${log}`,
        {
          hint: `See ${startLog}.`,
        },
      );
    }
    try {
      return await connectSocket(socketPath);
    } catch (err) {
      if (!isNoEngine(err)) throw err;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  return undefined;
}

/**
 * True in the packaged app's processes (tray, `--engine`, `--shim`): an Electron main process
 * (`process.type === 'browser'`) that is not a development run (`process.defaultApp`). Its binary
 * has the `runAsNode` fuse off, so it starts the engine as `<binary> --engine` (main/app/entry.ts).
 */
export function isPackagedApp(): boolean {
  const p = process as NodeJS.Process & { type?: string; defaultApp?: boolean };
  return !!process.versions['electron'] && p.type === 'browser' && !p.defaultApp;
}

/**
 * The packaged app's arguments for a role without windows: Chromium's headless Ozone platform
 * first on Linux (a client's environment has no DISPLAY; Chromium docs/ozone.md), then `role`.
 */
export function headlessAppArgs(role: string[], platform: NodeJS.Platform = process.platform): string[] {
  return [...(platform === 'linux' ? ['--ozone-platform=headless'] : []), ...role];
}

async function spawnEngine(startLog: string): Promise<ChildProcess> {
  const { spawn } = await import('node:child_process');
  const fd = openSync(startLog, 'a', 0o600);
  try {
    const packaged = isPackagedApp();
    const args = packaged ? headlessAppArgs(['--engine']) : [...ENGINE_NODE_OPTIONS, CLI_ENTRY, 'engine'];
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      // Under a development Electron the same binary runs as plain Node for the engine.
      env: packaged ? process.env : { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * A JSON-RPC 2.0 client over the control socket: one JSON-RPC message per line, the bookkeeping of
 * requests and notifications in {@link ControlRpc}. Requests are typed by the contract in
 * `control-api.ts`; errors come back as TetherError with the engine's code.
 */
export class ControlClient {
  private readonly rpc: ControlRpc;

  /** Wraps a connected socket (see {@link connectEngine}). */
  constructor(private readonly socket: Socket) {
    this.rpc = new ControlRpc((message) => socket.write(message + '\n'));
    const splitter = new LineSplitter({
      line: (text) => this.rpc.receive(text),
      oversized: () =>
        this.rpc.close(new TetherError(ErrorCode.MESSAGE_TOO_LARGE, 'engine sent an oversized line')),
    });
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () =>
      this.rpc.close(
        new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'The connection to the MCP Tether engine closed.'),
      ),
    );
  }

  /** Connects (starting the engine unless `autostart: false`) and returns a client. */
  static async open(paths: TetherPaths, opts?: ConnectEngineOptions): Promise<ControlClient> {
    return new ControlClient(await connectEngine(paths, opts));
  }

  /**
   * Calls a control method.
   * @throws TetherError with the engine's code, or ENGINE_UNAVAILABLE if the connection drops
   */
  request<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    return this.rpc.request(method, params);
  }

  /** Subscribes to push notifications; returns an unsubscribe function. */
  onNotification<N extends keyof ControlNotifications>(
    method: N,
    cb: (params: ControlNotifications[N]) => void,
  ): () => void {
    return this.rpc.onNotification(method, cb);
  }

  /** A promise that settles when the connection closes. */
  closed(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.once('close', () => resolve());
    });
  }

  /** Closes the connection. */
  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
