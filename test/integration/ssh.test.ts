/**
 * Endpoints reached over SSH, against real OpenSSH (sshd on loopback, ssh-agent, ssh-keygen) and a
 * real server-everything: Streamable HTTP through `direct-tcpip` channels (no listening port), a
 * stdio server run over `exec`, host-key verification and `hosts trust`, authentication, the ssh
 * config (Host aliases, ProxyJump), jump hosts, and `doctor`.
 *
 * Every engine gets a private HOME (its ~/.ssh is the test's own) and an explicit SSH_AUTH_SOCK,
 * so neither the machine's ~/.ssh nor its agent ever take part.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { startWsMcpServer } from '../fixtures/ws-mcp-server.js';
import { answerTo } from '../helpers/faults-procs.js';
import { procNetRows, socketInodes } from '../helpers/proc-net.js';
import { EVERYTHING, type Everything, freePort, POLL, ROOT, startEverything } from '../helpers/processes.js';
import { makeKey, startAgent, startSshd, type KeyPair, type SshAgent, type Sshd } from '../helpers/sshd.js';
import {
  cli,
  cliOk,
  enginePid,
  initializeLine,
  rawShim,
  shimClient,
  type Home,
  useTempHomes,
} from '../helpers/tether.js';

let everything: Everything;
/** The SSH server in front of server-everything. */
let target: Sshd;
/** A second SSH server, used as a jump host (and as a host nobody trusts yet). */
let jump: Sshd;
let scratch: string;
let key: KeyPair;
let wrongKey: KeyPair;
let lockedKey: KeyPair;
/**
 * The home of the tests that need nothing special: its user trusts `target` (a plain known_hosts
 * entry) and has no agent. Each test adds endpoints of its own names.
 */
let shared: SshHome;
const { home: tempHome, defer } = useTempHomes();

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'ssh-it-'));
  defer(() => rmSync(scratch, { recursive: true, force: true }));
  key = makeKey(scratch, 'client');
  wrongKey = makeKey(scratch, 'stranger');
  lockedKey = makeKey(scratch, 'locked', 'correct horse battery staple');
  [everything, target, jump] = await Promise.all([
    startEverything('streamableHttp'),
    startSshd({ authorizedKeys: [key.publicKey, lockedKey.publicKey] }),
    startSshd({ authorizedKeys: [key.publicKey] }),
  ]);
  defer(() => Promise.all([target.stop(), jump.stop(), everything.kill()]));
  shared = sshHome({ trust: [target] });
});

/** The known_hosts line ssh writes for a server on a non-default port. */
function knownHostsLine(sshd: Sshd): string {
  const [type, blob] = readFileSync(sshd.hostKey.publicKey, 'utf8').trim().split(/\s+/);
  return `[127.0.0.1]:${sshd.port} ${type} ${blob}`;
}

/** A home whose engine has its own HOME (with ~/.ssh) and agent socket (or none). */
interface SshHome extends Home {
  /** The engine's HOME. */
  user: string;
  /** <HOME>/.ssh */
  dotSsh: string;
}

/** A fresh home trusting `trust` in its user's ~/.ssh/known_hosts, with `agent` or no agent at all. */
function sshHome(opts: { agent?: SshAgent; trust?: Sshd[] } = {}): SshHome {
  const home = tempHome();
  const user = join(home.dir, 'u');
  const dotSsh = join(user, '.ssh');
  mkdirSync(dotSsh, { recursive: true, mode: 0o700 });
  home.env['HOME'] = user;
  if (opts.agent) home.env['SSH_AUTH_SOCK'] = opts.agent.socket;
  else delete home.env['SSH_AUTH_SOCK'];
  if (opts.trust?.length)
    writeFileSync(join(dotSsh, 'known_hosts'), opts.trust.map(knownHostsLine).join('\n') + '\n');
  return { ...home, user, dotSsh };
}

/** `--ssh root@127.0.0.1:<port>`. */
const dest = (sshd: Sshd, user = 'root') => `${user}@127.0.0.1:${sshd.port}`;

/**
 * Sends `initialize` through a fresh raw shim and returns the JSON-RPC error it got.
 * @param attached runs before the shim goes (with no session attached, an endpoint is `idle`)
 */
async function initializeError(
  env: NodeJS.ProcessEnv,
  name: string,
  attached?: () => Promise<void>,
): Promise<{
  code: number;
  message: string;
  data: { code: string; hint?: string } & Record<string, unknown>;
}> {
  const raw = rawShim(env, name);
  try {
    raw.send(initializeLine(1));
    const answer = await answerTo(raw, 1, 30_000);
    expect(answer.result, `initialize of ${name} should have failed`).toBeUndefined();
    expect(answer.error).toBeDefined();
    await attached?.();
    return answer.error as never;
  } finally {
    await raw.close();
  }
}

