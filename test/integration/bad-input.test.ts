/**
 * Bad input on a shim's stdin, against the built shim and engine relaying to a real
 * server-everything over Streamable HTTP: garbage never stops the shim, every recoverable id gets a
 * JSON-RPC error, oversized lines are refused, an unknown endpoint is one clear stderr line, and
 * notifications, progress, cancellation and unknown members pass verbatim.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Everything, POLL, startEverything } from '../helpers/processes.js';
import {
  cli,
  cliOk,
  initializeLine,
  killEngine,
  rawShim,
  type Home,
  type RawShim,
  useTempHomes,
} from '../helpers/tether.js';
import { untilId } from '../helpers/faults-procs.js';

type Msg = Record<string, unknown>;

let server: Everything;
let home: Home;
const { home: tempHome, defer } = useTempHomes();
const shims: RawShim[] = [];

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  defer(() => server.kill());
  home = tempHome();
  await cliOk(home.env, ['add', 'ev', server.url, '--transport', 'streamable-http']);
  await cliOk(home.env, ['add', 'ev-two', server.url, '--transport', 'streamable-http']);
  // Requests time out after 1 s here, so a relay that forgot a cancellation would answer with a
  // timeout error while the test watches.
  await cliOk(home.env, [
    'add',
    'ev-short',
    server.url,
    '--transport',
    'streamable-http',
    '--request-timeout',
    '1000',
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(shims.map((s) => s.close()));
});

/** Lines that answer something (responses and errors), as opposed to server notifications. */
function answers(lines: Msg[]): Msg[] {
  return lines.filter((m) => m['method'] === undefined);
}

/** A raw shim on `name` that has completed the MCP handshake. */
async function session(env: NodeJS.ProcessEnv, name = 'ev'): Promise<RawShim> {
  const shim = rawShim(env, name);
  shims.push(shim);
  shim.send(initializeLine('init'));
  const { msg } = await untilId(shim, 'init', 30_000);
  expect(msg['result']).toMatchObject({ serverInfo: { name: 'mcp-servers/everything' } });
  shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return shim;
}

/** Sends a ping and asserts that its answer is the very next answer on stdout. */
async function pingWorks(shim: RawShim, id: string | number): Promise<void> {
  shim.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
  const { msg, skipped } = await untilId(shim, id);
  expect(msg).toEqual({ jsonrpc: '2.0', id, result: {} });
  expect(answers(skipped)).toEqual([]);
}

function expectError(m: Msg, id: unknown, code: number, dataCode: string): void {
  expect(m['jsonrpc']).toBe('2.0');
  expect(m['id']).toEqual(id);
  expect(m['result']).toBeUndefined();
  const error = m['error'] as { code: number; message: string; data?: { code?: string } };
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.data?.code).toBe(dataCode);
}

interface TrafficJson {
  seq: number;
  session: string;
  direction?: string;
  kind: string;
  method?: string;
  id?: unknown;
  bytes: number;
  message?: unknown;
}

async function traffic(env: NodeJS.ProcessEnv, ...args: string[]): Promise<TrafficJson[]> {
  const out = await cliOk(env, ['traffic', '--json', '--limit', '100000', ...args]);
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TrafficJson);
}

