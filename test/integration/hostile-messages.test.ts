/**
 * Issue 10 §1: no message crashes the engine. A deeply nested client request while `traffic
 * --follow` watches, a deeply nested (pretty-printed) server answer, and the `traffic` CLI ending
 * with a clear error when the engine goes away.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { DEEP_LEVELS, startHostileServer, type HostileServer } from '../fixtures/hostile-server.js';
import { exited } from '../helpers/processes.js';
import {
  BIN,
  cli,
  cliOk,
  enginePid,
  initializeLine,
  killEngine,
  rawShim,
  type Home,
  type RawShim,
  useTempHomes,
} from '../helpers/tether.js';

const { home: tempHome, defer } = useTempHomes();

async function setup(): Promise<{ home: Home; server: HostileServer; shim: RawShim }> {
  const home = tempHome();
  const server = await startHostileServer();
  defer(() => server.close());
  await cliOk(home.env, ['add', 'h', server.url, '--transport', 'streamable-http']);
  const shim = rawShim(home.env, 'h');
  defer(() => shim.close());
  shim.send(initializeLine(1));
  expect((await shim.next(20_000))['result']).toBeDefined();
  shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return { home, server, shim };
}

/** `traffic --follow --json`, running; `out()` is what it printed so far. */
function follow(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, 'traffic', '--follow', '--json', '--limit', '1'], { env });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { child, out: () => out, err: () => err };
}

describe('a deeply nested message', () => {
  it('from a client, while traffic --follow runs, is relayed and recorded; the engine lives on', async () => {
    const { home, shim } = await setup();
    const pid = enginePid(home.dir)!;
    const watcher = follow(home.env);
    try {
      // The watcher is subscribed once it has printed the newest record.
      await vi.waitFor(() => expect(watcher.out()).toContain('"seq"'), { timeout: 20_000 });
      const nested = '['.repeat(DEEP_LEVELS) + ']'.repeat(DEEP_LEVELS);
      shim.send(
        `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"x":${nested}}}}`,
      );
      const answer = await shim.next(20_000);
      expect(answer['id']).toBe(2);
      expect(answer['result']).toBeDefined();
      // The watcher got both records (the message's depth cut, not the record), and still runs.
      const callRecords = () =>
        watcher
          .out()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .filter((l) => (JSON.parse(l) as { method?: string }).method === 'tools/call');
      await vi.waitFor(() => expect(callRecords()).toHaveLength(2), {
        timeout: 20_000,
      });
      expect(watcher.out()).toContain('nested deeper than');
      expect(watcher.child.exitCode).toBeNull();
      expect(enginePid(home.dir)).toBe(pid);
      process.kill(pid, 0);
      // Queries still work with the record in the ring.
      const q = await cli(home.env, ['traffic', '--json', '--method', 'tools/call']);
      expect(q.code, q.stderr).toBe(0);
      expect(q.stdout.trim().split('\n')).toHaveLength(2);
      // And the next request is relayed as usual.
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }));
      expect((await shim.next(20_000))['id']).toBe(3);
    } finally {
      watcher.child.kill('SIGKILL');
      await exited(watcher.child);
    }
  });

  it('as a list result the engine would keep as last known state: answered, and the engine lives on', async () => {
    const { home, shim } = await setup();
    const pid = enginePid(home.dir)!;
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { cursor: 'deep' } }));
    const answer = (await shim.next(20_000)) as { id: number; result?: unknown };
    expect(answer.id).toBe(5);
    expect(answer.result).toBeDefined();
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping' }));
    expect((await shim.next(20_000))['id']).toBe(6);
    expect(enginePid(home.dir)).toBe(pid);
    process.kill(pid, 0);
  });

  it('from the server, pretty-printed, still answers the request', async () => {
    const { home, shim } = await setup();
    const watcher = follow(home.env);
    try {
      await vi.waitFor(() => expect(watcher.out()).toContain('"seq"'), { timeout: 20_000 });
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'deep' } }));
      const answer = (await shim.next(20_000)) as { id: number; result: { deep: unknown } };
      expect(answer.id).toBe(7);
      let depth = 0;
      for (let v: unknown = answer.result.deep; Array.isArray(v); v = v[0]) depth++;
      expect(depth).toBe(DEEP_LEVELS); // verbatim: the nesting is not cut on the way to the client
      await vi.waitFor(() => expect(watcher.out()).toMatch(/"kind":"response".*"id":7/), { timeout: 20_000 });
      expect(watcher.child.exitCode).toBeNull();
    } finally {
      watcher.child.kill('SIGKILL');
      await exited(watcher.child);
    }
  });
});

describe('traffic', () => {
  it('--follow exits non-zero with a clear message when the engine goes away', async () => {
    const { home } = await setup();
    const watcher = follow(home.env);
    await vi.waitFor(() => expect(watcher.out()).toContain('"seq"'), { timeout: 20_000 });
    killEngine(home.dir);
    await exited(watcher.child);
    expect(watcher.child.exitCode).toBe(1);
    expect(watcher.err()).toMatch(/mcp-tether: the engine closed the connection/);
  });
});