/** Lists the tools and calls echo through a shim, as an MCP client does. */
async function echoThrough(env: NodeJS.ProcessEnv, name: string, message = `hello ${name}`): Promise<Client> {
  const { client } = await shimClient(env, name);
  defer(() => client.close());
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toContain('echo');
  const r = await client.callTool({ name: 'echo', arguments: { message } });
  expect(r.content).toEqual([{ type: 'text', text: `Echo: ${message}` }]);
  return client;
}

interface TrafficLine {
  kind: string;
  session: string;
  endpoint: string;
  event?: { type: string; detail: string };
}

/** The endpoint's traffic records, oldest first. */
async function traffic(env: NodeJS.ProcessEnv, endpoint: string): Promise<TrafficLine[]> {
  const out = await cliOk(env, ['traffic', '--json', '--endpoint', endpoint, '--limit', '5000']);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TrafficLine);
}

/** The details of the endpoint's traffic events of one type, oldest first. */
async function events(env: NodeJS.ProcessEnv, endpoint: string, type: string): Promise<string[]> {
  return (await traffic(env, endpoint))
    .filter((r) => r.kind === 'event' && r.event?.type === type)
    .map((r) => r.event!.detail);
}

interface Status {
  name: string;
  state: string;
  transport?: string;
  era?: string;
  serverVersions?: string[];
  lastError?: { code: string; message: string };
}

/** One endpoint's entry of `status --json`. */
async function status(env: NodeJS.ProcessEnv, name: string): Promise<Status> {
  const all = JSON.parse(await cliOk(env, ['status', '--json'])) as { endpoints: Status[] };
  const s = all.endpoints.find((e) => e.name === name);
  expect(s, `status of ${name}`).toBeDefined();
  return s!;
}

interface DoctorStep {
  layer: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

/** `doctor <name> --json`; its exit code must agree with the report. */
async function doctor(env: NodeJS.ProcessEnv, name: string): Promise<{ ok: boolean; steps: DoctorStep[] }> {
  const r = await cli(env, ['doctor', name, '--json'], undefined, 60_000);
  const report = JSON.parse(r.stdout) as { ok: boolean; steps: DoctorStep[] };
  expect(r.code).toBe(report.ok ? 0 : 1);
  return report;
}

/**
 * The listening sockets a process holds (Linux): its socket inodes from /proc/<pid>/fd matched
 * against listening rows of /proc/net/tcp, tcp6 (state 0A) and unix (flag __SO_ACCEPTCON).
 */
function listeningSockets(pid: number): string[] {
  const inodes = socketInodes(pid);
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6'] as const) {
    for (const f of procNetRows(table)) if (f[3] === '0A' && inodes.has(f[9]!)) out.push(`tcp ${f[1]}`);
  }
  for (const f of procNetRows('unix')) {
    if (parseInt(f[3]!, 16) & 0x10000 && inodes.has(f[6]!)) out.push(`unix ${f[7] ?? '(unnamed)'}`);
  }
  return out.sort();
}

describe('HTTP through an SSH tunnel', () => {
  it('relays over direct-tcpip channels without opening any listening socket in the engine', async () => {
    // A plain `[127.0.0.1]:port` entry of the user's own ~/.ssh/known_hosts is trusted.
    const h = shared;
    await cliOk(h.env, ['add', 'fs', everything.url, '--ssh', dest(target), '--identity', key.privateKey]);
    const pid = enginePid(h.dir)!;
    expect(pid).toBeTypeOf('number');
    const before = listeningSockets(pid);
    expect(before).toEqual([`unix ${join(h.dir, 'run', 'engine.sock')}`]);

    const client = await echoThrough(h.env, 'fs', 'through the tunnel');
    // The tunnel is up (the client is still attached): still only the control socket.
    expect(listeningSockets(pid)).toEqual(before);
    const again = await client.callTool({ name: 'echo', arguments: { message: 'twice' } });
    expect(again.content).toEqual([{ type: 'text', text: 'Echo: twice' }]);
    expect(listeningSockets(pid)).toEqual(before);

    const connected = await events(h.env, 'fs', 'ssh-connected');
    expect(connected).toEqual([`SSH connected to root@127.0.0.1:${target.port}`]);
    expect(await status(h.env, 'fs')).toMatchObject({ state: 'ready', transport: 'streamable-http' });
  });

  it('legacy SSE and WebSocket URLs go through the tunnel too, and tunnel errors keep their code', async () => {
    const [sse, ws] = await Promise.all([startEverything('sse'), startWsMcpServer()]);
    defer(() => sse.kill());
    defer(() => ws.close());
    // The jump server's key is trusted by nobody here.
    const h = shared;
    const via = (sshd: Sshd) => ['--ssh', dest(sshd), '--identity', key.privateKey];
    await cliOk(h.env, ['add', 'sse', sse.url, ...via(target)]);
    await cliOk(h.env, ['add', 'ws', ws.url, ...via(target)]);
    await cliOk(h.env, ['add', 'sse-untrusted', sse.url, '--transport', 'sse', ...via(jump)]);
    await cliOk(h.env, ['add', 'ws-untrusted', ws.url, ...via(jump)]);

    await echoThrough(h.env, 'sse', 'legacy SSE over SSH');
    expect((await status(h.env, 'sse')).transport).toBe('sse');
    await echoThrough(h.env, 'ws', 'WebSocket over SSH');
    expect((await status(h.env, 'ws')).transport).toBe('websocket');
    for (const name of ['sse-untrusted', 'ws-untrusted']) {
      const err = await initializeError(h.env, name);
      expect(err.data.code).toBe('HOST_KEY_UNKNOWN');
      expect(err.message).toContain(jump.hostKey.fingerprint);
    }
  });
});

