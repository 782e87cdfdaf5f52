/**
 * A lock file that names its owner: pid and the process's start identity, so a lock left by a
 * crashed process is recognised at once (no stale timeout to wait out) and a lock whose pid was
 * reused by an unrelated process (after a reboot, or pid wrap-around) is not mistaken for a live
 * owner. Used for the engine's single instance and for "only one shim starts the engine" on
 * Linux and macOS. On Windows a named pipe held open is the lock instead ({@link tryAcquirePipeLock}):
 * the kernel removes it with its process, so it cannot go stale at all.
 *
 * File format: `<pid>\n<start identity>` (see {@link processStartId}); a file holding only a pid
 * (older versions) is judged by the pid alone.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';

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

/** This boot's id (Linux `/proc/sys/kernel/random/boot_id`), or undefined elsewhere. */
export function linuxBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * What identifies one run of a process, so a reused pid reads as another process:
 * - Linux: `<boot id>:<starttime>`, starttime being field 22 of `/proc/<pid>/stat` (clock ticks
 *   since boot; proc(5)); the boot id makes it unique across reboots.
 * - macOS: the start time `ps -o lstart= -p <pid>` prints (kinfo_proc's p_starttime, to the
 *   second; ps(1)), an absolute time, so no boot id is needed. Costs a `ps` run (~10 ms), only
 *   paid when a lock is found taken.
 * - Windows and others: undefined (Windows uses {@link tryAcquirePipeLock}).
 * @returns undefined as well when the process does not exist or cannot be inspected
 */
export function processStartId(
  pid: number,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  try {
    if (platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 2 (comm) is in parentheses and may itself hold spaces or ')': split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const startTime = fields[22 - 3]; // fields[0] is field 3 (state)
      const boot = linuxBootId();
      return startTime && boot ? `${boot}:${startTime}` : undefined;
    }
    if (platform === 'darwin') {
      const out = execFileSync('/bin/ps', ['-o', 'lstart=', '-p', String(pid)], {
        encoding: 'utf8',
        env: { LC_ALL: 'C', TZ: 'UTC' }, // the same text whatever the user's locale and time zone
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      return out || undefined;
    }
  } catch {
    // gone, or not ours to read
  }
  return undefined;
}

interface Owner {
  pid: number | undefined;
  startId: string | undefined;
  ageMs: number;
}

function readOwner(path: string): Owner | undefined {
  try {
    const [pidText = '', startId] = readFileSync(path, 'utf8').split('\n');
    const ageMs = Date.now() - statSync(path).mtimeMs;
    const pid = /^\d+$/.test(pidText.trim()) ? Number(pidText.trim()) : undefined;
    return { pid, startId: startId?.trim() || undefined, ageMs };
  } catch {
    return undefined;
  }
}

/**
 * True when the lock's owner still runs: the pid answers, and (when the lock recorded one) its
 * start identity is the recorded one. A pid that answers with another identity was reused.
 */
function ownerAlive(pid: number, startId: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false;
  if (startId === undefined) return true;
  const now = processStartId(pid);
  // A process we cannot inspect is not one of ours (same user): the lock's owner is gone.
  return now === startId;
}

/**
 * Tries once to take the lock file (Linux, macOS).
 * @returns the lock, or `{ heldBy }` with the live owner's pid (0 when the owner is still writing it)
 * @throws Error (fs errors other than EEXIST, e.g. EACCES)
 */
export function tryAcquirePidLock(path: string): PidLock | { heldBy: number } {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      const me = processStartId(process.pid);
      writeSync(fd, me ? `${process.pid}\n${me}\n` : String(process.pid));
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
    } else if (ownerAlive(owner.pid, owner.startId)) {
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
    if (
      moved?.pid !== undefined &&
      (moved.pid !== owner.pid || moved.startId !== owner.startId) &&
      ownerAlive(moved.pid, moved.startId)
    ) {
      // We moved a fresh lock taken by someone else between our read and rename: give it back.
      return { heldBy: moved.pid };
    }
  }
  return { heldBy: 0 };
}

/**
 * Windows: takes a lock by listening on a named pipe. Creating the first instance of a pipe name
 * that exists fails (libuv creates it with FILE_FLAG_FIRST_PIPE_INSTANCE and maps the
 * ERROR_ACCESS_DENIED to EADDRINUSE), and the kernel deletes the pipe when its process ends, so
 * the lock can neither be stolen nor left stale.
 * @returns the lock, or `{ heldBy: 0 }` when another process holds it (its pid is not known)
 * @throws Error other listen errors
 */
export function tryAcquirePipeLock(pipePath: string): Promise<PidLock | { heldBy: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve({ heldBy: 0 }) : reject(err),
    );
    server.listen(pipePath, () => resolve({ path: pipePath, release: () => server.close() }));
  });
}