describe('a non-JSON line', () => {
  it('gets -32700 with the id when one can be recovered, a stderr line otherwise; the shim stays up', async () => {
    const shim = await session(home.env);
    shim.send('{"jsonrpc":"2.0","id":5,"method":');
    const { msg, skipped } = await untilId(shim, 5);
    expect(answers(skipped)).toEqual([]);
    expectError(msg, 5, -32700, 'INVALID_MESSAGE');

    shim.send('{"jsonrpc":"2.0","id":"str-id","method":"tools/list","params":{');
    expectError((await untilId(shim, 'str-id')).msg, 'str-id', -32700, 'INVALID_MESSAGE');

    const before = shim.stderr().length;
    shim.send('garbage');
    await vi.waitFor(
      () => expect(shim.stderr().length, 'a stderr line about the garbage').toBeGreaterThan(before),
      POLL,
    );
    const said = shim.stderr().slice(before);
    expect(said).toMatch(/not JSON/);
    expect(said).toContain('garbage');
    expect(said.trim().split('\n')).toHaveLength(1);
    // Nothing was written to stdout for it: the next answer is the ping's.
    await pingWorks(shim, 'after-garbage');
    expect(shim.child.exitCode).toBeNull();

    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list' }));
    const tools = (await untilId(shim, 6)).msg;
    expect((tools['result'] as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('echo');
  });
});

describe('JSON that is not JSON-RPC 2.0', () => {
  it('gets -32600 INVALID_MESSAGE with the id when known, a stderr line otherwise', async () => {
    const shim = await session(home.env);

    shim.send('{"id":7,"x":1}');
    expectError((await untilId(shim, 7)).msg, 7, -32600, 'INVALID_MESSAGE');

    shim.send('{"jsonrpc":"2.0","id":8}');
    expectError((await untilId(shim, 8)).msg, 8, -32600, 'INVALID_MESSAGE');

    shim.send('{"jsonrpc":"1.0","id":"v1","method":"ping"}');
    expectError((await untilId(shim, 'v1')).msg, 'v1', -32600, 'INVALID_MESSAGE');

    shim.send('{"jsonrpc":"2.0","id":9,"method":42}');
    expectError((await untilId(shim, 9)).msg, 9, -32600, 'INVALID_MESSAGE');

    // A batch of things that are not messages gets a batch of -32600 errors (JSON-RPC 2.0 §6).
    shim.send('[1,2]');
    for (;;) {
      const m = (await shim.next(20_000)) as unknown;
      if (!Array.isArray(m)) continue;
      expect(m).toHaveLength(2);
      for (const e of m as Msg[]) expectError(e, null, -32600, 'INVALID_MESSAGE');
      break;
    }

    for (const line of ['"just a string"', '{"jsonrpc":"2.0","id":null,"method":"ping"}']) {
      const before = shim.stderr().length;
      shim.send(line);
      await vi.waitFor(
        () => expect(shim.stderr().length, `a stderr line for ${line}`).toBeGreaterThan(before),
        POLL,
      );
      expect(shim.stderr().slice(before)).toMatch(/not JSON-RPC 2\.0/);
    }
    await pingWorks(shim, 'after-invalid');
    expect(shim.child.exitCode).toBeNull();
  });
});

describe('an oversized line', () => {
  let small: Home;

  beforeAll(async () => {
    small = tempHome();
    // Written before any engine runs, so the engine starts with the small limit.
    writeFileSync(
      join(small.dir, 'endpoints.json'),
      JSON.stringify({
        version: 1,
        settings: { maxMessageBytes: 4096 },
        endpoints: { ev: { url: server.url, transport: 'streamable-http' } },
      }),
    );
  });

  it('gets -32600 MESSAGE_TOO_LARGE with its id, and the shim carries on', async () => {
    const shim = await session(small.env);
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 'too-big',
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'x'.repeat(10_000) } },
    });
    expect(Buffer.byteLength(big)).toBeGreaterThan(4096);
    shim.send(big);
    const { msg, skipped } = await untilId(shim, 'too-big');
    expect(answers(skipped)).toEqual([]);
    expectError(msg, 'too-big', -32600, 'MESSAGE_TOO_LARGE');
    expect((msg['error'] as { message: string }).message).toContain('4096');

    // An oversized line that spans many chunks is dropped as a whole: nothing of it leaks through
    // as a line of its own, and the next request is answered.
    const huge = `{"jsonrpc":"2.0","id":31,"method":"tools/call","params":{"name":"echo","arguments":{"message":"${'y'.repeat(200_000)}"}}}`;
    shim.send(huge);
    expectError((await untilId(shim, 31)).msg, 31, -32600, 'MESSAGE_TOO_LARGE');

    // Just under the limit still goes through.
    const fits = JSON.stringify({
      jsonrpc: '2.0',
      id: 'fits',
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'z'.repeat(3000) } },
    });
    expect(Buffer.byteLength(fits)).toBeLessThan(4096);
    shim.send(fits);
    const echoed = (await untilId(shim, 'fits')).msg;
    expect(echoed['result']).toMatchObject({
      content: [{ type: 'text', text: `Echo: ${'z'.repeat(3000)}` }],
    });

    // A client that puts "id" last (as pydantic-based ones do), with an "id" inside params: the
    // error, if any, must carry the request's own id, never the nested one.
    const idLast = `{"method":"tools/call","params":{"name":"echo","arguments":{"id":42,"message":"${'w'.repeat(6000)}"}},"jsonrpc":"2.0","id":"py-1"}`;
    shim.send(idLast);
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'sync', method: 'ping' }));
    const { skipped: beforeSync } = await untilId(shim, 'sync');
    expect(beforeSync.filter((m) => m['id'] === 42)).toEqual([]);
    for (const m of answers(beforeSync)) expectError(m, 'py-1', -32600, 'MESSAGE_TOO_LARGE');

    await pingWorks(shim, 'after-big');
    expect(shim.child.exitCode).toBeNull();

    // The refused requests never reached the server.
    const sent = await traffic(small.env, '--endpoint', 'ev', '--direction', 'client-to-server');
    expect(sent.some((r) => r.id === 'too-big' || r.id === 31)).toBe(false);
    expect(sent.some((r) => r.id === 'fits')).toBe(true);
  });
});

