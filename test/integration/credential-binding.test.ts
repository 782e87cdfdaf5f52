/**
 * Issue 10 §3: stored credentials follow the origin they were stored for, not the endpoint's name.
 * After the URL changes (here a hand edit of endpoints.json), nothing carries them to the new server
 * — client requests, health probes, doctor — until `secret rebind` (or `secret set`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type * as ClientTypes from '../../main/common-node/control-client.js';
import type * as PathsTypes from '../../main/common-node/paths.js';
import { startHostileServer } from '../fixtures/hostile-server.js';
import { loadDist } from '../helpers/dist.js';
import { useKeyring } from '../helpers/keyring.js';
import { cli, cliOk, initializeLine, rawShim, type Home, useTempHomes } from '../helpers/tether.js';

const TOKEN = 'tok-7d1e-bound-to-its-origin';

const keyring = useKeyring();

const { home: tempHome, defer } = useTempHomes();

async function initialize(env: NodeJS.ProcessEnv, name: string): Promise<Record<string, unknown>> {
  const shim = rawShim(env, name);
  try {
    shim.send(initializeLine(1));
    return await shim.next(20_000);
  } finally {
    await shim.close();
  }
}

function setUrl(home: Home, name: string, url: string): void {
  const file = join(home.dir, 'endpoints.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as { endpoints: Record<string, { url: string }> };
  config.endpoints[name]!.url = url;
  writeFileSync(file, JSON.stringify(config, null, 2));
}

describe('credential binding', () => {
  it('sends nothing to a new origin until the user rebinds', async () => {
    const [a, b] = await Promise.all([startHostileServer(), startHostileServer()]);
    defer(() => a.close());
    defer(() => b.close());
    const home = tempHome();
    const env = keyring().env(home.env);
    await cliOk(env, ['add', 'gh', a.url, '--transport', 'streamable-http', '--auth', 'bearer']);
    expect((await cli(env, ['secret', 'set', 'gh'], TOKEN)).code).toBe(0);
    expect((await initialize(env, 'gh'))['result']).toBeDefined();
    expect(a.seen.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // The bindings file holds the origin, never the secret.
    const bindings = readFileSync(join(home.dir, 'state', 'credential-bindings.json'), 'utf8');
    expect(bindings).toContain(a.origin);
    expect(bindings).not.toContain(TOKEN);

    setUrl(home, 'gh', b.url);
    const answer = (await initialize(env, 'gh')) as {
      error: { message: string; data: { code: string; hint: string } };
    };
    expect(answer.error.data.code).toBe('AUTH_REQUIRED');
    expect(answer.error.message).toContain(`now points at ${b.origin}`);
    expect(answer.error.message).toContain(`stored for ${a.origin}`);
    expect(answer.error.data.hint).toContain('mcp-tether secret rebind gh');
    // Health probes and doctor do not carry it either.
    await cliOk(env, ['connect', 'gh']);
    await vi.waitFor(
      async () => {
        const s = JSON.parse(await cliOk(env, ['status', 'gh', '--json'])) as {
          endpoints: { state: string; lastError?: { message: string } }[];
        };
        expect(s.endpoints[0]!.state).toBe('auth-required');
        expect(s.endpoints[0]!.lastError?.message).toContain('nothing was sent');
      },
      { timeout: 30_000, interval: 500 },
    );
    await cli(env, ['doctor', 'gh']);
    expect(b.seen.filter((r) => r.authorization !== undefined)).toEqual([]);

    // The user confirms: from now on the token goes to b.
    const rebind = await cliOk(env, ['secret', 'rebind', 'gh']);
    expect(rebind).toContain(`now go to ${b.origin}`);
    expect(rebind).toContain(`stored for ${a.origin}`);
    expect((await initialize(env, 'gh'))['result']).toBeDefined();
    expect(b.seen.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('binds credentials stored before bindings existed on first use, and `secret set` rebinds', async () => {
    const [a, b] = await Promise.all([startHostileServer(), startHostileServer()]);
    defer(() => a.close());
    defer(() => b.close());
    const home = tempHome();
    const env = keyring().env(home.env);
    await cliOk(env, ['add', 'old', a.url, '--transport', 'streamable-http', '--auth', 'bearer']);
    expect((await cli(env, ['secret', 'set', 'old'], TOKEN)).code).toBe(0);
    await cliOk(env, ['shutdown']);
    writeFileSync(join(home.dir, 'state', 'credential-bindings.json'), '{"version":1,"endpoints":{}}');
    expect((await initialize(env, 'old'))['result']).toBeDefined();
    setUrl(home, 'old', b.url);
    const refused = (await initialize(env, 'old')) as { error: { message: string } };
    expect(refused.error.message).toContain('nothing was sent');
    // Storing a value again is consent for the URL as it is now.
    expect((await cli(env, ['secret', 'set', 'old'], TOKEN)).code).toBe(0);
    expect((await initialize(env, 'old'))['result']).toBeDefined();
    expect(b.seen.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('an update over the control API (what the UI sends) reports the move for the UI to ask', async () => {
    const [a, b] = await Promise.all([startHostileServer(), startHostileServer()]);
    defer(() => a.close());
    defer(() => b.close());
    const home = tempHome();
    const env = keyring().env(home.env);
    await cliOk(env, ['add', 'ui', a.url, '--transport', 'streamable-http', '--auth', 'bearer']);
    expect((await cli(env, ['secret', 'set', 'ui'], TOKEN)).code).toBe(0);
    const { ControlClient } = await loadDist<typeof ClientTypes>('main/common-node/control-client');
    const { resolvePaths } = await loadDist<typeof PathsTypes>('main/common-node/paths');
    const control = await ControlClient.open(resolvePaths(env), { autostart: false });
    try {
      const same = await control.request('endpoints/update', {
        name: 'ui',
        endpoint: { url: `${a.url}?v=2`, transport: 'streamable-http', auth: { type: 'bearer' } },
      });
      expect(same.credentialsMoved).toBeUndefined();
      const moved = await control.request('endpoints/update', {
        name: 'ui',
        endpoint: { url: b.url, transport: 'streamable-http', auth: { type: 'bearer' } },
      });
      expect(moved.credentialsMoved).toEqual({ from: a.origin, to: b.origin });
      const err = (await initialize(env, 'ui')) as { error: { message: string } };
      expect(err.error.message).toContain('nothing was sent');
      expect(await control.request('secrets/rebind', { endpoint: 'ui' })).toEqual({
        endpoint: 'ui',
        origin: b.origin,
        previous: a.origin,
      });
    } finally {
      control.close();
    }
    expect((await initialize(env, 'ui'))['result']).toBeDefined();
    expect(b.seen.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });
});