/** ESTABLISHED TCP connections of process `pid` to 127.0.0.1:`port` (Linux: /proc/<pid>/fd, /proc/net/tcp). */
function connectionsTo(pid: number, port: number): number {
  const inodes = socketInodes(pid);
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return procNetRows('tcp').filter((f) => f[2] === remote && f[3] === '01' && inodes.has(f[9]!)).length;
}

describe('disconnect', () => {
  it('closes the SSH connection; clients get ENDPOINT_DISCONNECTED until connect', async () => {
    const h = sshHome({ trust: [target] });
    await cliOk(h.env, ['add', 'cut', everything.url, '--ssh', dest(target), '--identity', key.privateKey]);
    const client = await echoThrough(h.env, 'cut', 'before');
    const pid = enginePid(h.dir)!;
    expect(connectionsTo(pid, target.port)).toBe(1);

    await cliOk(h.env, ['disconnect', 'cut']);
    await vi.waitFor(() => expect(connectionsTo(pid, target.port), 'the SSH connections left').toBe(0), POLL);
    const refused = await client
      .callTool({ name: 'echo', arguments: { message: 'x' } })
      .catch((e: unknown) => e);
    expect((refused as { data?: { code?: string } }).data?.code).toBe('ENDPOINT_DISCONNECTED');
    expect(connectionsTo(pid, target.port)).toBe(0);
    expect(await status(h.env, 'cut')).toMatchObject({ state: 'disconnected' });

    await cliOk(h.env, ['connect', 'cut']);
    const r = await client.callTool({ name: 'echo', arguments: { message: 'after' } });
    expect(r.content).toEqual([{ type: 'text', text: 'Echo: after' }]);
    expect(connectionsTo(pid, target.port)).toBe(1);
  });
});

