/**
 * `mcp-tether traffic --endpoint N` against a real engine and server: an unknown name is refused
 * like `status`/`doctor`/`remove` do (ENDPOINT_NOT_FOUND, exit 1), also with --follow; the records
 * of a removed endpoint stay readable while the ring holds them; a configured endpoint with no
 * records yet prints nothing and succeeds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrafficRecord } from '../../main/common/domain.js';
import { startEverything, type Everything } from '../helpers/processes.js';
import { cli, cliOk, initializeLine, rawShim, type Home, useTempHomes } from '../helpers/tether.js';

let everything: Everything;
let home: Home;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  everything = await startEverything('streamableHttp');
  defer(() => everything.kill());
  home = tempHome();
});

describe('traffic --endpoint', () => {
  it('refuses a name neither configured nor recorded, with and without --follow', async () => {
    await cliOk(home.env, ['add', 'known', everything.url, '--transport', 'streamable-http']);
    for (const args of [
      ['traffic', '--endpoint', 'nope'],
      ['traffic', '--endpoint', 'nope', '--follow'],
    ]) {
      const r = await cli(home.env, args);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain('no endpoint named "nope"; known endpoints: known');
      expect(r.stdout).toBe('');
    }
    const known = await cli(home.env, ['traffic', '--endpoint', 'known']);
    expect(known.code, known.stderr).toBe(0);
    expect(known.stdout).toBe('');
  });

  it('still shows the records of a removed endpoint', async () => {
    await cliOk(home.env, ['add', 'gone', everything.url, '--transport', 'streamable-http']);
    const shim = rawShim(home.env, 'gone');
    try {
      shim.send(initializeLine());
      expect(await shim.next(30_000)).toHaveProperty('result');
    } finally {
      await shim.close();
    }
    await cliOk(home.env, ['remove', 'gone']);
    const out = await cliOk(home.env, ['traffic', '--endpoint', 'gone', '--json']);
    const records = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TrafficRecord);
    expect(records.some((t) => t.method === 'initialize' && t.kind === 'request')).toBe(true);
    expect(records.every((t) => t.endpoint === 'gone')).toBe(true);
  });
});
