/**
 * Command endpoints against real OpenSSH (sshd on loopback) and real engine, shim and CLI
 * processes: allowed commands run and return stdout, stderr and exit code; injection attempts in
 * every parameter kind are refused before anything reaches the SSH server (and show as refused in
 * traffic); timeouts kill the remote process; output caps hold; bad commands files are refused with
 * their line.
 */
import {
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
import { makeKey, startSshd, type KeyPair, type Sshd } from '../helpers/sshd.js';
import { ROOT } from '../helpers/processes.js';
import { cli, cliOk, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

let sshd: Sshd;
let key: KeyPair;
let scratch: string;
let home: Home;
/** A directory the `path` parameter may point into. */
let allowed: string;
/** A file a successful injection would create. */
let pwned: string;
const { home: tempHome, defer } = useTempHomes();

/** A marker argument of the command that must be killed (found in /proc by it). */
const SLEEP_MARK = '987654';

function commandsYaml(): string {
  return `
defaults:
  timeoutSeconds: 30
commands:
  word:
    description: echo one word
    annotations: { readOnlyHint: true }
    parameters:
      w: { type: string, pattern: '[a-z]+' }
    command: [echo, '{w}']
  choice:
    description: echo one of two
    parameters:
      c: { type: string, enum: [one, two] }
    command: [echo, '{c}']
  count:
    description: count to n
    parameters:
      n: { type: integer, minimum: 1, maximum: 5, default: 3 }
    command: [seq, '{n}']
  show:
    description: print a file under the allowed directory
    parameters:
      file: { type: path, prefixes: ['${allowed}'] }
    command: [cat, '{file}']
  mixed:
    description: writes to both streams and exits 3
    command: [sh, -c, 'echo out; echo err >&2; exit 3']
  sleepy:
    description: sleeps past its timeout
    timeoutSeconds: 1
    command: [sleep, '${SLEEP_MARK}']
  ghost:
    description: a program the host does not have
    command: [no-such-program-xyz]
  flood:
    description: prints more than its cap
    maxOutputBytes: 1000
    command: [seq, '1', '100000']
`;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'commands-it-'));
  defer(() => rmSync(scratch, { recursive: true, force: true }));
  allowed = join(scratch, 'allowed');
  mkdirSync(allowed);
  pwned = join(scratch, 'pwned');
  key = makeKey(scratch, 'client');
  sshd = await startSshd({ authorizedKeys: [key.publicKey] });
  defer(() => sshd.stop());
  home = tempHome();
  const user = join(home.dir, 'u');
  mkdirSync(join(user, '.ssh'), { recursive: true, mode: 0o700 });
  home.env['HOME'] = user;
  delete home.env['SSH_AUTH_SOCK'];
  const [type, blob] = readFileSync(sshd.hostKey.publicKey, 'utf8').trim().split(/\s+/);
  writeFileSync(join(user, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
  writeFileSync(join(scratch, 'ops.yaml'), commandsYaml());
  await cliOk(home.env, ['add', 'ops', ...sshArgs(), '--commands', join(scratch, 'ops.yaml')]);
});

function sshArgs(): string[] {
  return ['--ssh', `root@127.0.0.1:${sshd.port}`, '--identity', key.privateKey];
}

async function connect(name = 'ops'): Promise<Client> {
  const { client } = await shimClient(home.env, name);
  defer(() => client.close());
  return client;
}

/** The details of the endpoint's traffic events of one type, oldest first. */
async function eventsOf(name: string, type: string): Promise<string[]> {
  const out = await cliOk(home.env, ['traffic', '--json', '--endpoint', name, '--limit', '5000']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; event?: { type: string; detail: string } })
    .filter((r) => r.kind === 'event' && r.event?.type === type)
    .map((r) => r.event!.detail);
}

