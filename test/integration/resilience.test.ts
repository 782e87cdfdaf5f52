/**
 * Sessions that survive real networks (issue 9), against real processes (the CLI, a shim under the
 * SDK client, the engine) and a real SDK server whose tool annotations the test sets: safe retry
 * across a server restart (counting server-side invocations), offline start from the last known
 * state, and a Disconnect that closes every connection.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, vi } from 'vitest';
import { POLL } from '../helpers/processes.js';
import { AnnotatedServer } from '../fixtures/annotated-server.js';
import { isAlive, settle, type Settled } from '../helpers/faults-procs.js';
import { startKeyring } from '../helpers/keyring.js';
import {
  cli,
  cliOk,
  enginePid,
  filesContaining,
  shimClient,
  type Home,
  useTempHomes,
} from '../helpers/tether.js';

const { home, defer } = useTempHomes();

async function server(): Promise<AnnotatedServer> {
  const s = new AnnotatedServer();
  await s.start();
  defer(() => s.stop());
  return s;
}

async function client(
  h: Home,
  name: string,
  options: ClientOptions = {},
  beforeConnect?: (c: Client) => void,
): ReturnType<typeof shimClient> {
  const c = await shimClient(h.env, name, options, beforeConnect);
  defer(() => c.client.close());
  return c;
}

/** The `data.code` of a JSON-RPC error the SDK client rejected with. */
function dataCode(err: unknown): unknown {
  expect(err).toBeInstanceOf(McpError);
  return ((err as McpError).data as { code?: unknown } | undefined)?.code;
}

interface Rec {
  kind: string;
  session: string;
  method?: string;
  event?: { type: string; detail: string };
}

async function traffic(h: Home, name: string): Promise<Rec[]> {
  return (await cliOk(h.env, ['traffic', '--json', '--endpoint', name, '--limit', '2000']))
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Rec);
}

async function statusOf(h: Home, name: string) {
  const s = JSON.parse(await cliOk(h.env, ['status', name, '--json'])) as {
    endpoints: { name: string; state: string; lastKnown?: { savedAt: string; ageMs: number } }[];
  };
  return s.endpoints.find((e) => e.name === name)!;
}

/** A server, a home with endpoint `an` for it (`addArgs` appended to `add`), and a client that listed its tools. */
async function connected(addArgs: string[] = []): Promise<{ s: AnnotatedServer; h: Home; c: Client }> {
  const s = await server();
  const h = home();
  await cliOk(h.env, ['add', 'an', s.url, '--transport', 'streamable-http', ...addArgs]);
  const { client: c } = await client(h, 'an');
  await c.listTools(); // the annotations the engine goes by
  return { s, h, c };
}

/** Starts a held call of `tool` and waits until the server runs it; `settled` is how it ends. */
async function heldCall(
  s: AnnotatedServer,
  c: Client,
  tool: string,
): Promise<{ settled: Promise<Settled<unknown>> }> {
  s.hold = true;
  const n = (s.calls.get(tool) ?? 0) + 1;
  const call = settle(c.callTool({ name: tool, arguments: {} }, undefined, { timeout: 60_000 }));
  await vi.waitFor(() => expect(s.calls.get(tool), `${tool} calls that reached the server`).toBe(n), POLL);
  return { settled: call };
}

/** The server crashes and comes back (held calls are not held any more). */
async function restart(s: AnnotatedServer): Promise<void> {
  await s.stop();
  s.hold = false;
  await s.start();
}

