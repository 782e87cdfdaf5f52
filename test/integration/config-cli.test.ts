/**
 * endpoints.json and the CLI, against the built CLI and engine (and a real server-everything for
 * the commands that connect): clear errors for a broken file that is never overwritten, `add`
 * validation that leaves no trace, the endpoint commands, atomic 0600 writes, hand edits picked up
 * live, and the `traffic` views.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type Everything, exited, POLL, startEverything } from '../helpers/processes.js';
import { BIN, cli, cliOk, enginePid, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

let server: Everything;
const { home, defer } = useTempHomes();

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  defer(() => server.kill());
});

const configPath = (h: Home) => join(h.dir, 'endpoints.json');
/** endpoints.json as read back from disk. */
interface ConfigJson {
  version: number;
  settings?: unknown;
  endpoints: Record<string, Record<string, unknown>>;
}
const readConfig = (h: Home) => JSON.parse(readFileSync(configPath(h), 'utf8')) as ConfigJson;

/** A control-API answer. */
interface ControlAnswer {
  result?: unknown;
  error: { code: number; message: string; data: { code: string } };
}

/** One control-API call on the home's engine socket, as raw JSON-RPC; resolves with the answer. */
function controlCall(h: Home, method: string, params: unknown): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const s = connect(join(h.dir, 'run', 'engine.sock'));
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        s.destroy();
        resolve(JSON.parse(buf.slice(0, i)));
      }
    });
    s.on('error', reject);
    s.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) + '\n');
  });
}

/** Polls `get` until `ok` holds of its value; returns that value. Fails with `what` and the last value. */
function waitUntil<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  return vi.waitFor(
    async () => {
      const v = await get();
      expect(ok(v), `${what}: ${JSON.stringify(v)}`).toBe(true);
      return v;
    },
    { ...POLL, interval: 100 },
  );
}

interface EndpointJson {
  name: string;
  config: { url: string; transport: string; headers: Record<string, string> };
  status: { state: string; pinned: boolean };
}
const listJson = async (h: Home) => JSON.parse(await cliOk(h.env, ['list', '--json'])) as EndpointJson[];

