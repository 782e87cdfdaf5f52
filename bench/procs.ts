/**
 * The bench's processes: what it spawned (killed on exit, even on Ctrl-C), and what /proc says
 * about them (memory in bytes, CPU time in ms). Linux only, as the bench is.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';

/** Pids this bench spawned (directly or through the SDK), killed on exit. */
const owned = new Set<number>();
/** Synchronous clean-ups run on exit (last registered first). */
const hooks: (() => void)[] = [];

/** Registers a pid to SIGKILL on exit. */
export function own(pid: number | null | undefined): void {
  if (pid) owned.add(pid);
}

/** Forgets a pid once it was stopped. */
export function disown(pid: number | null | undefined): void {
  if (pid) owned.delete(pid);
}

/** Registers a synchronous clean-up for exit (e.g. removing a temp dir). */
export function onExit(hook: () => void): void {
  hooks.push(hook);
}

/** True while a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** SIGKILLs `pid` if it is alive; never throws. */
export function killHard(pid: number): void {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/** Kills every owned process and runs the exit hooks. Synchronous, for the 'exit' event. */
export function cleanupSync(): void {
  for (const hook of hooks.splice(0).reverse()) {
    try {
      hook();
    } catch {
      // best effort
    }
  }
  for (const pid of owned) killHard(pid);
  owned.clear();
}

/** Cleans up on exit and on SIGINT/SIGTERM/SIGHUP (then exits 130). */
export function installCleanup(): void {
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\nbench: received ${sig}, cleaning up`);
      cleanupSync();
      process.exit(130);
    });
  }
}

/** Removes `dir` on exit. */
export function removeOnExit(dir: string): void {
  onExit(() => rmSync(dir, { recursive: true, force: true }));
}

/** A `kB` field of /proc/<pid>/status (VmRSS: resident now, VmHWM: peak resident), in bytes. */
export function memBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) process `pid` used so far, in ms; from /proc/<pid>/stat. */
export function cpuMs(pid: number): number | undefined {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name; utime and stime are fields 14 and 15 of the whole line.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** The process tree rooted at `pid` (pid first), from /proc/<pid>/task/<tid>/children. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const kids = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        for (const k of kids.split(/\s+/).filter(Boolean)) out.push(Number(k));
      } catch {
        // the task exited
      }
    }
  }
  return out;
}

/** The first two words of a process's command line, for notes. */
export function commandOf(pid: number, root: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .slice(0, 2)
      .map((a) => (a.startsWith(root) ? a.slice(root.length) : a))
      .join(' ');
  } catch {
    return '?';
  }
}

/**
 * Peak RSS (VmHWM, bytes) of the process that actually relays. A wrapper (a shell, an npx
 * launcher) relays through a descendant, so the tree is walked and the largest peak wins, unless
 * `rootOnly` (the tether shim alone: an engine it might have spawned is measured apart).
 */
export function peakRss(pid: number, rootOnly: boolean): { bytes: number | undefined; pid: number } {
  let best: { bytes: number | undefined; pid: number } = { bytes: undefined, pid };
  for (const p of rootOnly ? [pid] : processTree(pid)) {
    const hwm = memBytes(p, 'VmHWM');
    if (hwm !== undefined && (best.bytes === undefined || hwm > best.bytes)) best = { bytes: hwm, pid: p };
  }
  return best;
}
