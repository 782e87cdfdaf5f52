/**
 * Large client lines (64 KiB and more), which the shim scans instead of decoding
 * (main/shim/shim.ts `fromClient`), against the built shim and engine relaying to a real
 * server-everything over Streamable HTTP: they pass verbatim, a syntax error inside them is answered
 * -32700 with the id (by the engine) and is then no longer in flight, a large cancellation cancels,
 * and a large line that is not JSON-RPC 2.0 is refused by the shim as a small one is. The engine
 * reads large messages lazily in both directions (main/common/jsonrpc.ts `parseLargeObject`): a
 * large `tools/call` and its large result cross whole and are recorded in traffic as sent, its
 * `_meta` still works, and a syntax error only a full check finds is still -32700.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEverything, type Everything } from '../helpers/processes.js';
import {
  cliOk,
  initializeLine,
  killEngine,
  makeHome,
  rawShim,
  type Home,
  type RawShim,
} from '../helpers/tether.js';
import { untilId } from '../helpers/faults-procs.js';

type Msg = Record<string, unknown>;

let server: Everything;
let home: Home;
const shims: RawShim[] = [];

/** Padding that makes any line it is in larger than the shim's scan threshold (64 KiB). */
const PAD = 'p'.repeat(100 * 1024);

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  home = makeHome();
  await cliOk(home.env, ['add', 'ev', server.url, '--transport', 'streamable-http']);
}, 60_000);

afterAll(async () => {
  await Promise.all(shims.map((s) => s.close()));
  await home?.cleanup();
  await server?.kill();
});

async function session(): Promise<RawShim> {
  const shim = rawShim(home.env, 'ev');
  shims.push(shim);
  shim.send(initializeLine('init'));
  await untilId(shim, 'init');
  shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return shim;
}

const echoCall = (id: string, message: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: { message } },
  });

const longCall = (id: string, duration: number) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'trigger-long-running-operation', arguments: { duration, steps: 1 } },
  });

