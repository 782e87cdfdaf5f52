/**
 * The engine's life: ten shims racing to start it (exactly one wins), `engine --detach`, a
 * foreground `engine` next to a running one, `shutdown`, the runtime dir's permissions, and
 * recovery from the lock and socket a SIGKILLed engine leaves behind.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { enginePidsForHome, isAlive } from '../helpers/faults-procs.js';
import { POLL, startEverything } from '../helpers/processes.js';
import { cli, cliOk, enginePid, killEngine, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

const { home, defer } = useTempHomes();

const socketOf = (h: Home) => join(h.dir, 'run', 'engine.sock');
const lockOf = (h: Home) => join(h.dir, 'run', 'engine.lock');

/** The pid printed by `engine --detach` ("engine running (pid N) on …"). */
function printedPid(stdout: string): number {
  const m = /engine running \(pid (\d+)\)/.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return Number(m![1]);
}

/** Stops the engine with `shutdown` and waits until the process is gone. */
async function shutdown(h: Home): Promise<void> {
  const pid = enginePid(h.dir);
  const r = await cli(h.env, ['shutdown']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/engine stopped/);
  if (pid) await vi.waitFor(() => expect(isAlive(pid), `engine ${pid} to exit`).toBe(false), POLL);
}

describe('engine lifecycle', () => {
  it('ten shims started at once with no engine all work, through exactly one engine', async () => {
    const server = await startEverything('streamableHttp');
    defer(() => server.kill());
    const h = home();
    await cliOk(h.env, ['add', 'ev', server.url, '--transport', 'streamable-http']);
    await shutdown(h); // `add` started one
    expect(existsSync(socketOf(h))).toBe(false);
    expect(enginePidsForHome(h.dir)).toEqual([]);

    const clients = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const c = await shimClient(h.env, 'ev');
        defer(() => c.client.close());
        return c;
      }),
    );
    await Promise.all(
      clients.map(async ({ client }, i) => {
        const r = await client.callTool({ name: 'echo', arguments: { message: `shim ${i}` } });
        expect(r.content).toEqual([{ type: 'text', text: `Echo: shim ${i}` }]);
      }),
    );

    const status = JSON.parse(await cliOk(h.env, ['status', '--json'])) as {
      engine: { pid: number };
      endpoints: { name: string; sessions: number }[];
    };
    expect(status.engine.pid).toBe(enginePid(h.dir));
    expect(enginePidsForHome(h.dir)).toEqual([status.engine.pid]);
    expect(status.endpoints.find((e) => e.name === 'ev')?.sessions).toBe(10);
  });

  it('engine --detach, a second engine, shutdown, and the runtime dir permissions', async () => {
    const h = home();
    const first = await cli(h.env, ['engine', '--detach']);
    expect(first.code, first.stderr).toBe(0);
    const pid = printedPid(first.stdout);
    expect(isAlive(pid)).toBe(true);
    expect(enginePid(h.dir)).toBe(pid);

    const second = await cli(h.env, ['engine', '--detach']);
    expect(second.code, second.stderr).toBe(0);
    expect(printedPid(second.stdout)).toBe(pid);

    const foreground = await cli(h.env, ['engine']);
    expect(foreground.code, foreground.stderr).toBe(0);
    expect(foreground.stdout).toMatch(/already running/);
    expect(foreground.stdout).toContain(String(pid));
    expect(isAlive(pid)).toBe(true);
    expect(enginePidsForHome(h.dir)).toEqual([pid]);

    expect(statSync(join(h.dir, 'run')).mode & 0o777).toBe(0o700);
    const sock = statSync(socketOf(h));
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);

    await shutdown(h);
    expect(existsSync(socketOf(h))).toBe(false);
    expect(existsSync(lockOf(h))).toBe(false);

    const again = await cli(h.env, ['shutdown']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/not running/);
    expect(existsSync(socketOf(h))).toBe(false);
  });

  it('a CLI command after the engine was SIGKILLed starts a fresh engine over the stale lock and socket', async () => {
    const h = home();
    await cliOk(h.env, ['list']);
    const old = enginePid(h.dir);
    expect(old).toBeTypeOf('number');
    killEngine(h.dir);
    await vi.waitFor(() => expect(isAlive(old!), `engine ${old} to die`).toBe(false), POLL);
    // What the crash left behind.
    expect(existsSync(lockOf(h))).toBe(true);
    expect(statSync(socketOf(h)).isSocket()).toBe(true);

    const r = await cli(h.env, ['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
    const fresh = enginePid(h.dir);
    expect(fresh).toBeTypeOf('number');
    expect(fresh).not.toBe(old);
    expect(isAlive(fresh!)).toBe(true);
    expect(enginePidsForHome(h.dir)).toEqual([fresh]);
    const status = JSON.parse(await cliOk(h.env, ['status', '--json'])) as { engine: { pid: number } };
    expect(status.engine.pid).toBe(fresh);
  });
});
