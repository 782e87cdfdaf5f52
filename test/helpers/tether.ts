/**
 * Drives the built product as a user does: the `mcp-tether` CLI, the shim under the MCP SDK's
 * StdioClientTransport (as Claude Desktop launches it), and a raw line-level shim for bad input.
 * Every helper uses a private MCP_TETHER_HOME, so tests never touch the user's config.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { exited, ROOT } from './processes.js';

export const BIN = join(ROOT, 'bin/mcp-tether.js');

/** A private MCP_TETHER_HOME; `cleanup()` stops its engine and removes it. */
export interface Home {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/**
 * Makes a fresh home under the OS temp dir (short path: Unix socket paths are limited). Tests use
 * {@link useTempHomes}, which cleans up after them; this is for code outside Vitest (the bench).
 */
export function makeHome(): Home {
  const dir = mkdtempSync(join(tmpdir(), 'mt-'));
  const env: NodeJS.ProcessEnv = { ...process.env, MCP_TETHER_HOME: dir };
  // The engine honours proxy variables: a developer's own proxy must not see (or break) test traffic.
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY']) {
    delete env[k];
    delete env[k.toLowerCase()];
  }
  return {
    dir,
    env,
    cleanup: async () => {
      // Shims a test left running would start a new engine once this one stops: end them first.
      for (const pid of pidsForHome(dir).filter((p) => !pidsForHome(dir, true).includes(p))) kill(pid);
      await cli(env, ['shutdown']).catch(() => undefined);
      killEngine(dir);
      for (const pid of pidsForHome(dir)) kill(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The temporary homes of a test file, from {@link useTempHomes}. */
export interface TempHomes {
  /** A fresh home (see {@link makeHome}), cleaned up with the test or file that made it. */
  home(): Home;
  /**
   * Registers a clean-up (stop a server, close a client, remove a directory) that runs with the
   * test or file that registered it. A clean-up that throws is ignored: the others still run.
   */
  defer(undo: () => unknown): void;
}

/**
 * Temporary homes and the things a test starts for them, cleaned up by vitest hooks registered in
 * the calling file (or describe block). What a test makes or defers goes after that test; what a
 * `beforeAll` makes goes after the last test. Clean-ups run last registered first (a client is closed
 * before its home's engine stops, a home's engine before the server it used); a home that cannot
 * be cleaned up fails the hook. When a test fails, the engine logs of every home alive are printed
 * first (they go with the home), then whatever `onFail` adds (the home's traffic, say). Tests of
 * the file run one at a time (no `concurrent`): a clean-up belongs to the test running when it was
 * registered.
 */
export function useTempHomes(opts: { onFail?: (home: Home) => Promise<void> } = {}): TempHomes {
  type Undo = { home?: Home; run: () => unknown };
  const fileScope: Undo[] = [];
  const testScope: Undo[] = [];
  let inTest = false;
  const scope = () => (inTest ? testScope : fileScope);
  const undoAll = async (undos: Undo[]) => {
    const failed: unknown[] = [];
    for (const u of undos.splice(0).reverse()) {
      try {
        await u.run();
      } catch (err) {
        if (u.home) failed.push(err);
      }
    }
    if (failed.length) throw new AggregateError(failed, 'a temporary home could not be cleaned up');
  };
  beforeEach(() => {
    inTest = true;
  });
  afterEach(async ({ task }) => {
    inTest = false;
    if (task.result?.state === 'fail') {
      for (const { home } of [...fileScope, ...testScope]) {
        if (!home) continue;
        console.error(engineLogs(home.dir));
        await opts.onFail?.(home).catch((err: unknown) => console.error('onFail:', err));
      }
    }
    await undoAll(testScope);
  });
  afterAll(() => undoAll(fileScope));
  return {
    home: () => {
      const home = makeHome();
      scope().push({ home, run: () => home.cleanup() });
      return home;
    },
    defer: (run) => scope().push({ run }),
  };
}

/** The tails of a home's engine logs, for the report of a failed test. */
function engineLogs(homeDir: string, maxChars = 4000): string {
  return ['engine-start.log', 'engine.log']
    .map((f) => {
      let text: string;
      try {
        text = readFileSync(join(homeDir, 'logs', f), 'utf8');
      } catch {
        text = '(none)';
      }
      return `--- ${homeDir}/logs/${f}\n${text.slice(-maxChars)}`;
    })
    .join('\n');
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * Pids of the processes started for a home (their environment holds `MCP_TETHER_HOME=<dir>`):
 * shims, engines, CLI runs; with `enginesOnly`, those with an `engine` argument. Linux (/proc).
 */
export function pidsForHome(dir: string, enginesOnly = false): number[] {
  const wantEnv = `MCP_TETHER_HOME=${dir}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wantEnv)) continue;
      if (enginesOnly && !readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('engine'))
        continue;
      pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/**
 * Every regular file under `dir` that contains `needle`. A running engine writes atomically
 * (a temporary file renamed over the target), so an entry may vanish between the listing and
 * the read: such an entry is skipped, as it no longer exists.
 */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const gone = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile() && readFileSync(p).includes(needle)) hits.push(p);
      } catch (e) {
        if (!gone(e)) throw e;
      }
    }
  };
  walk(dir);
  return hits;
}

/** The pid in the engine's lock file (its first line), if any. */
export function enginePid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'run', 'engine.lock'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILLs the home's engine (a crash, as far as shims can tell). */
export function killEngine(dir: string): number | undefined {
  const pid = enginePid(dir);
  if (pid) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return pid;
}

/** What a CLI run printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mcp-tether <args>` to completion. */
export function cli(
  env: NodeJS.ProcessEnv,
  args: string[],
  input?: string,
  timeoutMs = 20_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`mcp-tether ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Runs the CLI and fails the test unless it exits 0. */
export async function cliOk(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const r = await cli(env, args);
  if (r.code !== 0)
    throw new Error(`mcp-tether ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * An SDK client connected through `mcp-tether shim <name>`, spawned by StdioClientTransport.
 * `options` go to the SDK Client (its capabilities); `beforeConnect` registers handlers on it first.
 */
export async function shimClient(
  env: NodeJS.ProcessEnv,
  name: string,
  options: ClientOptions = {},
  beforeConnect?: (client: Client) => void,
): Promise<{ client: Client; transport: StdioClientTransport; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'shim', name],
    env: env as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: 'tether-test', version: '1.0.0' }, options);
  beforeConnect?.(client);
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}

/** A shim driven line by line, for bad input and fault tests. */
export interface RawShim {
  child: ChildProcessWithoutNullStreams;
  send(line: string | Buffer): void;
  /** The next stdout line, parsed (rejects after timeoutMs). */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  stderr(): string;
  close(): Promise<void>;
}

/** Spawns `mcp-tether shim <name>` with piped stdio. */
export function rawShim(env: NodeJS.ProcessEnv, name: string): RawShim {
  const child = spawn(process.execPath, [BIN, 'shim', name], { env });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return {
    child,
    send: (line) => child.stdin.write(typeof line === 'string' ? line + '\n' : line),
    next: (timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const l = lines.shift();
        if (l !== undefined) return resolve(JSON.parse(l));
        const t = setTimeout(
          () => reject(new Error(`no line from the shim within ${timeoutMs} ms; stderr: ${err}`)),
          timeoutMs,
        );
        waiters.push((line) => {
          clearTimeout(t);
          resolve(JSON.parse(line));
        });
      }),
    stderr: () => err,
    close: async () => {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(t);
    },
  };
}

/** An `initialize` request line. */
export function initializeLine(id: number | string = 1, protocolVersion = '2025-06-18'): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw-test', version: '1' } },
  });
}
