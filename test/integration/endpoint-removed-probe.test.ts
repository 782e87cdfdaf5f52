/**
 * Removing an endpoint that is kept connected while a shim is attached ends its health probe for
 * good: the shim detaching afterwards must not start a probe on the removed endpoint, which would
 * ping the server forever beside the probe of an endpoint added again under the same name.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
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

async function pings(): Promise<TrafficRecord[]> {
  const r = await cli(home.env, [
    'traffic',
    '--endpoint',
    'e',
    '--method',
    'ping',
    '--json',
    '--limit',
    '10000',
  ]);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TrafficRecord)
    .filter((t) => t.session === 'health' && t.kind === 'request');
}

describe('remove an endpoint with a shim attached', () => {
  it('leaves no health probe behind', async () => {
    const add = ['add', 'e', everything.url, '--transport', 'streamable-http', '--ping-interval', '200'];
    await cliOk(home.env, add);
    await cliOk(home.env, ['connect', 'e']);
    const shim = rawShim(home.env, 'e');
    try {
      shim.send(initializeLine());
      expect(await shim.next(30_000)).toHaveProperty('result');
      await cliOk(home.env, ['remove', 'e']);
      await cliOk(home.env, add);
      await cliOk(home.env, ['connect', 'e']);
      const after = Math.max(0, ...(await pings()).map((t) => t.seq));
      // Ten probe rounds of the endpoint added again: a probe left on the removed one would have
      // pinged as often, with the same ids.
      let fresh: TrafficRecord[] = [];
      await vi.waitFor(
        async () => {
          fresh = (await pings()).filter((t) => t.seq > after);
          expect(fresh.length).toBeGreaterThanOrEqual(10);
        },
        { timeout: 60_000, interval: 500 },
      );
      const ids = fresh.map((t) => String(t.id));
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await shim.close();
    }
  });
});