describe('a broken endpoints.json', () => {
  it('invalid JSON: list fails with the file path and line:column, add is refused, the file is untouched', async () => {
    const h = home();
    const text = '{\n  "version": 1,\n  "endpoints": {,\n}\n';
    writeFileSync(configPath(h), text);
    const before = statSync(configPath(h));

    const list = await cli(h.env, ['list']);
    expect(list.code).toBe(1);
    expect(list.stdout).toBe('');
    expect(list.stderr).toContain(`${configPath(h)}:3:17`);
    expect(list.stderr).toMatch(/not valid JSON/);

    const add = await cli(h.env, ['add', 'ev', server.url]);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain(`${configPath(h)}:3:17`);

    expect(readFileSync(configPath(h), 'utf8')).toBe(text);
    const after = statSync(configPath(h));
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    // The engine survived the bad file and still answers.
    expect(await cliOk(h.env, ['engine', '--detach'])).toContain(`pid ${enginePid(h.dir)}`);
  });

  it('a JSON error with no position in the message still points at the offending token', async () => {
    const h = home();
    // V8 words this one without a position ("Unexpected token ..."): the line:column must still be right.
    const text = '{\n  "version": 1,\n  "endpoints": }\n';
    writeFileSync(configPath(h), text);
    const r = await cli(h.env, ['list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${configPath(h)}:3:16`);
    expect(readFileSync(configPath(h), 'utf8')).toBe(text);
  });

  it('schema errors name the JSON path, and the file is untouched', async () => {
    const h = home();
    const text =
      JSON.stringify(
        { version: 1, endpoints: { x: { url: 'http://127.0.0.1:1/mcp', transport: 'carrier-pigeon' } } },
        null,
        2,
      ) + '\n';
    writeFileSync(configPath(h), text);
    const r = await cli(h.env, ['list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(configPath(h));
    expect(r.stderr).toContain('endpoints.x.transport');
    const add = await cli(h.env, ['add', 'ev', server.url]);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain('endpoints.x.transport');
    expect(readFileSync(configPath(h), 'utf8')).toBe(text);

    // An unknown top-level key (a typo) is refused by name too.
    const typo = JSON.stringify({ version: 1, endpoints: {}, setings: {} });
    writeFileSync(configPath(h), typo);
    const r2 = await cli(h.env, ['list']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('setings');
    expect(r2.stderr).toContain(configPath(h));
    expect(readFileSync(configPath(h), 'utf8')).toBe(typo);

    // A bad value inside settings names its path.
    const small = JSON.stringify({ version: 1, settings: { maxMessageBytes: 10 } });
    writeFileSync(configPath(h), small);
    const r3 = await cli(h.env, ['list']);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain('settings.maxMessageBytes');
    expect(readFileSync(configPath(h), 'utf8')).toBe(small);
  });
});

describe('add validation', () => {
  it('refuses bad input with a clear message and leaves endpoints.json as it was', async () => {
    const h = home();
    await cliOk(h.env, ['add', 'good', server.url, '--transport', 'streamable-http']);
    const text = readFileSync(configPath(h), 'utf8');
    const cases: [string[], RegExp][] = [
      [['add', 'bad', 'not a url'], /not a URL/],
      [['add', 'bad', 'ftp://127.0.0.1/mcp'], /unsupported scheme "ftp:"/],
      [['add', 'bad', 'ws://127.0.0.1:1/mcp', '--transport', 'sse'], /sse transport needs an http/],
      [
        ['add', 'bad', 'http://127.0.0.1:1/mcp', '--transport', 'websocket'],
        /websocket transport needs a ws/,
      ],
      [['add', 'a/b', 'http://127.0.0.1:1/mcp'], /name/],
      [['add', 'good', 'http://127.0.0.1:1/other'], /"good" exists already/],
      [['add', 'bad', 'http://127.0.0.1:1/mcp', '--header', 'Authorization: Bearer x'], /credential/],
      [['add', 'bad', 'http://127.0.0.1:1/mcp', '--header', 'X-Api-Key: k'], /credential/],
      [['add', 'bad', 'http://user:pw@127.0.0.1:1/mcp'], /credentials in the URL/],
      [['add', 'bad', 'http://127.0.0.1:1/mcp', '--transport', 'pigeon'], /pigeon/],
      [
        ['add', 'bad', 'http://127.0.0.1:1/mcp', '--request-timeout', '5'],
        /requestTimeoutMs|request-timeout|>=|100/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(h.env, args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(readFileSync(configPath(h), 'utf8'), args.join(' ')).toBe(text);
    }
    // The secret never reached the disk in any form.
    expect(readFileSync(configPath(h), 'utf8')).not.toContain('Bearer');
    expect((await listJson(h)).map((e) => e.name)).toEqual(['good']);
    // A bad name's message says what a name may be.
    expect((await cli(h.env, ['add', 'a/b', server.url])).stderr).toMatch(/letters, digits/);
  });

  it('reports stable codes over the control API: ENDPOINT_EXISTS, SECRET_IN_CONFIG', async () => {
    const h = home();
    await cliOk(h.env, ['add', 'good', server.url]);
    const dup = await controlCall(h, 'endpoints/add', { name: 'good', endpoint: { url: server.url } });
    expect(dup.error.data.code).toBe('ENDPOINT_EXISTS');
    const secret = await controlCall(h, 'endpoints/add', {
      name: 'sec',
      endpoint: { url: server.url, headers: { Authorization: 'Bearer x' } },
    });
    expect(secret.error.data.code).toBe('SECRET_IN_CONFIG');
    expect(secret.error.message).toMatch(/keychain/);
    expect(readFileSync(configPath(h), 'utf8')).not.toContain('Bearer');
  });
});

describe('endpoint commands', () => {
  it('add, list, list --json, remove', async () => {
    const h = home();
    expect(await cliOk(h.env, ['list'])).toMatch(/no endpoints yet/);
    const added = await cliOk(h.env, [
      'add',
      'ev',
      server.url,
      '--transport',
      'streamable-http',
      '--header',
      'X-Team: blue',
    ]);
    expect(added).toContain('mcp-tether shim ev');
    await cliOk(h.env, ['add', 'other', 'ws://127.0.0.1:1/mcp', '--transport', 'websocket']);

    const plain = await cliOk(h.env, ['list']);
    const rows = plain.trim().split('\n');
    expect(rows[0]).toMatch(/NAME\s+TRANSPORT\s+STATE\s+(URL|TARGET)/);
    expect(rows.find((r) => r.startsWith('ev '))).toMatch(
      /^ev\s+streamable-http\s+idle\s+http:\/\/127\.0\.0\.1/,
    );
    expect(rows.find((r) => r.startsWith('other '))).toMatch(/websocket\s+idle\s+ws:\/\/127\.0\.0\.1:1\/mcp/);

    const json = await listJson(h);
    expect(json.map((e) => e.name).sort()).toEqual(['ev', 'other']);
    const ev = json.find((e) => e.name === 'ev')!;
    expect(ev.config.url).toBe(server.url);
    expect(ev.config.transport).toBe('streamable-http');
    expect(ev.config.headers).toEqual({ 'X-Team': 'blue' });
    expect(ev.status.state).toBe('idle');
    expect(readConfig(h).endpoints['ev']!['headers']).toEqual({ 'X-Team': 'blue' });

    expect(await cliOk(h.env, ['remove', 'other'])).toContain('removed other');
    expect((await listJson(h)).map((e) => e.name)).toEqual(['ev']);
    expect(Object.keys(readConfig(h).endpoints)).toEqual(['ev']);

    const unknown = await cli(h.env, ['remove', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nope');
    expect(unknown.stderr).toMatch(/known endpoints: ev/);
    expect(Object.keys(readConfig(h).endpoints)).toEqual(['ev']);
  });

  it('status --json, connect and disconnect against a live server', async () => {
    const h = home();
    await cliOk(h.env, ['add', 'ev', server.url, '--transport', 'streamable-http']);
    await cliOk(h.env, ['add', 'dead', 'http://127.0.0.1:1/mcp', '--transport', 'streamable-http']);

    const status = async () => JSON.parse(await cliOk(h.env, ['status', '--json']));
    const s0 = await status();
    expect(s0.engine.pid).toBe(enginePid(h.dir));
    expect(typeof s0.engine.version).toBe('string');
    expect(s0.endpoints.map((e: { name: string }) => e.name).sort()).toEqual(['dead', 'ev']);
    for (const e of s0.endpoints) {
      expect(e).toMatchObject({ state: 'idle', reconnects: 0, rttHistory: [], pinned: false, sessions: 0 });
    }
    expect(await cliOk(h.env, ['status'])).toMatch(new RegExp(`pid ${s0.engine.pid}`));

    expect(await cliOk(h.env, ['connect', 'ev'])).toContain('kept connected');
    const ready = await waitUntil(
      status,
      (s) => s.endpoints.find((e: { name: string }) => e.name === 'ev').rttMs !== undefined,
      'a ping RTT for ev',
    );
    const ev = ready.endpoints.find((e: { name: string }) => e.name === 'ev');
    expect(ev).toMatchObject({ state: 'ready', pinned: true, transport: 'streamable-http', reconnects: 0 });
    expect(ev.rttMs).toBeGreaterThan(0);
    expect(ev.rttHistory).toContain(ev.rttMs);
    const one = JSON.parse(await cliOk(h.env, ['status', 'ev', '--json']));
    expect(one.endpoints).toHaveLength(1);
    expect(one.endpoints[0]).toMatchObject({ name: 'ev', state: 'ready', pinned: true });
    expect(await cliOk(h.env, ['status'])).toMatch(/ev\s+ready .*\d+(\.\d+)? ms/);

    // A pinned endpoint that cannot be reached goes down, with the error shown.
    await cliOk(h.env, ['connect', 'dead']);
    const down = await waitUntil(
      status,
      (s) => s.endpoints.find((e: { name: string }) => e.name === 'dead').state === 'down',
      'dead to be down',
    );
    expect(down.endpoints.find((e: { name: string }) => e.name === 'dead').lastError.code).toBe(
      'UPSTREAM_UNREACHABLE',
    );

    // Disconnect disconnects (held across restarts, see resilience.test.ts); connect lifts it.
    expect(await cliOk(h.env, ['disconnect', 'ev'])).toContain('ev: disconnected');
    const after = (await status()).endpoints.find((e: { name: string }) => e.name === 'ev');
    expect(after).toMatchObject({ state: 'disconnected', pinned: false });
    expect(await cliOk(h.env, ['connect', 'ev'])).toContain('kept connected');
    expect((await status()).endpoints.find((e: { name: string }) => e.name === 'ev').state).not.toBe(
      'disconnected',
    );

    const unknown = await cli(h.env, ['connect', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/known endpoints: (dead, ev|ev, dead)/);
  });
});

describe('the endpoints.json file', () => {
  it('is written atomically with mode 0600 and no leftovers; hand edits are picked up live', async () => {
    const h = home();
    await cliOk(h.env, ['add', 'one', server.url]);
    const st1 = statSync(configPath(h));
    expect(st1.mode & 0o777).toBe(0o600);
    await cliOk(h.env, ['add', 'two', server.url]);
    const st2 = statSync(configPath(h));
    expect(st2.mode & 0o777).toBe(0o600);
    // Replaced by a rename (a new inode), never rewritten in place.
    expect(st2.ino).not.toBe(st1.ino);
    await cliOk(h.env, ['remove', 'one']);
    expect(statSync(configPath(h)).mode & 0o777).toBe(0o600);
    expect(readdirSync(h.dir).filter((f) => f.endsWith('.tmp') || f.includes('.tmp'))).toEqual([]);
    expect(readdirSync(h.dir)).toContain('endpoints.json');

    // A user adds an endpoint with a text editor: the running engine sees it on the next list.
    const pid = enginePid(h.dir);
    const config = readConfig(h);
    config.endpoints['by-hand'] = { url: 'http://127.0.0.1:2/mcp', transport: 'sse' };
    writeFileSync(configPath(h), JSON.stringify(config, null, 4));
    const listed = await listJson(h);
    expect(listed.map((e) => e.name).sort()).toEqual(['by-hand', 'two']);
    expect(listed.find((e) => e.name === 'by-hand')!.config).toMatchObject({
      url: 'http://127.0.0.1:2/mcp',
      transport: 'sse',
      connectTimeoutMs: 10_000,
    });
    expect(enginePid(h.dir)).toBe(pid);

    // And a hand removal too.
    delete config.endpoints['two'];
    writeFileSync(configPath(h), JSON.stringify(config));
    expect((await listJson(h)).map((e) => e.name)).toEqual(['by-hand']);
    expect(enginePid(h.dir)).toBe(pid);
    expect(existsSync(configPath(h))).toBe(true);
  });
});

describe('traffic', () => {
  interface Rec {
    seq: number;
    time: string;
    endpoint: string;
    session: string;
    direction: string;
    kind: string;
    method: string;
    id: number | string;
    bytes: number;
    latencyMs?: number;
    message: { params?: { arguments?: { message?: string } }; result?: unknown };
  }
  const parse = (out: string) =>
    out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Rec);

  it('prints one line per message, --json with --limit, and --follow live', async () => {
    const h = home();
    await cliOk(h.env, ['add', 'ev', server.url, '--transport', 'streamable-http', '--ping-interval', '0']);
    const { client } = await shimClient(h.env, 'ev');
    try {
      for (let i = 0; i < 4; i++) await client.callTool({ name: 'echo', arguments: { message: `msg-${i}` } });

      const all = parse(
        await cliOk(h.env, ['traffic', '--json', '--method', 'tools/call', '--limit', '1000']),
      );
      expect(all).toHaveLength(8);
      const plain = (await cliOk(h.env, ['traffic', '--method', 'tools/call', '--limit', '1000']))
        .trim()
        .split('\n');
      expect(plain).toHaveLength(8);
      all.forEach((r, i) => {
        const line = plain[i]!;
        expect(line).toContain(`${r.endpoint}/${r.session}`);
        expect(line).toContain(r.direction === 'client-to-server' ? ' → ' : ' ← ');
        expect(line).toContain(` ${r.kind} tools/call #${r.id} ${r.bytes} B`);
        if (r.kind === 'response') expect(line).toMatch(/ B \d+(\.\d+)? ms$/);
        expect(line.startsWith(r.time.slice(11, 23))).toBe(true);
      });
      expect(
        all.filter((r) => r.kind === 'request').map((r) => r.message.params?.arguments?.message),
      ).toEqual(['msg-0', 'msg-1', 'msg-2', 'msg-3']);

      const last3 = parse(
        await cliOk(h.env, ['traffic', '--json', '--method', 'tools/call', '--limit', '3']),
      );
      expect(last3).toHaveLength(3);
      expect(last3.map((r) => r.seq)).toEqual(all.slice(-3).map((r) => r.seq));
      for (const r of last3) {
        for (const f of [
          'seq',
          'time',
          'endpoint',
          'session',
          'direction',
          'kind',
          'method',
          'id',
          'bytes',
          'message',
        ])
          expect(r, f).toHaveProperty(f);
        expect(r.endpoint).toBe('ev');
        expect(Date.parse(r.time)).not.toBeNaN();
      }
      // Without a filter the limit holds too.
      expect(parse(await cliOk(h.env, ['traffic', '--json', '--limit', '2']))).toHaveLength(2);

      // --follow prints a new record as it happens. The follower subscribes before it prints its
      // backlog, so once the backlog line is out, whatever comes next is live.
      await client.callTool({ name: 'echo', arguments: { message: 'follow-me-backlog' } });
      const follower = spawn(
        process.execPath,
        [BIN, 'traffic', '--follow', '--json', '--limit', '1', '--text', 'follow-me'],
        { env: h.env },
      );
      try {
        let out = '';
        let err = '';
        follower.stderr.on('data', (c: Buffer) => (err += c.toString()));
        const lines = () => parse(out.slice(0, out.lastIndexOf('\n') + 1));
        follower.stdout.on('data', (c: Buffer) => (out += c.toString()));
        const waitOut = async (ok: (recs: Rec[]) => boolean, what: string) =>
          waitUntil(async () => lines(), ok, `${what}; stderr: ${err}`);
        const backlog = await waitOut((r) => r.length >= 1, 'no backlog line');
        expect(backlog).toHaveLength(1);
        expect(JSON.stringify(backlog[0]!.message)).toContain('follow-me-backlog');

        await client.callTool({ name: 'echo', arguments: { message: 'follow-me-live' } });
        const recs = (await waitOut((r) => r.length >= 3, 'no live records')).slice(1);
        const req = recs.find((r) => r.kind === 'request')!;
        expect(req).toMatchObject({ endpoint: 'ev', direction: 'client-to-server', method: 'tools/call' });
        expect(req.message.params?.arguments?.message).toBe('follow-me-live');
        const res = recs.find((r) => r.kind === 'response')!;
        expect(res.id).toBe(req.id);
        expect(res.seq).toBeGreaterThan(req.seq);
        expect(req.seq).toBeGreaterThan(backlog[0]!.seq);
        expect(follower.exitCode).toBeNull();
      } finally {
        follower.kill();
        await exited(follower);
      }
    } finally {
      await client.close();
    }
  });
});