/** Pids of processes whose argv is exactly `sleep <SLEEP_MARK>`. */
function sleepers(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${SLEEP_MARK}\0`;
      } catch {
        return false;
      }
    })
    .map(Number);
}

interface Outcome {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  truncated: boolean;
  maxOutputBytes: number;
  timedOut: boolean;
}

describe('a command endpoint', () => {
  it('lists its commands as tools with typed input schemas, plus list_commands', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ['choice', 'count', 'flood', 'ghost', 'list_commands', 'mixed', 'show', 'sleepy', 'word'].sort(),
    );
    const word = tools.find((t) => t.name === 'word')!;
    expect(word.annotations).toEqual({ readOnlyHint: true });
    expect(word.inputSchema).toMatchObject({
      properties: { w: { type: 'string', pattern: '^(?:[a-z]+)$' } },
      required: ['w'],
      additionalProperties: false,
    });
    expect(tools.find((t) => t.name === 'count')!.inputSchema).toMatchObject({
      properties: { n: { type: 'integer', minimum: 1, maximum: 5, default: 3 } },
      required: [],
    });
    const listed = await client.callTool({ name: 'list_commands', arguments: {} });
    const commands = (listed.structuredContent as { commands: { name: string; command: string[] }[] })
      .commands;
    expect(commands.find((c) => c.name === 'word')!.command).toEqual(['echo', '{w}']);
    const s = JSON.parse(await cliOk(home.env, ['status', '--json'])) as {
      endpoints: { name: string; state: string; transport?: string }[];
    };
    expect(s.endpoints.find((e) => e.name === 'ops')).toMatchObject({
      state: 'ready',
      transport: 'commands',
    });
  });

  it('runs allowed commands on the SSH host: stdout, stderr and exit code as structured content', async () => {
    const client = await connect();
    const word = await client.callTool({ name: 'word', arguments: { w: 'hello' } });
    expect(word.isError).toBeFalsy();
    expect(word.structuredContent).toMatchObject({
      exitCode: 0,
      stdout: 'hello\n',
      stderr: '',
      truncated: false,
    });
    const count = await client.callTool({ name: 'count', arguments: {} });
    expect((count.structuredContent as Outcome).stdout).toBe('1\n2\n3\n');
    const mixed = await client.callTool({ name: 'mixed', arguments: {} });
    expect(mixed.structuredContent).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    // A value full of shell syntax that the parameter allows is one argument, never shell code.
    const odd = join(allowed, `a b; echo INJECTED; $(echo INJECTED) \`echo INJECTED\` 'q' "$HOME"`);
    writeFileSync(odd, 'file content\n');
    const show = await client.callTool({ name: 'show', arguments: { file: odd } });
    expect(show.structuredContent).toMatchObject({ exitCode: 0, stdout: 'file content\n', stderr: '' });
    expect(await eventsOf('ops', 'exec')).toContain('word: echo hello');
  });

  it('refuses injection attempts in every parameter kind before anything is sent', async () => {
    const client = await connect();
    const attempts: [string, Record<string, unknown>][] = [
      ['word', { w: `a; touch ${pwned}` }],
      ['word', { w: `$(touch ${pwned})` }],
      ['word', { w: 'abc\n' }],
      ['word', { w: '--help' }],
      ['word', {}],
      ['word', { w: 'ok', extra: `; touch ${pwned}` }],
      ['choice', { c: `one; touch ${pwned}` }],
      ['count', { n: `3; touch ${pwned}` }],
      ['count', { n: 2.5 }],
      ['count', { n: 6 }],
      ['show', { file: `${allowed}/../pwned` }],
      ['show', { file: join(scratch, 'ops.yaml') }],
      ['show', { file: `${allowed}x/f` }],
      ['show', { file: 'relative/path' }],
      ['show', { file: `${allowed}/f\n; touch ${pwned}` }],
    ];
    const execsBefore = (await eventsOf('ops', 'exec')).length;
    const refusedBefore = (await eventsOf('ops', 'refused')).length;
    for (const [name, args] of attempts) {
      const r = await client.callTool({ name, arguments: args });
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect((r.content as { text: string }[])[0]!.text).toMatch(/^Refused, nothing was run: /);
    }
    const refused = (await eventsOf('ops', 'refused')).slice(refusedBefore);
    expect(refused).toHaveLength(attempts.length);
    expect(refused[0]).toMatch(/^word: w: must match \[a-z\]\+; nothing was sent to the SSH server$/);
    expect(refused[3]).toContain('must not start with "-"');
    expect(refused[10]).toContain('".." segments');
    expect(refused[11]).toContain(`must be under ${allowed}`);
    expect((await eventsOf('ops', 'exec')).length).toBe(execsBefore);
    expect(existsSync(pwned)).toBe(false);
  });

  it('kills the remote process when its timeout passes', async () => {
    const client = await connect();
    const r = await client.callTool({ name: 'sleepy', arguments: {} });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ timedOut: true, exitCode: null, signal: 'KILL' });
    expect(await eventsOf('ops', 'timeout')).toContain('sleepy: killed after 1 s (signal KILL)');
    await vi.waitFor(() => expect(sleepers()).toEqual([]), { timeout: 15_000, interval: 100 });
  });

  it('keeps at most maxOutputBytes of output and says so', async () => {
    const client = await connect();
    const r = await client.callTool({ name: 'flood', arguments: {} });
    const o = r.structuredContent as Outcome;
    expect(o.truncated).toBe(true);
    expect(o.maxOutputBytes).toBe(1000);
    expect(Buffer.byteLength(o.stdout)).toBe(1000);
    expect(o.stdout.startsWith('1\n2\n3\n')).toBe(true);
    expect(o.stdoutBytes).toBe(588_895);
    expect(o.exitCode).toBe(0);
  });

  it('--login-shell runs each command through the remote login shell', async () => {
    await cliOk(home.env, [
      'add',
      'ops-login',
      ...sshArgs(),
      '--login-shell',
      '--commands',
      join(scratch, 'ops.yaml'),
    ]);
    const client = await connect('ops-login');
    const r = await client.callTool({ name: 'word', arguments: { w: 'login' } });
    expect(r.structuredContent).toMatchObject({ exitCode: 0, stdout: 'login\n' });
    expect(await eventsOf('ops-login', 'exec')).toContain('word: echo login (through the login shell)');
    const slow = await client.callTool({ name: 'sleepy', arguments: {} });
    expect(slow.structuredContent).toMatchObject({ timedOut: true });
    await vi.waitFor(() => expect(sleepers()).toEqual([]), { timeout: 15_000, interval: 100 });
  });

  it('doctor checks the commands file and finds the programs missing on the host', async () => {
    const r = await cli(home.env, ['doctor', 'ops', '--json']);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      steps: { layer: string; ok: boolean; detail: string }[];
    };
    expect(report.steps.map((s) => [s.layer, s.ok])).toEqual([
      ['config', true],
      ['dns', true],
      ['tcp', true],
      ['ssh-host-key', true],
      ['ssh-auth', true],
      ['ssh-channel', true],
      ['initialize', true],
      ['ping', true],
    ]);
    expect(report.steps[5]!.detail).toMatch(
      /8 commands in .*; not on the remote PATH \(their tools will fail\): no-such-program-xyz$/,
    );
    expect(report.steps[6]!.detail).toContain('over commands');
    const client = await connect();
    const ghost = await client.callTool({ name: 'ghost', arguments: {} });
    expect(ghost.structuredContent).toMatchObject({ exitCode: 127 });
  });

  it('serves examples/commands.yaml: its read-only checks run on the host', async () => {
    await cliOk(home.env, [
      'add',
      'example',
      ...sshArgs(),
      '--commands',
      join(ROOT, 'examples/commands.yaml'),
    ]);
    const client = await connect('example');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'uptime',
        'disk_usage',
        'memory_usage',
        'failed_services',
        'service_status',
        'service_logs',
        'listening_ports',
        'docker_ps',
      ]),
    );
    expect(tools.find((t) => t.name === 'uptime')!.annotations).toMatchObject({ readOnlyHint: true });
    const uptime = await client.callTool({ name: 'uptime', arguments: {} });
    expect(uptime.structuredContent).toMatchObject({ exitCode: 0 });
    expect((uptime.structuredContent as Outcome).stdout).toContain('load average');
    const disk = await client.callTool({ name: 'disk_usage', arguments: {} });
    expect((disk.structuredContent as Outcome).stdout).toMatch(/^Filesystem/);
    const bad = await client.callTool({ name: 'service_status', arguments: { unit: 'nginx; reboot' } });
    expect(bad.isError).toBe(true);
    expect(await eventsOf('example', 'refused')).toEqual([
      'service_status: unit: must match [A-Za-z0-9][A-Za-z0-9@._:-]{0,255}; nothing was sent to the SSH server',
    ]);
  });

  it('refuses a commands file that does not validate, naming the line', async () => {
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(
      bad,
      'commands:\n  ok:\n    description: fine\n    command: [uptime]\n  free:\n    description: free text\n' +
        '    parameters:\n      q: { type: string }\n    command: [echo, "{q}"]\n',
    );
    const r = await cli(home.env, ['add', 'bad', ...sshArgs(), '--commands', bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `${bad}:8:10: commands.free.parameters.q: a string parameter needs exactly one`,
    );
    const list = await cliOk(home.env, ['list', '--json']);
    expect(list).not.toContain('"bad"');
  });
});