describe('a stdio server over SSH exec', () => {
  it('runs the remote command, relays its stdio, and records its stderr lines', async () => {
    const h = shared;
    const wrapper = join(scratch, 'everything-stdio.sh');
    writeFileSync(
      wrapper,
      `#!/bin/sh\necho "wrapper: starting server-everything" >&2\nexec '${process.execPath}' '${EVERYTHING}' stdio\n`,
    );
    chmodSync(wrapper, 0o755);
    await cliOk(h.env, ['add', 'r', '--ssh', dest(target), '--identity', key.privateKey, '--', wrapper]);
    await echoThrough(h.env, 'r', 'over exec');
    expect(await status(h.env, 'r')).toMatchObject({ state: 'ready', transport: 'stdio', era: 'legacy' });
    const seen = (await traffic(h.env, 'r')).filter((t) => t.kind === 'event').map((t) => t.event!);
    expect(seen).toContainEqual({ type: 'stderr', detail: 'wrapper: starting server-everything' });
    expect(seen.filter((e) => e.type === 'ssh-connected')).toHaveLength(1);
  });

  it('a 2026-07-28-only stdio server: the era probe finds it modern and a 2025-11-25 client is bridged', async () => {
    const h = shared;
    const server = join(ROOT, 'test/fixtures/modern-stdio-server.mjs');
    await cliOk(h.env, [
      'add',
      'm',
      '--ssh',
      dest(target),
      '--identity',
      key.privateKey,
      '--',
      process.execPath,
      server,
    ]);
    const { client } = await shimClient(h.env, 'm');
    defer(() => client.close());
    expect(client.getServerVersion()).toMatchObject({ name: 'modern-stdio' });
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    const r = await client.callTool({ name: 'echo', arguments: { text: 'over exec, bridged' } });
    expect(r.content).toEqual([{ type: 'text', text: 'over exec, bridged' }]);
    expect(await status(h.env, 'm')).toMatchObject({
      transport: 'stdio',
      era: 'modern',
      serverVersions: ['2026-07-28'],
    });
    expect((await events(h.env, 'm', 'era')).join('\n')).toContain('modern server (2026-07-28)');
    const report = await doctor(h.env, 'm');
    expect(report.ok).toBe(true);
    expect(report.steps.find((st) => st.layer === 'initialize')?.detail).toContain('modern server');
  });

  it('a remote command that is not found fails initialize with REMOTE_COMMAND_FAILED (exit 127)', async () => {
    const h = shared;
    await cliOk(h.env, [
      'add',
      'missing',
      '--ssh',
      dest(target),
      '--identity',
      key.privateKey,
      '--',
      'nonexistent-mcp-server',
      '--flag',
    ]);
    const err = await initializeError(h.env, 'missing');
    expect(err.data.code).toBe('REMOTE_COMMAND_FAILED');
    expect(err.message).toContain('nonexistent-mcp-server');
    expect(err.message).toContain('127');
    expect(err.data.hint).toContain('--login-shell');
  });

  it('a remote command killed by a signal fails initialize naming the signal and its last stderr line', async () => {
    const h = shared;
    await cliOk(h.env, [
      'add',
      'killed',
      '--ssh',
      dest(target),
      '--identity',
      key.privateKey,
      '--',
      'sh',
      '-c',
      'echo "out of licences" >&2; kill -TERM $$',
    ]);
    const err = await initializeError(h.env, 'killed');
    expect(err.data.code).toBe('REMOTE_COMMAND_FAILED');
    expect(err.message).toContain('killed by SIGTERM');
    expect(err.message).toContain('out of licences');
  });

  it('--login-shell runs the command through the login shell, so PATH from the profile applies', async () => {
    // A server whose sessions get their own HOME, so its login shell reads this test's profile.
    const profileHome = join(scratch, 'remote-home');
    const bin = join(profileHome, 'tools');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(profileHome, '.bash_profile'), `PATH="${bin}:$PATH"; export PATH\n`);
    writeFileSync(
      join(bin, 'everything-mcp'),
      `#!/bin/sh\nexec '${process.execPath}' '${EVERYTHING}' stdio\n`,
    );
    chmodSync(join(bin, 'everything-mcp'), 0o755);
    const sshd = await startSshd({ authorizedKeys: [key.publicKey], extra: [`SetEnv HOME=${profileHome}`] });
    defer(() => sshd.stop());
    const h = sshHome({ trust: [sshd] });
    const base = ['--ssh', dest(sshd), '--identity', key.privateKey];
    await cliOk(h.env, ['add', 'plain', ...base, '--', 'everything-mcp']);
    await cliOk(h.env, ['add', 'login', ...base, '--login-shell', '--', 'everything-mcp']);

    // Without the login shell the profile's PATH is not there: not found.
    const err = await initializeError(h.env, 'plain');
    expect(err.data.code).toBe('REMOTE_COMMAND_FAILED');
    expect(err.message).toContain('everything-mcp');
    await echoThrough(h.env, 'login', 'via the login shell');

    const report = await doctor(h.env, 'login');
    expect(report.ok).toBe(true);
    expect(report.steps.find((s) => s.layer === 'ssh-channel')?.detail).toContain(
      join(bin, 'everything-mcp'),
    );
  });
});

