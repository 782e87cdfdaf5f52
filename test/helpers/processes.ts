/**
 * Real peers for the tests: free loopback ports, and @modelcontextprotocol/server-everything in its
 * HTTP modes, started and stopped by the harness.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EVERYTHING = `${ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `vi.waitFor` options for conditions that the harness's own processes bring about: generous, as
 * the CI machine has two cores shared by two test files at once (a slow pass is not a failure;
 * speed belongs to the benchmark). Spread it to change one: `{ ...POLL, timeout: 30_000 }`.
 */
export const POLL = { timeout: 20_000, interval: 50 } as const;

/** Resolves once a TCP connection to 127.0.0.1:port succeeds. */
function tryConnect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', (err) => reject(new Error(`nothing listens on 127.0.0.1:${port}`, { cause: err })));
  });
}

/**
 * Resolves once something accepts TCP connections on 127.0.0.1:port; rejects after `timeoutMs`.
 * Its own loop, not `vi.waitFor`: the bench (bench/upstream.ts) starts servers through it outside
 * Vitest, where `vi.waitFor` cannot run.
 */
export async function waitForPort(port: number, timeoutMs: number = POLL.timeout): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await tryConnect(port);
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, POLL.interval));
    }
  }
}

/** Resolves when the child has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A running server-everything. */
export interface Everything {
  port: number;
  /** The MCP URL: /mcp for streamableHttp, /sse for sse. */
  url: string;
  /** Kills it (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (a server restart: all sessions are lost). */
  restart(): Promise<void>;
}

/**
 * Starts server-everything (`streamableHttp` or `sse`) on a free port and waits until it listens.
 * It binds every interface; tests talk to it on 127.0.0.1 only.
 */
export async function startEverything(mode: 'streamableHttp' | 'sse', port?: number): Promise<Everything> {
  const p = port ?? (await freePort());
  let child: ChildProcess;
  const start = async () => {
    child = spawn(process.execPath, [EVERYTHING, mode], {
      env: { ...process.env, PORT: String(p) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.resume();
    await waitForPort(p);
  };
  await start();
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    child.kill(signal);
    await exited(child);
  };
  return {
    port: p,
    url: `http://127.0.0.1:${p}/${mode === 'sse' ? 'sse' : 'mcp'}`,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
  };
}