describe('an unknown endpoint', () => {
  it('answers each request with ENDPOINT_NOT_FOUND naming the known endpoints, then exits 2', async () => {
    const r = await cli(home.env, ['shim', 'nope'], initializeLine(1) + '\n');
    expect(r.code).toBe(2);
    const answers = r.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Msg);
    expect(answers).toMatchObject([
      { jsonrpc: '2.0', id: 1, error: { code: -32000, data: { code: 'ENDPOINT_NOT_FOUND' } } },
    ]);
    expect(JSON.stringify(answers[0])).toContain('ev-two');
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('nope');
    expect(lines[0]).toContain('ev');
    expect(lines[0]).toContain('ev-two');
  });
});

describe('messages pass verbatim', () => {
  it('relays progress notifications with the token unchanged, and records them as received', async () => {
    const shim = await session(home.env);
    for (const token of ['tök-en/1 "quoted"', 987654321]) {
      const id = `progress-${typeof token}`;
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            name: 'trigger-long-running-operation',
            arguments: { duration: 0.6, steps: 3 },
            _meta: { progressToken: token },
          },
        }),
      );
      const { msg, skipped } = await untilId(shim, id);
      expect(answers(skipped)).toEqual([]);
      expect(msg['result']).toMatchObject({
        content: [{ type: 'text', text: expect.stringContaining('Steps: 3') }],
      });
      const progress = skipped.filter((m) => m['method'] === 'notifications/progress');
      expect(progress.map((m) => m['params'])).toEqual([
        { progress: 1, total: 3, progressToken: token },
        { progress: 2, total: 3, progressToken: token },
        { progress: 3, total: 3, progressToken: token },
      ]);
    }
    const recorded = (
      await traffic(home.env, '--endpoint', 'ev', '--method', 'notifications/progress')
    ).filter((r) => r.direction === 'server-to-client');
    expect(recorded.length).toBeGreaterThanOrEqual(6);
    expect(
      recorded.map((r) => (r.message as { params: { progressToken: unknown } }).params.progressToken),
    ).toEqual(expect.arrayContaining(['tök-en/1 "quoted"', 987654321]));
  });

  it('hands a request with unknown members and _meta to the server exactly as sent', async () => {
    const shim = await session(home.env);
    const compact = JSON.stringify({
      jsonrpc: '2.0',
      id: 'verbatim-1',
      method: 'tools/call',
      params: {
        name: 'echo',
        arguments: { message: 'héllo ✓ 🚀' },
        _meta: { progressToken: 'pt-1', 'com.example/trace': { span: [1, 2.5, -3e-7, 'é'], on: true } },
        unknownParam: { nested: [null, {}, []] },
      },
    });
    shim.send(compact);
    const first = (await untilId(shim, 'verbatim-1')).msg;
    expect(first['result']).toMatchObject({ content: [{ type: 'text', text: 'Echo: héllo ✓ 🚀' }] });

    // Insignificant whitespace and member order are the client's: the relay must not normalise them.
    const spaced =
      '{ "params" : { "_meta" : { "com.example/x" : [ 1 , 2 ] } , "arguments" : { "message" : "spaced" } , "name" : "echo" } ,' +
      ' "method" : "tools/call" , "id" : 4242 , "jsonrpc" : "2.0" }';
    shim.send(spaced);
    const second = (await untilId(shim, 4242)).msg;
    expect(second['result']).toMatchObject({ content: [{ type: 'text', text: 'Echo: spaced' }] });

    const records = await traffic(home.env, '--endpoint', 'ev', '--method', 'tools/call');
    const req1 = records.find((r) => r.kind === 'request' && r.id === 'verbatim-1');
    expect(req1).toBeDefined();
    expect(req1!.direction).toBe('client-to-server');
    expect(req1!.message).toEqual(JSON.parse(compact));
    expect(JSON.stringify(req1!.message)).toBe(compact);
    expect(req1!.bytes).toBe(Buffer.byteLength(compact));

    const req2 = records.find((r) => r.kind === 'request' && r.id === 4242);
    expect(req2!.message).toEqual(JSON.parse(spaced));
    expect(Object.keys(req2!.message as object)).toEqual(['params', 'method', 'id', 'jsonrpc']);
    // The byte count is that of the spaced text: the text itself was kept, not a re-serialization.
    expect(req2!.bytes).toBe(Buffer.byteLength(spaced));

    // The answer the client got is the one the server sent.
    const res1 = records.find(
      (r) => r.kind === 'response' && r.id === 'verbatim-1' && r.session === req1!.session,
    );
    expect(res1!.message).toEqual(first);
  });

  it('relays an unknown top-level member too, and the server refusal comes back as an error with the id', async () => {
    const shim = await session(home.env);
    // The SDK server's JSON-RPC schema is strict at the top level, so it refuses this with HTTP 400
    // and a JSON-RPC error of its own; the relay must still send it as it is and pass the server's
    // error on to the client with its id.
    const line = JSON.stringify({
      jsonrpc: '2.0',
      id: 'top-extra',
      method: 'ping',
      'x-extension': { keep: 'me' },
    });
    shim.send(line);
    const { msg } = await untilId(shim, 'top-extra');
    expect(msg['id']).toBe('top-extra');
    const err = msg['error'] as { code: number; message: string };
    expect(err.code).toEqual(expect.any(Number));
    expect(err.message).not.toMatch(/mcp-tether/);
    const rec = (await traffic(home.env, '--endpoint', 'ev', '--method', 'ping')).find(
      (r) => r.kind === 'request' && r.id === 'top-extra',
    );
    expect(JSON.stringify(rec!.message)).toBe(line);
    await pingWorks(shim, 'after-top-extra');
  });

  it('passes notifications/cancelled to the server verbatim, and a cancelled request gets no late answer', async () => {
    const shim = await session(home.env, 'ev-short');
    shim.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'slow-1',
        method: 'tools/call',
        params: {
          name: 'trigger-long-running-operation',
          arguments: { duration: 1.5, steps: 3 },
          _meta: { progressToken: 'slow-token' },
        },
      }),
    );
    // Wait until the server is working on it (its first progress notification).
    for (;;) {
      const m = await shim.next(20_000);
      if (m['method'] === 'notifications/progress') break;
      expect(m['id']).not.toBe('slow-1');
    }
    const cancel = JSON.stringify({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 'slow-1', reason: 'the user pressed stop', _meta: { 'com.example/why': 1 } },
    });
    shim.send(cancel);
    // Past the operation's end and the 1 s request timeout: the server (having been told) must not
    // answer, and the relay must not invent an answer (a timeout error) either.
    await new Promise((r) => setTimeout(r, 2500));
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'after-cancel', method: 'ping' }));
    const { msg, skipped } = await untilId(shim, 'after-cancel');
    expect(msg['result']).toEqual({});
    expect(answers(skipped)).toEqual([]);

    const records = await traffic(home.env, '--endpoint', 'ev-short', '--method', 'notifications/cancelled');
    const rec = records.find(
      (r) =>
        r.direction === 'client-to-server' &&
        (r.message as { params: { requestId: unknown } }).params.requestId === 'slow-1',
    );
    expect(rec).toBeDefined();
    expect(rec!.kind).toBe('notification');
    expect(JSON.stringify(rec!.message)).toBe(cancel);
    expect(rec!.bytes).toBe(Buffer.byteLength(cancel));
  });

  it('a cancelled request is not failed later when the engine goes away', async () => {
    const shim = await session(home.env);
    const longCall = (id: string, duration: number, steps: number) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: {
          name: 'trigger-long-running-operation',
          arguments: { duration, steps },
          _meta: { progressToken: id },
        },
      });
    shim.send(longCall('cancelled-2', 3, 6));
    for (;;) {
      const m = await shim.next(20_000);
      if (m['method'] === 'notifications/progress') break;
    }
    shim.send(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 'cancelled-2' },
      }),
    );
    shim.send(longCall('in-flight', 10, 1));
    // Lines are handled in order: once this is answered, the shim has seen the cancellation.
    await pingWorks(shim, 'sync');

    killEngine(home.dir);
    const lost = await untilId(shim, 'in-flight', 30_000);
    expect((lost.msg['error'] as { data: { code: string } }).data.code).toBe('ENGINE_UNAVAILABLE');
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'after-restart', method: 'ping' }));
    const after = await untilId(shim, 'after-restart', 30_000);
    expect(after.msg['result']).toEqual({});
    // The cancelled request got no answer of any kind: not the server's, not an engine-loss error.
    expect([...lost.skipped, ...after.skipped].filter((m) => m['id'] === 'cancelled-2')).toEqual([]);
  });
});
