/**
 * Issue 10 §4: one redaction for everything that leaves the engine. A server that echoes the
 * bearer token (in an HTTP error body, in JSON-escaped spellings, in its server name) never gets it
 * into a client's error message, `status` (lastError), `doctor`, traffic, or any file of the home.
 */
import { describe, expect, it, vi } from 'vitest';
import { startHostileServer } from '../fixtures/hostile-server.js';
import { useKeyring } from '../helpers/keyring.js';
import { cli, cliOk, filesContaining, initializeLine, rawShim, useTempHomes } from '../helpers/tether.js';

/** Has a `/`, which PHP's JSON encoder (and others) write as `\/`. */
const TOKEN = 'tok/5f0c1d2e+bearer/secret';
const ESCAPED = ['tok\\/5f0c1d2e+bearer\\/secret', '\\u0074\\u006f\\u006b\\u002f'];

const keyring = useKeyring();

const { home: tempHome, defer } = useTempHomes();

function expectNoSecret(text: string): void {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain('5f0c1d2e');
  for (const e of ESCAPED) expect(text).not.toContain(e);
}

describe('a server echoing the token', () => {
  it('is masked in client errors, status, doctor, traffic and engine.log', async () => {
    const server = await startHostileServer({ serverName: `hostile ${TOKEN}` });
    defer(() => server.close());
    const home = tempHome();
    const env = keyring().env(home.env);
    await cliOk(env, ['add', 'echoer', server.url, '--transport', 'streamable-http', '--auth', 'bearer']);
    expect((await cli(env, ['secret', 'set', 'echoer'], TOKEN)).code).toBe(0);

    const shim = rawShim(env, 'echoer');
    try {
      shim.send(initializeLine(1));
      expect((await shim.next(20_000))['result']).toBeDefined();
      // 502 "upstream rejected <token>": the client's error says it, masked.
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'reject' } }));
      const rejected = (await shim.next(20_000)) as { error: { message: string } };
      expect(rejected.error.message).toContain('[REDACTED]');
      expectNoSecret(JSON.stringify(rejected));
      // An answer with the token in escaped spellings reaches the client as sent (verbatim relay)...
      shim.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'escaped' } }));
      const escaped = (await shim.next(20_000)) as { result: { content: { text: string }[] } };
      expect(escaped.result.content.map((c) => c.text)).toEqual([`token was ${TOKEN}`, `token was ${TOKEN}`]);
    } finally {
      await shim.close();
    }

    // ...and is masked everywhere else: doctor (the server's name)...
    const named = await cli(env, ['doctor', 'echoer']);
    expect(named.stdout).toContain('hostile [REDACTED]');
    expectNoSecret(named.stdout + named.stderr);
    // ...status, doctor, traffic and files. From now on the server answers everything, the health
    // probe's pings included, with 502 "upstream rejected <token>".
    server.rejectAll();
    await cliOk(env, ['connect', 'echoer']);
    await vi.waitFor(
      async () => expect(await cliOk(env, ['status', '--json'])).toContain('upstream rejected'),
      { timeout: 30_000, interval: 500 },
    );
    const status = await cliOk(env, ['status', '--json']);
    expect(status).toContain('[REDACTED]');
    expectNoSecret(status);
    expectNoSecret(await cliOk(env, ['status']));
    const doctor = await cli(env, ['doctor', 'echoer']);
    expect(doctor.stdout).toContain('upstream rejected [REDACTED]');
    expectNoSecret(doctor.stdout + doctor.stderr);
    expectNoSecret((await cli(env, ['doctor', 'echoer', '--json'])).stdout);
    const traffic = await cliOk(env, ['traffic', '--json', '--limit', '1000']);
    expect(traffic).toContain('token was [REDACTED]');
    expectNoSecret(traffic);
    expect(filesContaining(home.dir, TOKEN)).toEqual([]);
    expect(filesContaining(home.dir, '5f0c1d2e')).toEqual([]);
  });

  it('masks a short secret in credential-named members and as a whole value', async () => {
    const server = await startHostileServer();
    defer(() => server.close());
    const home = tempHome();
    const env = keyring().env(home.env);
    await cliOk(env, [
      'add',
      'short',
      server.url,
      '--transport',
      'streamable-http',
      '--auth',
      'header:X-Key',
    ]);
    expect((await cli(env, ['secret', 'set', 'short', '--header', 'X-Key'], 'q7Zp')).code).toBe(0);
    const shim = rawShim(env, 'short');
    try {
      shim.send(initializeLine(1));
      expect((await shim.next(20_000))['result']).toBeDefined();
      shim.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'echo', arguments: { password: 'is q7Zp', pin: 'q7Zp', note: 'aq7Zpb' } },
        }),
      );
      expect((await shim.next(20_000))['id']).toBe(2);
    } finally {
      await shim.close();
    }
    const traffic = await cliOk(env, ['traffic', '--json', '--method', 'tools/call']);
    const request = JSON.parse(traffic.trim().split('\n')[0]!) as {
      message: { params: { arguments: Record<string, string> } };
    };
    expect(request.message.params.arguments).toEqual({
      password: '[REDACTED]',
      pin: '[REDACTED]',
      note: 'aq7Zpb',
    });
  });
});