describe('safe retry', () => {
  it('a read-only tools/call in flight when the server restarts is sent again once and answered', async () => {
    const { s, h, c } = await connected();

    const { settled: call } = await heldCall(s, c, 'lookup');
    await restart(s);

    const r = await call;
    expect(r.ok ? r.value : r.error).toMatchObject({ content: [{ type: 'text', text: 'lookup done' }] });
    expect(s.calls.get('lookup')).toBe(2);
    const events = (await traffic(h, 'an')).filter(
      (t) => t.event?.type === 'retry' && t.event.detail.includes('was lost'),
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.event!.detail).toContain('readOnlyHint');
  });

  it('a destructive tools/call lost the same way gets the error and is never sent again', async () => {
    const { s, h, c } = await connected();

    const { settled: call } = await heldCall(s, c, 'remove_item');
    await restart(s);

    const r = await call;
    expect(r.ok).toBe(false);
    expect(['UPSTREAM_UNREACHABLE', 'UPSTREAM_SESSION_LOST']).toContain(dataCode(r.ok ? undefined : r.error));
    // The session works again, and the destructive call ran once.
    await expect(c.callTool({ name: 'lookup', arguments: {} })).resolves.toMatchObject({
      content: [{ text: 'lookup done' }],
    });
    expect(s.calls.get('remove_item')).toBe(1);
    // No lost request was sent again (a request the new server refused for its unknown session may be).
    const retries = (await traffic(h, 'an')).filter((t) => t.event?.type === 'retry');
    expect(retries.filter((t) => !t.event!.detail.includes('refused it for its unknown session'))).toEqual(
      [],
    );
  });

  it('--no-safe-retry: the read-only call gets the error', async () => {
    const { s, c } = await connected(['--no-safe-retry']);

    const { settled: call } = await heldCall(s, c, 'lookup');
    await s.stop();
    const r = await call;
    expect(r.ok).toBe(false);
    expect(s.calls.get('lookup')).toBe(1);
  });
});

describe('offline start', () => {
  it('a shim started while the server is down is answered from the last known state, then carries on', async () => {
    const s = await server();
    const h = home();
    await cliOk(h.env, ['add', 'an', s.url, '--transport', 'streamable-http']);
    const first = await client(h, 'an');
    const before = await first.client.listTools();
    await first.client.close();
    const file = join(h.dir, 'state', 'last-known', 'an.json');
    await vi.waitFor(() => expect(existsSync(file), 'the last known state file').toBe(true), POLL);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await s.stop();

    let changed = 0;
    const { client: c } = await client(h, 'an', {}, (cl) =>
      cl.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        changed++;
      }),
    );
    expect(c.getServerVersion()?.name).toBe('annotated');
    expect((await c.listTools()).tools).toEqual(before.tools);
    const call = await settle(c.callTool({ name: 'lookup', arguments: {} }));
    expect(call.ok).toBe(false);
    expect(dataCode(call.ok ? undefined : call.error)).toBe('UPSTREAM_UNREACHABLE');
    expect(((call.ok ? undefined : call.error) as McpError).data).toMatchObject({
      hint: expect.stringMatching(/background/),
    });
    const st = await statusOf(h, 'an');
    expect(st.lastKnown?.ageMs).toBeGreaterThanOrEqual(0);
    const recs = await traffic(h, 'an');
    expect(recs.filter((t) => t.event?.type === 'cache').map((t) => t.event!.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^initialize answered from the last known state saved .* old/),
        expect.stringMatching(/^tools\/list answered from the last known state/),
      ]),
    );

    // The server comes back with one more tool: the session re-opens by itself and says so.
    s.extraTools = ['added_later'];
    await s.start();
    await vi.waitFor(() => expect(changed, 'notifications/tools/list_changed').toBe(1), {
      ...POLL,
      timeout: 30_000,
    });
    const after = await c.listTools();
    expect(after.tools.map((t) => t.name)).toContain('added_later');
    await expect(c.callTool({ name: 'lookup', arguments: {} })).resolves.toMatchObject({
      content: [{ text: 'lookup done' }],
    });
  });

  it('keeps no secret: a credential the server put in a result is masked in the saved state', async () => {
    const keyring = await startKeyring();
    defer(() => keyring.close());
    const s = await server();
    const h = home();
    const env = keyring.env(h.env);
    const token = 'tok-resilience-7f3a9c1e5b';
    await cliOk(env, ['add', 'an', s.url, '--transport', 'streamable-http', '--auth', 'bearer']);
    const set = await cli(env, ['secret', 'set', 'an'], token);
    expect(set.code, set.stderr).toBe(0);
    const { client: c } = await shimClient(env, 'an');
    defer(() => c.close());
    const listed = await c.listTools();
    // The client gets what the server said; the engine keeps it masked.
    expect(listed.tools.find((t) => t.name === 'whoami')?.description).toBe(`called with Bearer ${token}`);
    const file = join(h.dir, 'state', 'last-known', 'an.json');
    await vi.waitFor(
      () => expect(filesContaining(h.dir, 'whoami'), 'the saved tools/list').toContain(file),
      POLL,
    );
    expect(filesContaining(h.dir, token)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toContain('called with Bearer [REDACTED]');
  });

  it('--no-offline-start keeps no last known state: initialize fails as for a server never reached', async () => {
    const s = await server();
    const h = home();
    await cliOk(h.env, ['add', 'an', s.url, '--transport', 'streamable-http', '--no-offline-start']);
    const first = await client(h, 'an');
    await first.client.listTools();
    await first.client.close();
    await s.stop();
    await expect(shimClient(h.env, 'an')).rejects.toThrow(/connection refused/);
    expect(() => statSync(join(h.dir, 'state', 'last-known', 'an.json'))).toThrow();
  });
});

