/**
 * Issue 10 §5: bounded memory per session. A server floods progress notifications at a client
 * that stopped reading (SIGSTOP): the shim stops reading the engine, the engine stops reading the
 * server (TCP backpressure all the way), its RSS stays under 250 MiB with the default 64 MiB
 * traffic ring, and a session that stays stalled is ended with a clear error.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startHostileServer } from '../fixtures/hostile-server.js';
import { exited } from '../helpers/processes.js';
import { BIN, cliOk, enginePid, initializeLine, useTempHomes } from '../helpers/tether.js';

const { home: tempHome, defer } = useTempHomes();

/** The resident set size of a process (bytes), from /proc. */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/**
 * A client process as an MCP host is one: it runs the shim with pipes and copies its stdin to the
 * shim and the shim's stdout to its own, reading only as fast as its own stdout is read.
 */
function client(env: NodeJS.ProcessEnv, name: string) {
  const script = `const { spawn } = require('node:child_process');
const shim = spawn(process.execPath, [${JSON.stringify(BIN)}, 'shim', ${JSON.stringify(name)}], { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(shim.stdin);
shim.stdout.pipe(process.stdout);
shim.on('exit', (code) => process.exit(code ?? 1));`;
  const child = spawn(process.execPath, ['-e', script], { env });
  defer(async () => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited(child);
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const answer = async (id: number) => {
    let found: Record<string, unknown> | undefined;
    await vi.waitFor(
      () => {
        found = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m['id'] === id);
        expect(found).toBeDefined();
      },
      { timeout: 60_000, interval: 200 },
    );
    return found!;
  };
  return { child, send: (line: string) => child.stdin.write(line + '\n'), answer, lines };
}

describe('a flood to a client that stopped reading', () => {
  it('is held back at the server; the engine stays small; the stalled session ends with a clear error', async () => {
    const server = await startHostileServer();
    defer(() => server.close());
    const home = tempHome();
    await cliOk(home.env, ['add', 'flood', server.url, '--transport', 'streamable-http']);
    const file = join(home.dir, 'endpoints.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as { settings?: Record<string, unknown> };
    config.settings = { ...config.settings, stalledClientMs: 5000 };
    writeFileSync(file, JSON.stringify(config));

    const c = client(home.env, 'flood');
    c.send(initializeLine(1));
    expect((await c.answer(1))['result']).toBeDefined();
    c.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    const count = 500_000;
    c.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'flood', arguments: { count, bytes: 1000 }, _meta: { progressToken: 'p' } },
      }),
    );
    await vi.waitFor(() => expect(server.flooded()).toBeGreaterThan(2000), { timeout: 30_000 });
    c.child.kill('SIGSTOP');
    const pid = enginePid(home.dir)!;

    // The server is held back: what it has written stops growing, far from the whole flood.
    let peak = 0;
    let last = -1;
    await vi.waitFor(
      () => {
        peak = Math.max(peak, rss(pid));
        const now = server.flooded();
        const settled = now === last;
        last = now;
        expect(settled).toBe(true);
      },
      { timeout: 60_000, interval: 1500 },
    );
    expect(server.flooded()).toBeLessThan(count / 2);
    // The stalled session is ended (settings.stalledClientMs) and the engine stays small.
    await vi.waitFor(
      async () => {
        peak = Math.max(peak, rss(pid));
        const t = await cliOk(home.env, ['traffic', '--json', '--endpoint', 'flood', '--limit', '50']);
        expect(t).toContain('"session-ended"');
      },
      { timeout: 60_000, interval: 500 },
    );
    expect(peak).toBeLessThan(250 * 1024 * 1024);

    // The client wakes up: it reads the backlog, then its request's clear error.
    c.child.kill('SIGCONT');
    const failed = (await c.answer(2)) as { error: { message: string; data: { code: string } } };
    expect(failed.error.data.code).toBe('UPSTREAM_SESSION_LOST');
    expect(failed.error.message).toMatch(/the client read nothing for 5000 ms/);
    // The next request opens a new upstream session.
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }));
    expect((await c.answer(3))['result']).toEqual({});
    expect(rss(pid)).toBeLessThan(250 * 1024 * 1024);
  }, 240_000);
});
