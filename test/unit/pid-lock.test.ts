/**
 * The pid lock file (main/common-node/pid-lock.ts): taken once, refused while its owner lives, taken
 * over at once from a dead owner or from a live process that only reuses the owner's pid, released
 * only by its owner; and the Windows pipe lock's rule, run here on a Linux abstract socket.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  symlinkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  isProcessAlive,
  linuxBootId,
  processStartId,
  tryAcquirePidLock,
  tryAcquirePipeLock,
  type PidLock,
} from '../../main/common-node/pid-lock.js';
import { exited } from '../helpers/processes.js';

let dir: string;
let lockPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mt-lock-'));
  lockPath = join(dir, 'engine.lock');
});

const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await exited(c);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A live process unrelated to any lock: `sleep`, started under `name` (its comm) when given. */
function unrelated(name?: string): number {
  let cmd = 'sleep';
  if (name) {
    cmd = join(dir, name);
    symlinkSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim(), cmd);
  }
  const child = spawn(cmd, ['600'], { stdio: 'ignore' });
  children.push(child);
  expect(child.pid).toBeTypeOf('number');
  return child.pid!;
}

/** The pid of a process that has exited (reaped), so nothing answers to it now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const pid = Number(r.stdout);
  expect(isProcessAlive(pid)).toBe(false);
  return pid;
}

const isLock = (v: PidLock | { heldBy: number }): v is PidLock => 'release' in v;

describe('tryAcquirePidLock', () => {
  it('takes a free lock, writes our pid and start identity, and releases it', () => {
    const lock = tryAcquirePidLock(lockPath);
    expect(isLock(lock)).toBe(true);
    expect(readFileSync(lockPath, 'utf8')).toBe(`${process.pid}\n${processStartId(process.pid)}\n`);
    (lock as PidLock).release();
    expect(existsSync(lockPath)).toBe(false);
    // Free again.
    const again = tryAcquirePidLock(lockPath);
    expect(isLock(again)).toBe(true);
    (again as PidLock).release();
  });

  it('is refused while a live process holds it, naming that pid', () => {
    writeFileSync(lockPath, String(process.ppid));
    expect(tryAcquirePidLock(lockPath)).toEqual({ heldBy: process.ppid });
    expect(readFileSync(lockPath, 'utf8')).toBe(String(process.ppid));
    // The same with the owner's start identity recorded.
    const owned = `${process.ppid}\n${processStartId(process.ppid)}\n`;
    writeFileSync(lockPath, owned);
    expect(tryAcquirePidLock(lockPath)).toEqual({ heldBy: process.ppid });
    expect(readFileSync(lockPath, 'utf8')).toBe(owned);
  });

  it('takes over a lock whose pid now belongs to an unrelated live process (pid reuse)', () => {
    const pid = unrelated();
    expect(isProcessAlive(pid)).toBe(true);
    // Written by an engine that ran under this pid earlier in this boot, or in an earlier boot.
    for (const stale of [
      `${linuxBootId()}:1`,
      `00000000-0000-0000-0000-000000000000:${processStartId(pid)!.split(':')[1]}`,
    ]) {
      writeFileSync(lockPath, `${pid}\n${stale}\n`);
      const lock = tryAcquirePidLock(lockPath);
      expect(isLock(lock)).toBe(true);
      expect(readFileSync(lockPath, 'utf8')).toBe(`${process.pid}\n${processStartId(process.pid)}\n`);
      (lock as PidLock).release();
    }
    expect(isProcessAlive(pid)).toBe(true);
  });

  it('a second acquire by the same holder is refused too (one owner at a time)', () => {
    const lock = tryAcquirePidLock(lockPath) as PidLock;
    expect(tryAcquirePidLock(lockPath)).toEqual({ heldBy: process.pid });
    lock.release();
  });

  it('takes over at once from a dead owner, with no stale files left', () => {
    const dead = deadPid();
    writeFileSync(lockPath, String(dead));
    const lock = tryAcquirePidLock(lockPath);
    expect(isLock(lock)).toBe(true);
    expect(readFileSync(lockPath, 'utf8')).toBe(`${process.pid}\n${processStartId(process.pid)}\n`);
    expect(readdirSync(dir)).toEqual(['engine.lock']);
    (lock as PidLock).release();
  });

  it('treats a fresh file without a pid as being written (held), an old one as garbage', () => {
    writeFileSync(lockPath, '');
    expect(tryAcquirePidLock(lockPath)).toEqual({ heldBy: 0 });
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lockPath, old, old);
    const lock = tryAcquirePidLock(lockPath);
    expect(isLock(lock)).toBe(true);
    (lock as PidLock).release();
  });

  it('release() leaves alone a lock that someone else took over', () => {
    const lock = tryAcquirePidLock(lockPath) as PidLock;
    writeFileSync(lockPath, String(process.ppid));
    lock.release();
    expect(readFileSync(lockPath, 'utf8')).toBe(String(process.ppid));
  });

  it('throws for errors other than "exists" (a missing directory)', () => {
    expect(() => tryAcquirePidLock(join(dir, 'no', 'such', 'engine.lock'))).toThrow(/ENOENT/);
  });
});

describe('processStartId (Linux: boot id and /proc/<pid>/stat field 22)', () => {
  it('is stable for one process, differs between processes, and is undefined for a dead pid', () => {
    const mine = processStartId(process.pid);
    expect(mine).toMatch(/^[0-9a-f-]{36}:\d+$/);
    expect(mine!.startsWith(`${linuxBootId()}:`)).toBe(true);
    expect(processStartId(process.pid)).toBe(mine);
    const other = unrelated();
    expect(processStartId(other)).toMatch(/^[0-9a-f-]{36}:\d+$/);
    expect(processStartId(other)).not.toBe(processStartId(1));
    expect(processStartId(deadPid())).toBeUndefined();
    expect(processStartId(process.pid, 'win32')).toBeUndefined();
  });

  it('reads field 22 after a command name holding spaces and parentheses', () => {
    const pid = unrelated('a b) (c');
    // The same field read by ps(1), which knows where comm ends.
    const ps = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' });
    expect(ps.status).toBe(0);
    const start = Number(processStartId(pid)!.split(':')[1]);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    expect(stat).toContain('(a b) (c)');
    const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
    const startedAt = btime + start / ticks;
    expect(Math.abs(startedAt - Date.parse(ps.stdout.trim()) / 1000)).toBeLessThan(2);
  });
});

describe('tryAcquirePipeLock (the Windows lock; a Linux abstract socket here)', () => {
  it('is held by one listener at a time and free again once released', async () => {
    const name = `\0mt-lock-test-${process.pid}-${Date.now()}`;
    const first = await tryAcquirePipeLock(name);
    expect(isLock(first)).toBe(true);
    expect(await tryAcquirePipeLock(name)).toEqual({ heldBy: 0 });
    (first as PidLock).release();
    await vi.waitFor(async () => {
      const again = await tryAcquirePipeLock(name);
      expect(isLock(again)).toBe(true);
      (again as PidLock).release();
    });
  });
});

describe('isProcessAlive', () => {
  it('is true for us and our parent, false for a reaped child', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(process.ppid)).toBe(true);
    expect(isProcessAlive(deadPid())).toBe(false);
  });
});
