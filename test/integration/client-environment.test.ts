/**
 * The engine and shim where real clients run them: a stale engine lock whose pid now belongs to
 * an unrelated live process does not block the engine (main/common/pid-lock.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linuxBootId } from '../../main/common/pid-lock.js';
import { enginePidsForHome, isAlive } from '../helpers/faults-procs.js';
import { exited } from '../helpers/processes.js';
import { cli, enginePid, makeHome, type Home } from '../helpers/tether.js';

const undo: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const u of undo.splice(0).reverse()) await u().catch(() => undefined);
});

function home(): Home {
  const h = makeHome();
  undo.push(() => h.cleanup());
  return h;
}

/** A live process that has nothing to do with MCP Tether. */
function sleeper(): number {
  const child: ChildProcess = spawn('sleep', ['600'], { stdio: 'ignore' });
  undo.push(async () => {
    child.kill('SIGKILL');
    await exited(child);
  });
  return child.pid!;
}

describe('engine lock and pid reuse', () => {
  it('a lock left by an engine whose pid now names a live `sleep` does not block the engine', async () => {
    const h = home();
    const pid = sleeper();
    // What an engine that ran as `pid` earlier in this boot left behind.
    const lock = join(h.dir, 'run', 'engine.lock');
    mkdirSync(join(h.dir, 'run'), { mode: 0o700 });
    writeFileSync(lock, `${pid}\n${linuxBootId()}:1\n`);

    const r = await cli(h.env, ['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const engine = enginePid(h.dir);
    expect(engine).toBeTypeOf('number');
    expect(engine).not.toBe(pid);
    expect(enginePidsForHome(h.dir)).toEqual([engine]);
    expect(readFileSync(lock, 'utf8').split('\n')[0]).toBe(String(engine));
    expect(isAlive(pid)).toBe(true);
  });
});