describe('host keys', () => {
  it('an unknown key is refused with its fingerprint until `hosts trust` records it', async () => {
    const h = sshHome();
    await cliOk(h.env, ['add', 'fs', everything.url, '--ssh', dest(target), '--identity', key.privateKey]);
    const fp = target.hostKey.fingerprint;

    const err = await initializeError(h.env, 'fs', async () => {
      expect(await status(h.env, 'fs')).toMatchObject({
        state: 'host-untrusted',
        lastError: { code: 'HOST_KEY_UNKNOWN' },
      });
    });
    expect(err.data.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toContain(fp);

    // Not a terminal, no --fingerprint: shows the key and refuses.
    const shown = await cli(h.env, ['hosts', 'trust', 'fs']);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain(fp);
    expect(shown.stdout).toContain(`127.0.0.1:${target.port}`);
    const appKnownHosts = join(h.dir, 'state', 'known_hosts');
    expect(existsSync(appKnownHosts)).toBe(false);

    // A fingerprint that is not the server's: nothing recorded.
    const wrong = await cli(h.env, ['hosts', 'trust', 'fs', '--fingerprint', wrongKey.fingerprint]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('nothing was recorded');
    expect(existsSync(appKnownHosts)).toBe(false);
    expect((await initializeError(h.env, 'fs')).data.code).toBe('HOST_KEY_UNKNOWN');

    const right = await cli(h.env, ['hosts', 'trust', 'fs', '--fingerprint', fp]);
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toContain(`trusted 127.0.0.1:${target.port} ${fp}`);
    expect(readFileSync(appKnownHosts, 'utf8')).toBe(knownHostsLine(target) + '\n');
    // The user's own known_hosts is left alone.
    expect(existsSync(join(h.dotSsh, 'known_hosts'))).toBe(false);

    await echoThrough(h.env, 'fs', 'trusted now');
  });

  it('a changed key is refused as HOST_KEY_MISMATCH, and `hosts trust` will not record it', async () => {
    const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
    defer(() => sshd.stop());
    const h = sshHome();
    await cliOk(h.env, ['add', 'fs', everything.url, '--ssh', dest(sshd), '--identity', key.privateKey]);
    await cliOk(h.env, ['hosts', 'trust', 'fs', '--fingerprint', sshd.hostKey.fingerprint]);
    const client = await echoThrough(h.env, 'fs', 'before the new key');
    await client.close();
    const appKnownHosts = join(h.dir, 'state', 'known_hosts');
    const recorded = readFileSync(appKnownHosts, 'utf8');

    const old = sshd.hostKey.fingerprint;
    await sshd.kill();
    const fresh = sshd.rotateHostKey();
    await sshd.start();
    expect(fresh.fingerprint).not.toBe(old);

    for (let i = 0; i < 2; i++) {
      const err = await initializeError(h.env, 'fs', async () => {
        expect((await status(h.env, 'fs')).state).toBe('host-untrusted');
      });
      expect(err.data.code).toBe('HOST_KEY_MISMATCH');
      expect(err.message).toContain(fresh.fingerprint);
      expect(err.message).toContain('CHANGED');
    }

    const r = await cli(h.env, ['hosts', 'trust', 'fs', '--fingerprint', fresh.fingerprint]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CHANGED');
    expect(r.stderr).toContain('--replace');
    expect(readFileSync(appKnownHosts, 'utf8')).toBe(recorded);
    expect((await initializeError(h.env, 'fs')).data.code).toBe('HOST_KEY_MISMATCH');
  });

  it('a key of another type is a changed key too; only `hosts trust --replace` records it', async () => {
    const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
    defer(() => sshd.stop());
    const h = sshHome();
    await cliOk(h.env, ['add', 'ty', everything.url, '--ssh', dest(sshd), '--identity', key.privateKey]);
    await cliOk(h.env, ['hosts', 'trust', 'ty', '--fingerprint', sshd.hostKey.fingerprint]);
    const appKnownHosts = join(h.dir, 'state', 'known_hosts');
    const recorded = readFileSync(appKnownHosts, 'utf8');
    expect(recorded).toContain('ssh-ed25519');

    // The server now offers only an RSA key: OpenSSH says REMOTE HOST IDENTIFICATION HAS CHANGED.
    await sshd.kill();
    const rsa = sshd.rotateHostKey('rsa');
    await sshd.start();
    const err = await initializeError(h.env, 'ty');
    expect(err.data.code).toBe('HOST_KEY_MISMATCH');
    expect(err.message).toContain(rsa.fingerprint);
    const shown = await cli(h.env, ['hosts', 'trust', 'ty']);
    expect(shown.stdout).toContain(`ssh-rsa  ${rsa.fingerprint}  mismatch`);
    const refused = await cli(h.env, ['hosts', 'trust', 'ty', '--fingerprint', rsa.fingerprint]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CHANGED');
    expect(refused.stderr).toContain(`--replace --fingerprint ${rsa.fingerprint}`);
    expect(readFileSync(appKnownHosts, 'utf8')).toBe(recorded);

    // --replace with the confirmed fingerprint: the old line goes, the new key is trusted.
    const wrongFp = await cli(h.env, [
      'hosts',
      'trust',
      'ty',
      '--replace',
      '--fingerprint',
      wrongKey.fingerprint,
    ]);
    expect(wrongFp.code).toBe(1);
    expect(readFileSync(appKnownHosts, 'utf8')).toBe(recorded);
    await cliOk(h.env, ['hosts', 'trust', 'ty', '--replace', '--fingerprint', rsa.fingerprint]);
    const now = readFileSync(appKnownHosts, 'utf8');
    expect(now).not.toContain('ssh-ed25519');
    expect(now).toContain(`[127.0.0.1]:${sshd.port} ssh-rsa `);
    const client = await echoThrough(h.env, 'ty', 'after the replace');
    await client.close();
  });

  it('a changed key recorded in ~/.ssh/known_hosts is not edited: --replace says how to remove it', async () => {
    const sshd = await startSshd({ authorizedKeys: [key.publicKey] });
    defer(() => sshd.stop());
    const h = sshHome({ trust: [sshd] });
    await cliOk(h.env, ['add', 'usr', everything.url, '--ssh', dest(sshd), '--identity', key.privateKey]);
    const userKnownHosts = join(h.dotSsh, 'known_hosts');
    const before = readFileSync(userKnownHosts, 'utf8');
    await sshd.kill();
    const rsa = sshd.rotateHostKey('rsa');
    await sshd.start();
    const r = await cli(h.env, ['hosts', 'trust', 'usr', '--replace', '--fingerprint', rsa.fingerprint]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(userKnownHosts);
    expect(r.stderr).toContain('ssh-keygen -R');
    expect(readFileSync(userKnownHosts, 'utf8')).toBe(before);
    expect((await initializeError(h.env, 'usr')).data.code).toBe('HOST_KEY_MISMATCH');
  });

  it('a server with several host keys presents the type that is recorded', async () => {
    const rsaDir = mkdtempSync(join(tmpdir(), 'rsa-host-'));
    defer(() => rmSync(rsaDir, { recursive: true, force: true }));
    const rsa = makeKey(rsaDir, 'host_rsa', '', 'rsa');
    const sshd = await startSshd({ authorizedKeys: [key.publicKey], extra: [`HostKey ${rsa.privateKey}`] });
    defer(() => sshd.stop());
    const h = sshHome();
    // Only the RSA key is known (ssh would have recorded it had it preferred RSA back then).
    const [type, blob] = readFileSync(rsa.publicKey, 'utf8').trim().split(/\s+/);
    writeFileSync(join(h.dotSsh, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    await cliOk(h.env, ['add', 'multi', everything.url, '--ssh', dest(sshd), '--identity', key.privateKey]);
    const client = await echoThrough(h.env, 'multi', 'with the recorded type');
    await client.close();
  });

  it('`hosts trust` walks a jump chain hop by hop, one confirmed fingerprint per hop', async () => {
    const h = sshHome();
    copyFileSync(key.privateKey, join(h.dotSsh, 'id_ed25519')); // for the jump host
    await cliOk(h.env, ['add', 'j', everything.url, '--ssh', dest(target), '--jump', dest(jump)]);
    const err = await initializeError(h.env, 'j');
    expect(err.data.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toContain(`jump host root@127.0.0.1:${jump.port}`);
    expect(err.message).toContain(jump.hostKey.fingerprint);

    // Only the jump host's fingerprint: it is recorded, the target's is then shown and refused.
    const half = await cli(h.env, ['hosts', 'trust', 'j', '--fingerprint', jump.hostKey.fingerprint]);
    expect(half.code).toBe(1);
    expect(half.stdout).toContain(`trusted 127.0.0.1:${jump.port} ${jump.hostKey.fingerprint}`);
    expect(half.stderr).toContain(target.hostKey.fingerprint);
    const appKnownHosts = join(h.dir, 'state', 'known_hosts');
    expect(readFileSync(appKnownHosts, 'utf8')).toBe(knownHostsLine(jump) + '\n');

    const full = await cli(h.env, [
      'hosts',
      'trust',
      'j',
      '--fingerprint',
      jump.hostKey.fingerprint,
      '--fingerprint',
      target.hostKey.fingerprint,
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toContain('all host keys on the way are trusted');
    expect(readFileSync(appKnownHosts, 'utf8')).toBe(`${knownHostsLine(jump)}\n${knownHostsLine(target)}\n`);
    await echoThrough(h.env, 'j', 'both hops trusted');
  });

  it("the user's ~/.ssh/known_hosts counts: hashed entries are trusted, @revoked keys refused", async () => {
    const h = sshHome();
    const userKnownHosts = join(h.dotSsh, 'known_hosts');
    const add = (name: string) =>
      cliOk(h.env, ['add', name, everything.url, '--ssh', dest(target), '--identity', key.privateKey]);

    writeFileSync(userKnownHosts, knownHostsLine(target) + '\n');
    execFileSync('ssh-keygen', ['-H', '-f', userKnownHosts], { stdio: 'ignore' });
    const hashed = readFileSync(userKnownHosts, 'utf8');
    expect(hashed).toMatch(/^\|1\|[^ ]+ ssh-ed25519 /);
    expect(hashed).not.toContain('127.0.0.1');
    await add('hashed');
    await echoThrough(h.env, 'hashed', 'hashed entry');

    // Revoked beats an entry that trusts the same key.
    writeFileSync(
      userKnownHosts,
      `@revoked * ${knownHostsLine(target).split(' ').slice(1).join(' ')}\n${hashed}`,
    );
    await add('revoked');
    const err = await initializeError(h.env, 'revoked');
    expect(err.data.code).toBe('HOST_KEY_MISMATCH');
    expect(err.message).toContain('revoked');
    expect(err.message).toContain(target.hostKey.fingerprint);
    const r = await cli(h.env, ['hosts', 'trust', 'revoked', '--fingerprint', target.hostKey.fingerprint]);
    expect(r.code).toBe(1);
    expect(existsSync(join(h.dir, 'state', 'known_hosts'))).toBe(false);
  });
});

describe('authentication', () => {
  it('a wrong user, a wrong key and a locked key fail with SSH_AUTH_FAILED / SSH_KEY_PASSPHRASE_REQUIRED', async () => {
    const h = shared;
    await cliOk(h.env, [
      'add',
      'user',
      everything.url,
      '--ssh',
      dest(target, 'no-such-user-tether'),
      '--identity',
      key.privateKey,
    ]);
    await cliOk(h.env, [
      'add',
      'key',
      everything.url,
      '--ssh',
      dest(target),
      '--identity',
      wrongKey.privateKey,
    ]);
    await cliOk(h.env, [
      'add',
      'locked',
      everything.url,
      '--ssh',
      dest(target),
      '--identity',
      lockedKey.privateKey,
    ]);

    const user = await initializeError(h.env, 'user');
    expect(user.data.code).toBe('SSH_AUTH_FAILED');
    expect(user.message).toContain('no-such-user-tether@127.0.0.1');
    expect(user.data.hint).toContain('no-such-user-tether');

    const wrong = await initializeError(h.env, 'key');
    expect(wrong.data.code).toBe('SSH_AUTH_FAILED');
    expect(wrong.message).toContain('identity file');
    const report = await doctor(h.env, 'key');
    expect(report.steps.map((st) => [st.layer, st.ok])).toEqual([
      ['config', true],
      ['dns', true],
      ['tcp', true],
      ['ssh-host-key', true],
      ['ssh-auth', false],
    ]);

    const locked = await initializeError(h.env, 'locked');
    expect(locked.data.code).toBe('SSH_KEY_PASSPHRASE_REQUIRED');
    expect(locked.data.hint).toContain(lockedKey.privateKey);
    expect(locked.data.hint).toContain('ssh-add');
    expect((await status(h.env, 'locked')).lastError?.code).toBe('SSH_KEY_PASSPHRASE_REQUIRED');
  });

  it('ssh-agent: without keys SSH_AUTH_FAILED with a hint; with the key (no --identity, no ~/.ssh/id_*) it works', async () => {
    const agent = await startAgent();
    defer(() => agent.stop());
    const h = sshHome({ agent, trust: [target] });
    expect(readdirSync(h.dotSsh).filter((f) => f.startsWith('id_'))).toEqual([]);
    await cliOk(h.env, ['add', 'fs', everything.url, '--ssh', dest(target)]);

    const err = await initializeError(h.env, 'fs');
    expect(err.data.code).toBe('SSH_AUTH_FAILED');
    expect(err.message).toContain(`ssh-agent (${agent.socket})`);
    expect(err.data.hint).toContain('ssh-add');
    expect(err.data.hint).toContain('--identity');

    agent.add(key.privateKey);
    await echoThrough(h.env, 'fs', 'agent key');
  });
});

describe('ssh config and jump hosts', () => {
  let h: SshHome;
  beforeAll(() => {
    h = sshHome({ trust: [target, jump] });
  });

  it('a Host alias of ~/.ssh/config (HostName, Port, User, IdentityFile) works as --ssh', async () => {
    writeFileSync(
      join(h.dotSsh, 'config'),
      [
        'Host box',
        '  HostName 127.0.0.1',
        `  Port ${target.port}`,
        '  User root',
        `  IdentityFile ${key.privateKey}`,
        // Never evaluated: a `Match exec` would run a shell command.
        `Match exec "touch ${join(h.user, 'match-exec-ran')}"`,
        '  User nobody',
        '',
      ].join('\n'),
    );
    await cliOk(h.env, ['add', 'box', everything.url, '--ssh', 'box']);
    await echoThrough(h.env, 'box', 'via the alias');
    expect(await events(h.env, 'box', 'ssh-connected')).toEqual([
      `SSH connected to root@127.0.0.1:${target.port}`,
    ]);
    expect(existsSync(join(h.user, 'match-exec-ran'))).toBe(false);
  });

  it('honours ProxyJump from the ssh config (--ssh-config)', async () => {
    const config = join(h.user, 'tether-ssh-config');
    writeFileSync(
      config,
      [
        'Host inner',
        '  HostName 127.0.0.1',
        `  Port ${target.port}`,
        '  User root',
        `  IdentityFile ${key.privateKey}`,
        '  ProxyJump bastion',
        'Host bastion',
        '  HostName 127.0.0.1',
        `  Port ${jump.port}`,
        '  User root',
        `  IdentityFile ${key.privateKey}`,
        '',
      ].join('\n'),
    );
    await cliOk(h.env, ['add', 'inner', everything.url, '--ssh', 'inner', '--ssh-config', config]);
    await echoThrough(h.env, 'inner', 'through the bastion');
    expect(await events(h.env, 'inner', 'ssh-connected')).toEqual([
      `SSH connected to root@127.0.0.1:${target.port} via root@127.0.0.1:${jump.port}`,
    ]);
  });

  it('--jump reaches the target through a jump host; a jump host or target that is down is named', async () => {
    // --identity is for the target (as with ssh -i -J); the jump host uses the default identity.
    copyFileSync(key.privateKey, join(h.dotSsh, 'id_ed25519'));
    const base = ['--identity', key.privateKey];
    await cliOk(h.env, ['add', 'j', everything.url, '--ssh', dest(target), ...base, '--jump', dest(jump)]);
    await echoThrough(h.env, 'j', 'through the jump host');
    expect(await events(h.env, 'j', 'ssh-connected')).toEqual([
      `SSH connected to root@127.0.0.1:${target.port} via root@127.0.0.1:${jump.port}`,
    ]);

    // Authentication to the jump host fails: the hint says where its key must come from.
    await cliOk(h.env, [
      'add',
      'jump-user',
      everything.url,
      '--ssh',
      dest(target),
      ...base,
      '--jump',
      dest(jump, 'no-such-user-tether'),
    ]);
    const jumpAuth = await initializeError(h.env, 'jump-user');
    expect(jumpAuth.data.code).toBe('SSH_AUTH_FAILED');
    expect(jumpAuth.message).toContain(`jump host no-such-user-tether@127.0.0.1:${jump.port}`);
    expect(jumpAuth.data.hint).toContain('--identity is for the target only');

    const nowhere = await freePort();
    await cliOk(h.env, [
      'add',
      'jump-down',
      everything.url,
      '--ssh',
      dest(target),
      ...base,
      '--jump',
      `root@127.0.0.1:${nowhere}`,
    ]);
    const jumpDown = await initializeError(h.env, 'jump-down');
    expect(jumpDown.data.code).toBe('SSH_UNREACHABLE');
    expect(jumpDown.message).toContain(`jump host root@127.0.0.1:${nowhere}`);

    await cliOk(h.env, [
      'add',
      'target-down',
      everything.url,
      '--ssh',
      `root@127.0.0.1:${nowhere}`,
      ...base,
      '--jump',
      dest(jump),
    ]);
    const targetDown = await initializeError(h.env, 'target-down');
    expect(['SSH_CHANNEL_FAILED', 'SSH_UNREACHABLE']).toContain(targetDown.data.code);
    expect(targetDown.message).toContain(`jump host root@127.0.0.1:${jump.port}`);
    expect(targetDown.message).toContain(`127.0.0.1:${nowhere}`);
  });
});

describe('doctor and a closed remote port', () => {
  it('checks every layer of an SSH endpoint and stops at the one that fails', async () => {
    const h = shared;
    const closed = await freePort();
    const base = ['--identity', key.privateKey];
    await cliOk(h.env, ['add', 'ok', everything.url, '--ssh', dest(target), ...base]);
    // Nobody trusts the jump server's key in this home.
    await cliOk(h.env, ['add', 'untrusted', everything.url, '--ssh', dest(jump), ...base]);
    await cliOk(h.env, ['add', 'closed', `http://127.0.0.1:${closed}/mcp`, '--ssh', dest(target), ...base]);

    const ok = await doctor(h.env, 'ok');
    expect(ok.ok).toBe(true);
    expect(ok.steps.map((s) => [s.layer, s.ok])).toEqual(
      ['config', 'dns', 'tcp', 'ssh-host-key', 'ssh-auth', 'ssh-channel', 'initialize', 'ping'].map((l) => [
        l,
        true,
      ]),
    );
    expect(ok.steps.find((s) => s.layer === 'ssh-host-key')?.detail).toContain(target.hostKey.fingerprint);

    const untrusted = await doctor(h.env, 'untrusted');
    expect(untrusted.ok).toBe(false);
    const last = untrusted.steps[untrusted.steps.length - 1]!;
    expect(last).toMatchObject({ layer: 'ssh-host-key', ok: false });
    expect(last.detail).toContain(jump.hostKey.fingerprint);
    expect(last.hint).toContain('hosts trust');

    // A client gets the same verdict: SSH_CHANNEL_FAILED naming host:port.
    const err = await initializeError(h.env, 'closed', async () => {
      expect((await status(h.env, 'closed')).lastError?.code).toBe('SSH_CHANNEL_FAILED');
    });
    expect(err.data.code).toBe('SSH_CHANNEL_FAILED');
    expect(err.message).toContain(`127.0.0.1:${closed}`);

    const channel = await doctor(h.env, 'closed');
    expect(channel.ok).toBe(false);
    expect(channel.steps.filter((s) => !s.ok).map((s) => s.layer)).toEqual(['ssh-channel']);
    expect(channel.steps[channel.steps.length - 1]!.detail).toContain(`127.0.0.1:${closed}`);
  });
});
