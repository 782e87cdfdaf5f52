/**
 * Faults of the SSH connection under a connected client, against real OpenSSH and server-everything:
 * sshd killed (listener and per-connection processes, as a crash or reboot) with a `tools/call` in
 * flight, then started again. The client gets an error in bounded time, and the next request goes
 * through a new SSH connection without restarting the shim.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerTo, echo, isAlive, startLongCall } from '../helpers/faults-procs.js';
import { EVERYTHING, startEverything, type Everything } from '../helpers/processes.js';
import { makeKey, startSshd, type KeyPair, type Sshd } from '../helpers/sshd.js';
import {
  cli,
  cliOk,
  initializeLine,
  rawShim,
  shimClient,
  type Home,
  useTempHomes,
} from '../helpers/tether.js';

/** Upper bound for a fault to reach the client as an error (the requirement). */
const FAULT_BOUND_MS = 2000;

let scratch: string;
let key: KeyPair;
let everything: Everything;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'ssh-faults-'));
  key = makeKey(scratch, 'client');
  everything = await startEverything('streamableHttp');
});

// A failed test shows the home's traffic too: its events show SSH drops and reconnects.
const { home: tempHome, defer } = useTempHomes({
  onFail: async (h) => {
    const traffic = await cli(h.env, ['traffic', '--json', '--limit', '300']);
    console.error(
      traffic.stdout
        .split('\n')
        .map((l) => l.slice(0, 400))
        .join('\n'),
    );
  },
});

afterAll(async () => {
  await everything?.kill();
  rmSync(scratch, { recursive: true, force: true });
});

/** An sshd that trusts `key`, and a home (private HOME, no agent) that trusts the sshd. */
async function sshSetup(): Promise<{ sshd: Sshd; home: Home }> {
  const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
  defer(() => sshd.stop());
  const home = tempHome();
  const user = join(home.dir, 'u');
  mkdirSync(join(user, '.ssh'), { recursive: true });
  const [type, blob] = readFileSync(sshd.hostKey.publicKey, 'utf8').trim().split(/\s+/);
  writeFileSync(join(user, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
  home.env['HOME'] = user;
  delete home.env['SSH_AUTH_SOCK'];
  return { sshd, home };
}

async function client(h: Home, name: string): ReturnType<typeof shimClient> {
  const c = await shimClient(h.env, name);
  defer(() => c.client.close());
  return c;
}

/** The types of the endpoint's traffic events, in order. */
async function eventTypes(h: Home, endpoint: string): Promise<string[]> {
  const out = await cliOk(h.env, ['traffic', '--json', '--endpoint', endpoint, '--limit', '5000']);
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; event?: { type: string } })
    .filter((r) => r.kind === 'event')
    .map((r) => r.event!.type);
}

async function sshEvents(h: Home, endpoint: string): Promise<string[]> {
  return (await eventTypes(h, endpoint)).filter((t) => t.startsWith('ssh-'));
}

/**
 * Kills sshd at the first progress of a long call; checks the error, restarts sshd, checks recovery.
 * @param code the `data.code` the interrupted call must fail with
 */
async function killMidCall(h: Home, sshd: Sshd, name: string, code: string): Promise<void> {
  const { client: c, transport } = await client(h, name);
  const shimPid = transport.pid!;
  await echo(c, 'before the crash');
  expect(await sshEvents(h, name)).toEqual(['ssh-connected']);

  const { settled: call } = await startLongCall(c);
  const killedAt = Date.now();
  await sshd.kill();
  const r = await call;
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error).toBeInstanceOf(McpError);
  expect((r.error as McpError).data).toMatchObject({ code });
  expect(r.at - killedAt).toBeLessThan(FAULT_BOUND_MS);

  await sshd.start();
  await echo(c, 'after sshd came back');
  expect(transport.pid).toBe(shimPid);
  expect(isAlive(shimPid)).toBe(true);
  expect(await sshEvents(h, name)).toEqual(['ssh-connected', 'ssh-closed', 'ssh-connected']);
}

describe('SSH faults', () => {
  it('HTTP over SSH: sshd killed mid-call fails the call within 2 s; the next request reconnects', async () => {
    const { sshd, home } = await sshSetup();
    await cliOk(home.env, [
      'add',
      'fs',
      everything.url,
      '--ssh',
      `root@127.0.0.1:${sshd.port}`,
      '--identity',
      key.privateKey,
      '--ping-interval',
      '0',
      // The long-running tool is read-only: it would be sent again once SSH is back (safe retry).
      '--no-safe-retry',
    ]);
    // The broken response stream cannot be resumed: the tunnel is gone, and the error says so.
    await killMidCall(home, sshd, 'fs', 'SSH_UNREACHABLE');
    // The GET stream for server-initiated messages is open again over the new connection.
    const types = await eventTypes(home, 'fs');
    const reconnected = types.lastIndexOf('ssh-connected');
    expect(types.slice(reconnected)).toContain('stream-open');
  });

  it('an SSH server that accepts TCP but never speaks SSH fails with SSH_TIMEOUT after the connect timeout', async () => {
    // Reads and ignores everything, and goes away when the client does.
    const silent = createServer((socket) => socket.on('error', () => undefined).resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    defer(() => new Promise((r) => silent.close(r)));
    const port = (silent.address() as AddressInfo).port;
    const home = tempHome();
    home.env['HOME'] = join(home.dir, 'u');
    delete home.env['SSH_AUTH_SOCK'];
    await cliOk(home.env, [
      'add',
      'mute',
      everything.url,
      '--ssh',
      `root@127.0.0.1:${port}`,
      '--identity',
      key.privateKey,
      '--connect-timeout',
      '1000',
    ]);
    const raw = rawShim(home.env, 'mute');
    defer(() => raw.close());
    const t0 = Date.now();
    raw.send(initializeLine(1));
    const answer = await answerTo(raw, 1, 20_000);
    expect(answer.error?.data?.code).toBe('SSH_TIMEOUT');
    expect(answer.error?.message).toContain(`root@127.0.0.1:${port}`);
    expect(answer.error?.message).toContain('1000 ms');
    // Bounded by the connect timeout, not by the (default 5 min) request timeout.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('stdio over SSH: sshd killed mid-call fails the call within 2 s; the command runs again after', async () => {
    const { sshd, home } = await sshSetup();
    await cliOk(home.env, [
      'add',
      'r',
      '--ssh',
      `root@127.0.0.1:${sshd.port}`,
      '--identity',
      key.privateKey,
      '--ping-interval',
      '0',
      '--no-safe-retry',
      '--',
      process.execPath,
      EVERYTHING,
      'stdio',
    ]);
    // The remote process went with the connection: the next request starts it again (a new session).
    await killMidCall(home, sshd, 'r', 'SSH_UNREACHABLE');
  });
});