describe('disconnect', () => {
  it('closes every connection, answers at once with ENDPOINT_DISCONNECTED across an engine restart, and connect carries on', async () => {
    const { s, h, c } = await connected();
    await c.callTool({ name: 'lookup', arguments: {} });
    expect(s.sockets).toBeGreaterThan(0);

    const { settled: inFlight } = await heldCall(s, c, 'remove_item');
    expect((await cliOk(h.env, ['disconnect', 'an'])).trim()).toBe('an: disconnected');
    const r = await inFlight;
    expect(dataCode(r.ok ? undefined : r.error)).toBe('ENDPOINT_DISCONNECTED');
    await vi.waitFor(() => expect(s.sockets, 'connections left to the server').toBe(0), POLL);
    s.release();

    const requests = s.requests;
    const refused = await settle(c.callTool({ name: 'lookup', arguments: {} }));
    expect(dataCode(refused.ok ? undefined : refused.error)).toBe('ENDPOINT_DISCONNECTED');
    expect(((refused.ok ? undefined : refused.error) as McpError).data).toMatchObject({
      hint: expect.stringContaining('mcp-tether connect an'),
    });
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['lookup', 'remove_item', 'whoami']);
    expect((await statusOf(h, 'an')).state).toBe('disconnected');

    // Kept across an engine restart (the running shim starts the new engine).
    const oldEngine = enginePid(h.dir);
    await cliOk(h.env, ['shutdown']);
    await vi.waitFor(() => expect(isAlive(oldEngine!), 'the engine to stop').toBe(false), POLL);
    const again = await settle(c.callTool({ name: 'lookup', arguments: {} }));
    if (again.ok) throw new Error('a call went through a disconnected endpoint');
    expect(['ENDPOINT_DISCONNECTED', 'ENGINE_UNAVAILABLE']).toContain(dataCode(again.error));
    await vi.waitFor(
      () => expect(enginePid(h.dir) ?? oldEngine, 'the shim to start a new engine').not.toBe(oldEngine),
      POLL,
    );
    const afterRestart = await settle(c.callTool({ name: 'lookup', arguments: {} }));
    expect(dataCode(afterRestart.ok ? undefined : afterRestart.error)).toBe('ENDPOINT_DISCONNECTED');
    expect((await statusOf(h, 'an')).state).toBe('disconnected');
    expect(s.requests).toBe(requests);
    expect(s.sockets).toBe(0);

    // Connect: the same client carries on, no restart.
    await cliOk(h.env, ['connect', 'an']);
    await expect(c.callTool({ name: 'lookup', arguments: {} })).resolves.toMatchObject({
      content: [{ text: 'lookup done' }],
    });
    expect(s.calls.get('lookup')).toBe(2);
    expect((await statusOf(h, 'an')).state).not.toBe('disconnected');
  });
});
