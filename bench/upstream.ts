/**
 * The one upstream every path reaches: @modelcontextprotocol/server-everything in `streamableHttp`
 * mode on a free loopback port, with bench/upstream-preload.ts preloaded (it raises the request
 * body limit to 64 MiB and counts POSTs per MCP-Protocol-Version). Started, restarted (between cases, so the event store of its sessions
 * does not grow for the whole run) and stopped by the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EVERYTHING, ROOT, exited, freePort, waitForPort } from '../test/helpers/processes.js';
import { disown, own } from './procs.js';
import { sleep, tailOf } from './stats.js';

const PRELOAD = fileURLToPath(new URL('./upstream-preload.ts', import.meta.url));
/** The prefix of the probe's answer lines (bench/upstream-preload.ts writes them). */
const PROBE_PREFIX = '[bench-probe] ';

/** In-session POSTs and distinct sessions per MCP-Protocol-Version header value. */
export type ProbeCounts = Record<string, { posts: number; sessions: number }>;

/** The running upstream. */
export interface Upstream {
  /** `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** The probe's running totals since the last (re)start; undefined if it did not answer in 2 s. */
  probe(): Promise<ProbeCounts | undefined>;
  /** Kills it and starts it again on the same port: every session is gone. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts server-everything (Streamable HTTP) with the probe and waits until it listens. */
export async function startUpstream(): Promise<Upstream> {
  const port = await freePort();
  let child: ChildProcess;
  let stderrTail: () => string = () => '';
  let waiters: ((counts: ProbeCounts) => void)[] = [];
  const start = async () => {
    // tsx loads the preload (TypeScript); it costs load time only.
    child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', pathToFileURL(PRELOAD).href, EVERYTHING, 'streamableHttp'],
      // stdout gets a log line per request: discarded cheaply.
      { cwd: ROOT, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    own(child.pid);
    stderrTail = tailOf(child.stderr);
    waiters = [];
    let partial = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith(PROBE_PREFIX)) continue;
        try {
          waiters.shift()?.(JSON.parse(line.slice(PROBE_PREFIX.length)) as ProbeCounts);
        } catch {
          // a garbled line: that snapshot is lost
        }
      }
    });
    await Promise.race([
      waitForPort(port, 30_000),
      exited(child).then(() => {
        throw new Error(`the upstream exited early: ${stderrTail()}`);
      }),
    ]);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited(child);
    disown(child.pid);
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    probe: async () => {
      if (child.exitCode !== null) return undefined;
      const answer = new Promise<ProbeCounts>((resolve) => waiters.push(resolve));
      child.kill('SIGUSR2');
      const result = await Promise.race([answer, sleep(2000).then(() => undefined)]);
      if (result === undefined) waiters = [];
      return result;
    },
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}

/** Adds the POSTs and sessions counted between two probe snapshots to `into`. */
export function addProbeDelta(into: ProbeCounts, before?: ProbeCounts, after?: ProbeCounts): void {
  if (!before || !after) return;
  for (const [version, a] of Object.entries(after)) {
    const b = before[version] ?? { posts: 0, sessions: 0 };
    const posts = a.posts - b.posts;
    const sessions = a.sessions - b.sessions;
    if (posts === 0 && sessions === 0) continue;
    const e = (into[version] ??= { posts: 0, sessions: 0 });
    e.posts += posts;
    e.sessions += sessions;
  }
}
