/**
 * The tray app's Electron-free core against a real engine, as built: the supervisor starts the
 * engine when none runs, follows endpoint status, restarts the engine after it is killed, and gives
 * up after too many deaths (until asked again); a window's IPC bridge answers calls with the
 * engine's error codes, refuses `shim/attach`, forwards its own subscriptions' events, and
 * re-subscribes them after the engine restarted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineSupervisor as Supervisor, SupervisorSnapshot } from '../../main/app/engine-supervisor.js';
import type * as SupervisorTypes from '../../main/app/engine-supervisor.js';
import type * as BridgeTypes from '../../main/app/window-bridge.js';
import type * as ClientTypes from '../../main/common-node/control-client.js';
import type { IpcEvents } from '../../main/common/ipc.js';
import type * as PathsTypes from '../../main/common-node/paths.js';
import { loadDist } from '../helpers/dist.js';
import { POLL, startEverything, type Everything } from '../helpers/processes.js';
import { cliOk, enginePid, killEngine, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

type SupervisorModule = typeof SupervisorTypes;
type BridgeModule = typeof BridgeTypes;
type ClientModule = typeof ClientTypes;
type PathsModule = typeof PathsTypes;

let server: Everything;
let home: Home;
const { home: tempHome, defer } = useTempHomes();
let mods: { sup: SupervisorModule; bridge: BridgeModule; client: ClientModule; paths: PathsModule };
const supervisors: Supervisor[] = [];

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  defer(() => server.kill());
  home = tempHome();
  // The engine the supervisor spawns inherits this process's environment.
  process.env['MCP_TETHER_HOME'] = home.dir;
  mods = {
    sup: await loadDist<SupervisorModule>('main/app/engine-supervisor'),
    bridge: await loadDist<BridgeModule>('main/app/window-bridge'),
    client: await loadDist<ClientModule>('main/common-node/control-client'),
    paths: await loadDist<PathsModule>('main/common-node/paths'),
  };
});

afterAll(async () => {
  for (const s of supervisors) s.stop();
});

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the first snapshot (current or coming) that satisfies `pred`. */
function until(
  s: Supervisor,
  pred: (snap: SupervisorSnapshot) => boolean,
  timeoutMs = 20_000,
): Promise<SupervisorSnapshot> {
  return new Promise((resolve, reject) => {
    if (pred(s.snapshot())) return resolve(s.snapshot());
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out; last snapshot ${JSON.stringify(s.snapshot())}`));
    }, timeoutMs);
    const off = s.onChange((snap) => {
      if (!pred(snap)) return;
      clearTimeout(t);
      off();
      resolve(snap);
    });
  });
}

async function echoThroughShim(message: string): Promise<void> {
  const { client } = await shimClient(home.env, 'api');
  try {
    await client.callTool({ name: 'echo', arguments: { message } });
  } finally {
    await client.close();
  }
}

describe('engine supervision and window bridge', () => {
  let sup: Supervisor;
  const events: { event: keyof IpcEvents; payload: unknown }[] = [];
  let bridge: InstanceType<BridgeModule['WindowBridge']>;

  it('starts the engine when none runs, and follows the endpoints', async () => {
    expect(enginePid(home.dir)).toBeUndefined();
    const paths = mods.paths.resolvePaths(home.env);
    sup = new mods.sup.EngineSupervisor({ paths, refreshMs: 200 });
    supervisors.push(sup);
    await sup.start();
    expect(sup.snapshot()).toEqual({ engine: 'running', endpoints: [] });
    expect(alive(enginePid(home.dir))).toBe(true);

    await cliOk(home.env, ['add', 'api', server.url, '--transport', 'streamable-http']);
    await until(sup, (s) => s.endpoints.some((e) => e.name === 'api'));
    await sup.request('endpoints/connect', { name: 'api' });
    const ready = await until(sup, (s) => s.endpoints.find((e) => e.name === 'api')?.state === 'ready');
    expect(ready.endpoints[0]).toMatchObject({ name: 'api', pinned: true });
  });

  it('a window bridge answers calls, keeps error codes, refuses shim/attach, forwards its subscriptions', async () => {
    const paths = mods.paths.resolvePaths(home.env);
    bridge = new mods.bridge.WindowBridge({
      open: () => mods.client.ControlClient.open(paths, { autostart: false }),
      send: (event, payload) => events.push({ event, payload }),
    });
    const list = await bridge.call('endpoints/list', {});
    expect(list.ok && list.result.endpoints.map((e) => e.name)).toEqual(['api']);
    const missing = await bridge.call('endpoints/connect', { name: 'nope' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'ENDPOINT_NOT_FOUND' } });
    const invalid = await bridge.call('endpoints/add', { name: 'x y', endpoint: { url: 'ftp://x' } });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const attach = await bridge.call('shim/attach' as never, { endpoint: 'api' });
    expect(attach).toMatchObject({ ok: false, error: { code: 'METHOD_NOT_FOUND' } });

    expect((await bridge.call('traffic/subscribe', { endpoint: 'api', method: 'tools/call' })).ok).toBe(true);
    await echoThroughShim('first');
    await vi.waitFor(() => expect(events.map((e) => e.event)).toContain('traffic/record'), POLL);
    const records = events
      .filter((e) => e.event === 'traffic/record')
      .map((e) => (e.payload as IpcEvents['traffic/record']).record);
    // Only what this window subscribed to: tools/call of api (not initialize, not tools/list).
    expect(records.every((r) => r.endpoint === 'api' && r.method === 'tools/call')).toBe(true);
    expect(records.some((r) => JSON.stringify(r.message).includes('first'))).toBe(true);
  });

  it('restarts a killed engine and the window’s subscriptions come back', async () => {
    const before = enginePid(home.dir)!;
    const restarting = until(sup, (s) => s.engine === 'restarting');
    killEngine(home.dir);
    expect((await restarting).engineError).toContain('closed');
    const back = await until(sup, (s) => s.engine === 'running');
    expect(back.engineError).toBeUndefined();
    const after = enginePid(home.dir)!;
    expect(after).not.toBe(before);
    expect(alive(after)).toBe(true);

    await bridge.reconnect();
    events.length = 0;
    await echoThroughShim('second');
    await vi.waitFor(
      () =>
        expect(
          events.some((e) => e.event === 'traffic/record' && JSON.stringify(e.payload).includes('second')),
          'a traffic event after the restart',
        ).toBe(true),
      POLL,
    );
    bridge.close();
  });

  it('gives up after too many deaths, and starts again when asked', async () => {
    sup.stop();
    const paths = mods.paths.resolvePaths(home.env);
    const s2 = new mods.sup.EngineSupervisor({
      paths,
      policy: { maxCrashes: 1, windowMs: 600_000, baseDelayMs: 50, maxDelayMs: 50 },
    });
    supervisors.push(s2);
    await s2.start();
    expect(s2.snapshot().engine).toBe('running');

    killEngine(home.dir);
    await until(s2, (s) => s.engine === 'restarting');
    await until(s2, (s) => s.engine === 'running');
    const second = killEngine(home.dir);
    const stopped = await until(s2, (s) => s.engine === 'stopped');
    expect(stopped.endpoints).toEqual([]);
    await vi.waitFor(() => expect(alive(second), 'the killed engine to be gone').toBe(false), POLL);
    // Given up: nothing restarts it behind the user's back.
    await new Promise((r) => setTimeout(r, 500));
    expect(s2.snapshot().engine).toBe('stopped');
    expect(alive(enginePid(home.dir))).toBe(false);

    await s2.restart();
    expect(s2.snapshot().engine).toBe('running');
    expect(alive(enginePid(home.dir))).toBe(true);
  });
});
