/**
 * A lock file that names its owner's pid, so a lock left by a crashed process is recognised at
 * once (no stale timeout to wait out). Used for the engine's single instance and for "only one
 * shim starts the engine".
 */
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';

/** A lock that is held; {@link PidLock.release} removes it if it is still ours. */
export interface PidLock {
  readonly path: string;
  release(): void;
}

/** True when a process with that pid exists (signal 0 probes without sending). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): { pid: number | undefined; ageMs: number } | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    const ageMs = Date.now() - statSync(path).mtimeMs;
    const pid = /^\d+$/.test(text) ? Number(text) : undefined;
    return { pid, ageMs };
  } catch {
    return undefined;
  }
}

/**
 * Tries once to take the lock.
 * @returns the lock, or `{ heldBy }` with the live owner's pid (0 when the owner is still writing it)
 * @throws Error (fs errors other than EEXIST, e.g. EACCES)
 */
export function tryAcquirePidLock(path: string): PidLock | { heldBy: number } {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return {
        path,
        release() {
          const owner = readOwner(path);
          if (owner?.pid === process.pid) {
            try {
              unlinkSync(path);
            } catch {
              // already gone
            }
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    if (!owner) continue; // vanished between open and read: try again
    if (owner.pid === undefined) {
      // Being written by its creator right now, or garbage left by a crash mid-write.
      if (owner.ageMs < 2000) return { heldBy: 0 };
    } else if (isProcessAlive(owner.pid)) {
      return { heldBy: owner.pid };
    }
    // Stale: move it aside atomically, then make sure what we moved is the stale one we saw.
    const aside = `${path}.${process.pid}.stale`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    const moved = readOwner(aside);
    try {
      unlinkSync(aside);
    } catch {
      // ignore
    }
    if (moved?.pid !== undefined && moved.pid !== owner.pid && isProcessAlive(moved.pid)) {
      // We moved a fresh lock taken by someone else between our read and rename: give it back.
      return { heldBy: moved.pid };
    }
  }
  return { heldBy: 0 };
}