describe('a large client line', () => {
  it('is relayed as sent: nested id and method keys, escapes and multi-byte text stay as they are', async () => {
    const shim = await session();
    const message = `{"id":99,"method":"x"} \\" é 😀 ${PAD}`;
    shim.send(echoCall('big-echo', message));
    const { msg } = await untilId(shim, 'big-echo');
    expect(msg['result']).toEqual({ content: [{ type: 'text', text: `Echo: ${message}` }] });
  });

  it('with a syntax error inside gets -32700 with its id, and is no longer in flight', async () => {
    const shim = await session();
    const bad = `{"jsonrpc":"2.0","id":"big-bad","method":"tools/call","params":{"name":"echo","arguments":{"message":"${PAD}"},"x":tru}}`;
    shim.send(bad);
    const { msg } = await untilId(shim, 'big-bad');
    expect((msg['error'] as { code: number; data: { code: string } }).code).toBe(-32700);
    expect((msg['error'] as { data: { code: string } }).data.code).toBe('INVALID_MESSAGE');

    // Were it still noted as in flight, the engine's loss would answer it a second time.
    shim.send(longCall('in-flight', 20));
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'sync', method: 'ping' }));
    await untilId(shim, 'sync');
    killEngine(home.dir);
    const lost = await untilId(shim, 'in-flight');
    expect((lost.msg['error'] as { data: { code: string } }).data.code).toBe('ENGINE_UNAVAILABLE');
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'after-restart', method: 'ping' }));
    const after = await untilId(shim, 'after-restart', 60_000);
    expect(after.msg['result']).toEqual({});
    expect([...lost.skipped, ...after.skipped].filter((m) => m['id'] === 'big-bad')).toEqual([]);
  });

  it('that cancels a request keeps it from any later answer, the engine-loss error included', async () => {
    const shim = await session();
    shim.send(longCall('to-cancel', 20));
    shim.send(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 'to-cancel', reason: PAD },
      }),
    );
    shim.send(longCall('still-running', 20));
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'sync-2', method: 'ping' }));
    await untilId(shim, 'sync-2');
    killEngine(home.dir);
    const lost = await untilId(shim, 'still-running');
    expect((lost.msg['error'] as { data: { code: string } }).data.code).toBe('ENGINE_UNAVAILABLE');
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'after-restart-2', method: 'ping' }));
    const after = await untilId(shim, 'after-restart-2', 60_000);
    expect([...lost.skipped, ...after.skipped].filter((m) => m['id'] === 'to-cancel')).toEqual([]);
  });

  it('answered while the shim answers lines of its own: every line reaches the client whole', async () => {
    const shim = await session();
    const message = 'm'.repeat(3 * 1024 * 1024);
    // Once the 3 MiB answer starts to come out, lines the shim answers itself (-32700) go in: the
    // shim reads them while the rest of the answer is still passing through it.
    const ids = Array.from({ length: 40 }, (_, i) => `bad-${i}`);
    const onData = (c: Buffer) => {
      if (!c.includes('Echo: mmm')) return;
      shim.child.stdout.off('data', onData);
      for (const id of ids) shim.send(`{"jsonrpc":"2.0","id":"${id}","method":`);
    };
    shim.child.stdout.on('data', onData);
    shim.send(echoCall('huge-echo', message));
    const seen = new Map<unknown, Msg>();
    while (seen.size < ids.length + 1) {
      const m = await shim.next(60_000); // each line must parse: none is cut by another
      seen.set(m['id'], m);
    }
    expect((seen.get('huge-echo')!['result'] as { content: { text: string }[] }).content[0]!.text).toBe(
      `Echo: ${message}`,
    );
    for (const id of ids) expect((seen.get(id)!['error'] as { code: number }).code).toBe(-32700);
  });

  it('as a tools/call with a large result: both cross whole, traffic keeps both as sent', async () => {
    const shim = await session();
    const message = `"quoted" \\ \u0000 é 😀 {"id":1,"method":"m","params":{"name":"n"}} ${'r'.repeat(2 * 1024 * 1024)}`;
    shim.send(echoCall('big-both', message));
    const { msg } = await untilId(shim, 'big-both');
    expect(msg['result']).toEqual({ content: [{ type: 'text', text: `Echo: ${message}` }] });

    const out = await cliOk(home.env, ['traffic', '--json', '--method', 'tools/call', '--limit', '2']);
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { direction: string; id: unknown; message: Msg });
    const sent = records.find((r) => r.direction === 'client-to-server' && r.id === 'big-both');
    const got = records.find((r) => r.direction === 'server-to-client' && r.id === 'big-both');
    expect(sent?.message).toEqual(JSON.parse(echoCall('big-both', message)));
    expect(got?.message).toEqual(msg);
  });

  it('with _meta after megabytes of arguments: its progress token still works', async () => {
    const shim = await session();
    shim.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'big-progress',
        method: 'tools/call',
        params: {
          name: 'trigger-long-running-operation',
          arguments: { duration: 1, steps: 2 },
          _meta: { pad: PAD, progressToken: 'big-token' },
        },
      }),
    );
    const { msg, skipped } = await untilId(shim, 'big-progress');
    expect(msg['result']).toBeDefined();
    const progress = skipped.filter((m) => m['method'] === 'notifications/progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect((p['params'] as Msg)['progressToken']).toBe('big-token');
  });

  it('with a syntax error only a full check finds (a bad escape, a raw tab) gets -32700 with its id', async () => {
    const shim = await session();
    const lines = {
      'bad-escape': `{"jsonrpc":"2.0","id":"bad-escape","method":"tools/call","params":{"name":"echo","arguments":{"message":"${PAD}\\q"}}}`,
      'raw-tab': `{"jsonrpc":"2.0","id":"raw-tab","method":"tools/call","params":{"name":"echo","arguments":{"message":"${PAD}\t"}}}`,
      'bad-number': `{"jsonrpc":"2.0","id":"bad-number","method":"tools/call","params":{"name":"echo","arguments":{"message":"${PAD}","n":01}}}`,
    };
    for (const [id, line] of Object.entries(lines)) {
      shim.send(line);
      const { msg } = await untilId(shim, id);
      expect((msg['error'] as { code: number }).code, id).toBe(-32700);
    }
  });

  it('that is not JSON-RPC 2.0 gets -32600 INVALID_MESSAGE with its id from the shim', async () => {
    const shim = await session();
    shim.send(JSON.stringify({ jsonrpc: '1.0', id: 'big-v1', method: 'ping', params: { pad: PAD } }));
    const { msg } = await untilId(shim, 'big-v1');
    expect((msg['error'] as { code: number }).code).toBe(-32600);
    expect((msg['error'] as { data: { code: string } }).data.code).toBe('INVALID_MESSAGE');
  });
});
