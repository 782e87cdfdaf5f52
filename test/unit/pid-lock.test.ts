/**
 * The pid lock file (main/common/pid-lock.ts): taken once, refused while its owner lives, taken
 * over at once from a dead owner, released only by its owner.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive, tryAcquirePidLock, type PidLock } from '../../main/common/pid-lock.js';

let dir: string;
let lockPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mt-lock-'));
  lockPath = join(dir, 'engine.lock');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

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
  it('takes a free lock, writes our pid, and releases it', () => {
    const lock = tryAcquirePidLock(lockPath);
    expect(isLock(lock)).toBe(true);
    expect(readFileSync(lockPath, 'utf8')).toBe(String(process.pid));
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
    expect(readFileSync(lockPath, 'utf8')).toBe(String(process.pid));
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

describe('isProcessAlive', () => {
  it('is true for us and our parent, false for a reaped child', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(process.ppid)).toBe(true);
    expect(isProcessAlive(deadPid())).toBe(false);
  });
});
