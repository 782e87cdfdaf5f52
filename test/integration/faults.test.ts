/**
 * Faults between the shim, the engine and the remote, each against real processes: the server
 * killed mid-call, the server restarted (sessions lost), the shim started before the server, and
 * the engine killed under a connected client.
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, vi } from 'vitest';
import { answerTo, echo, isAlive, startLongCall } from '../helpers/faults-procs.js';
import { type Everything, freePort, POLL, startEverything } from '../helpers/processes.js';
import {
  cliOk,
  enginePid,
  initializeLine,
  killEngine,
  rawShim,
  shimClient,
  type Home,
  useTempHomes,
} from '../helpers/tether.js';

/** Upper bound for a fault to reach the client as an error (the requirement). */
const FAULT_BOUND_MS = 2000;

const { home, defer } = useTempHomes();

async function server(port?: number): Promise<Everything> {
  const s = await startEverything('streamableHttp', port);
  defer(() => s.kill());
  return s;
}

async function client(h: Home, name: string): ReturnType<typeof shimClient> {
  const c = await shimClient(h.env, name);
  defer(() => c.client.close());
  return c;
}

/** The `data.code` of a JSON-RPC error the SDK client rejected with. */
function dataCode(err: unknown): unknown {
  expect(err).toBeInstanceOf(McpError);
  return ((err as McpError).data as { code?: unknown } | undefined)?.code;
}

describe('faults', () => {
  it('a tools/call in flight when the server is SIGKILLed fails within 2 s; the shim lives on', async () => {
    const s = await server();
    const h = home();
    // The long-running tool is read-only: without the opt-out it would wait for the server to come
    // back and be sent again (safe retry, resilience.test.ts).
    await cliOk(h.env, ['add', 'ev', s.url, '--transport', 'streamable-http', '--no-safe-retry']);
    const { client: c, transport } = await client(h, 'ev');

    const { settled: call } = await startLongCall(c);
    const killedAt = Date.now();
    await s.kill('SIGKILL');
    const r = await call;

    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(['UPSTREAM_UNREACHABLE', 'UPSTREAM_SESSION_LOST']).toContain(dataCode(r.error));
    expect(r.at - killedAt).toBeLessThan(FAULT_BOUND_MS);
    expect(transport.pid).toBeTypeOf('number');
    expect(isAlive(transport.pid!)).toBe(true);
  });

  it('after a server restart the next request re-opens the session without restarting the shim', async () => {
    const s = await server();
    const h = home();
    await cliOk(h.env, ['add', 'ev', s.url, '--transport', 'streamable-http']);
    const { client: c, transport } = await client(h, 'ev');
    const shimPid = transport.pid;
    await echo(c, 'before the restart');

    await s.restart();
    await echo(c, 'after the restart');

    expect(transport.pid).toBe(shimPid);
    expect(isAlive(shimPid!)).toBe(true);
    const status = JSON.parse(await cliOk(h.env, ['status', '--json'])) as {
      endpoints: { name: string; reconnects: number }[];
    };
    expect(status.endpoints.find((e) => e.name === 'ev')?.reconnects).toBeGreaterThanOrEqual(1);
    const traffic = (await cliOk(h.env, ['traffic', '--json', '--endpoint', 'ev', '--limit', '1000']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; session: string; event?: { type: string } });
    // The client's own session reconnected (not only the health probe's).
    expect(
      traffic.some((t) => t.kind === 'event' && t.event?.type === 'reconnect' && t.session !== 'health'),
    ).toBe(true);
  });

  it('a shim started while the server is down answers initialize with UPSTREAM_UNREACHABLE, then works once it is up', async () => {
    const port = await freePort();
    const h = home();
    await cliOk(h.env, ['add', 'ev', `http://127.0.0.1:${port}/mcp`, '--connect-timeout', '2000']);
    const raw = rawShim(h.env, 'ev');
    defer(() => raw.close());

    const sentAt = Date.now();
    raw.send(initializeLine(1));
    const failed = await answerTo(raw, 1, 2000 + 8000);
    expect(failed.error?.data?.code).toBe('UPSTREAM_UNREACHABLE');
    // Connect timeout plus slack for the shim to start and attach on a loaded machine.
    expect(Date.now() - sentAt).toBeLessThan(2000 + 3000);
    expect(raw.child.exitCode).toBeNull();
    expect(raw.child.signalCode).toBeNull();

    await server(port);
    raw.send(initializeLine(2));
    const init = await answerTo(raw, 2);
    expect(init.error).toBeUndefined();
    expect((init.result?.['serverInfo'] as { name?: string }).name).toBe('mcp-servers/everything');
    raw.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    raw.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'late server' } },
      }),
    );
    const called = await answerTo(raw, 3);
    expect(called.result?.['content']).toEqual([{ type: 'text', text: 'Echo: late server' }]);
  });

  it('when the engine is SIGKILLed, the call in flight gets ENGINE_UNAVAILABLE and the next request works', async () => {
    const s = await server();
    const h = home();
    await cliOk(h.env, ['add', 'ev', s.url, '--transport', 'streamable-http']);
    const { client: c, transport } = await client(h, 'ev');
    await echo(c, 'before the crash');
    const oldEngine = enginePid(h.dir);
    expect(oldEngine).toBeTypeOf('number');

    const { settled: call } = await startLongCall(c);
    const killedAt = Date.now();
    killEngine(h.dir);
    const r = await call;

    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(dataCode(r.error)).toBe('ENGINE_UNAVAILABLE');
    expect(r.at - killedAt).toBeLessThan(FAULT_BOUND_MS);
    await vi.waitFor(() => expect(isAlive(oldEngine!), 'the old engine to exit').toBe(false), POLL);

    await echo(c, 'after the crash');
    const newEngine = enginePid(h.dir);
    expect(newEngine).toBeTypeOf('number');
    expect(newEngine).not.toBe(oldEngine);
    expect(isAlive(newEngine!)).toBe(true);
    expect(isAlive(transport.pid!)).toBe(true);
  });
});
