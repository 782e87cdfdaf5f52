/**
 * The engine and shim where real clients run them:
 * - a stale engine lock whose pid now belongs to an unrelated live process does not block the
 *   engine (main/common-node/pid-lock.ts);
 * - shims spawned by the MCP SDK's StdioClientTransport with its default environment (HOME,
 *   LOGNAME, PATH, SHELL, TERM, USER, plus the config's `env`) attach to the engine a
 *   full-environment process started, and an engine such a shim starts still reads the keychain
 *   and offers the ssh-agent's keys (main/common-node/paths.ts, main/engine/environment.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { linuxBootId } from '../../main/common-node/pid-lock.js';
import { linuxUserRuntimeDir } from '../../main/common-node/paths.js';
import { saveSessionEnvironment } from '../../main/engine/environment.js';
import { bearerCheck, startAuthMcpServer } from '../fixtures/auth-mcp-server.js';
import { enginePidsForHome, isAlive } from '../helpers/faults-procs.js';
import { startKeyring, type Keyring } from '../helpers/keyring.js';
import { type Everything, exited, POLL, startEverything } from '../helpers/processes.js';
import { makeKey, startAgent, startSshd, type KeyPair, type Sshd, type SshAgent } from '../helpers/sshd.js';
import { cli, cliOk, enginePid, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

const { home, defer } = useTempHomes();

/** Pids of engines whose environment has HOME=<home> (homes without MCP_TETHER_HOME). */
function enginesWithHome(home: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (environ.includes(`HOME=${home}`) && argv.includes('engine')) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** A live process that has nothing to do with MCP Tether. */
function sleeper(): number {
  const child: ChildProcess = spawn('sleep', ['600'], { stdio: 'ignore' });
  defer(async () => {
    child.kill('SIGKILL');
    await exited(child);
  });
  return child.pid!;
}

describe('engine lock and pid reuse', () => {
  it('a lock left by an engine whose pid now names a live `sleep` does not block the engine', async () => {
    const h = home();
    const pid = sleeper();
    // What an engine that ran as `pid` earlier in this boot left behind.
    const lock = join(h.dir, 'run', 'engine.lock');
    mkdirSync(join(h.dir, 'run'), { mode: 0o700 });
    writeFileSync(lock, `${pid}\n${linuxBootId()}:1\n`);

    const r = await cli(h.env, ['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const engine = enginePid(h.dir);
    expect(engine).toBeTypeOf('number');
    expect(engine).not.toBe(pid);
    expect(enginePidsForHome(h.dir)).toEqual([engine]);
    expect(readFileSync(lock, 'utf8').split('\n')[0]).toBe(String(engine));
    expect(isAlive(pid)).toBe(true);
  });
});

let everything: Everything;
let keyring: Keyring;
let agent: SshAgent;
let sshd: Sshd;
let key: KeyPair;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'env-it-'));
  key = makeKey(scratch, 'client');
  [everything, keyring, agent, sshd] = await Promise.all([
    startEverything('streamableHttp'),
    startKeyring(),
    startAgent(),
    startSshd({ authorizedKeys: [key.publicKey] }),
  ]);
  agent.add(key.privateKey);
});

afterAll(async () => {
  await Promise.all([everything?.kill(), keyring?.close(), sshd?.stop()]);
  agent?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Lists the tools through a shim StdioClientTransport spawns for a client config whose `env` is
 * `env`: the SDK merges its default environment with it, as it does for every MCP client.
 */
async function toolsThrough(env: Record<string, string>, name: string): Promise<string[]> {
  const { client } = await shimClient(env, name);
  defer(() => client.close());
  const { tools } = await client.listTools();
  return tools.map((t) => t.name);
}

// Without MCP_TETHER_HOME the runtime dir would be the real /run/user/<uid>/mcp-tether where it
// exists: run only where it does not (then it is under the test's HOME).
describe.skipIf(linuxUserRuntimeDir(process.getuid!()) !== undefined)(
  'shims with the SDK default environment',
  () => {
    it('attach to the engine a full-environment process started, and a later engine they start takes its XDG dirs', async () => {
      const home = mkdtempSync(join(tmpdir(), 'mt-h-'));
      const full: NodeJS.ProcessEnv = {
        ...process.env,
        HOME: home,
        XDG_RUNTIME_DIR: join(home, 'xdg-run'),
        XDG_CONFIG_HOME: join(home, 'xdg-config'),
        XDG_DATA_HOME: join(home, 'xdg-data'),
        XDG_STATE_HOME: join(home, 'xdg-state'),
      };
      delete full['MCP_TETHER_HOME'];
      mkdirSync(full['XDG_RUNTIME_DIR']!, { mode: 0o700 });
      defer(async () => {
        await cli(full, ['shutdown']).catch(() => undefined);
        for (const pid of enginesWithHome(home)) process.kill(pid, 'SIGKILL');
        rmSync(home, { recursive: true, force: true });
      });
      await cliOk(full, ['add', 'ev', everything.url, '--transport', 'streamable-http']);
      const [engine] = enginesWithHome(home);
      expect(engine).toBeTypeOf('number');
      expect(existsSync(join(home, 'xdg-config', 'mcp-tether', 'endpoints.json'))).toBe(true);

      expect(await toolsThrough({ HOME: home }, 'ev')).toContain('echo');
      expect(enginesWithHome(home)).toEqual([engine]);
      expect(existsSync(join(home, '.local', 'share', 'mcp-tether', 'run', 'engine.sock'))).toBe(true);

      // The engine stops; a client's shim starts the next one, with the client's environment only.
      await cliOk(full, ['shutdown']);
      await vi.waitFor(() => expect(isAlive(engine!), `engine ${engine} to exit`).toBe(false), POLL);
      expect(await toolsThrough({ HOME: home }, 'ev')).toContain('echo');
      const [next] = enginesWithHome(home);
      expect(next).not.toBe(engine);
      const environ = readFileSync(`/proc/${next}/environ`, 'utf8').split('\0');
      expect(environ.filter((e) => e.startsWith('XDG_'))).toEqual([]);
      // It read the endpoints from the XDG config dir the first engine saved, and the
      // full-environment CLI talks to it.
      expect(JSON.parse(await cliOk(full, ['list', '--json']))).toMatchObject([{ name: 'ev' }]);
      expect(enginesWithHome(home)).toEqual([next]);
    });
  },
);

describe('an engine a minimal-environment shim started', () => {
  const TOKEN = 'env-test-bearer-0123456789abcdef';

  /** A home set up by full-environment CLI runs: a bearer endpoint and an SSH endpoint. */
  async function setUp(): Promise<{ h: Home; user: string; minimal: Record<string, string> }> {
    const h = home();
    const user = join(h.dir, 'u');
    mkdirSync(join(user, '.ssh'), { recursive: true, mode: 0o700 });
    const [type, blob] = readFileSync(sshd.hostKey.publicKey, 'utf8').trim().split(/\s+/);
    writeFileSync(join(user, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    const full = { ...keyring.env(h.env), HOME: user, SSH_AUTH_SOCK: agent.socket };
    const srv = await startAuthMcpServer(bearerCheck(() => TOKEN));
    defer(() => srv.close());
    await cliOk(full, ['add', 'bear', srv.mcpUrl, '--auth', 'bearer', '--transport', 'streamable-http']);
    const set = await cli(full, ['secret', 'set', 'bear'], `${TOKEN}\n`);
    expect(set.code, set.stderr).toBe(0);
    await cliOk(full, ['add', 'tun', everything.url, '--ssh', `root@127.0.0.1:${sshd.port}`]);
    await cliOk(full, ['shutdown']);
    // `shutdown` returns once the engine stopped serving; its process may take a moment to exit.
    await vi.waitFor(() => expect(enginePidsForHome(h.dir)).toEqual([]), { timeout: 20_000 });
    return { h, user, minimal: { HOME: user, MCP_TETHER_HOME: h.dir } };
  }

  async function expectKeychainAndAgent(h: Home, minimal: Record<string, string>): Promise<void> {
    expect(await toolsThrough(minimal, 'bear')).toContain('echo');
    const [engine] = enginePidsForHome(h.dir);
    const environ = readFileSync(`/proc/${engine}/environ`, 'utf8').split('\0');
    expect(environ.some((e) => /^(DBUS_SESSION_BUS_ADDRESS|SSH_AUTH_SOCK)=/.test(e))).toBe(false);
    // The SSH endpoint has no identity file: only the agent's key can open the tunnel.
    expect(await toolsThrough(minimal, 'tun')).toContain('echo');
    expect(enginePidsForHome(h.dir)).toEqual([engine]);
  }

  it('finds the session bus and the agent where the OS puts them (the user runtime dir)', async () => {
    const { h, minimal } = await setUp();
    unlinkSync(join(h.dir, 'run', 'session-env.json')); // nothing saved by a full-environment process
    const userRun = join(h.dir, 'user-run'); // MCP_TETHER_HOME's stand-in for /run/user/<uid>
    mkdirSync(userRun, { mode: 0o700 });
    symlinkSync(/^unix:path=([^,]+)/.exec(keyring.address)![1]!, join(userRun, 'bus'));
    symlinkSync(agent.socket, join(userRun, 'ssh-agent.socket'));
    await expectKeychainAndAgent(h, minimal);
  });

  it('takes what the tray app saves after the engine started', async () => {
    const { h, minimal } = await setUp();
    const file = join(h.dir, 'run', 'session-env.json');
    unlinkSync(file);
    await cliOk(minimal, ['list']); // a client-started engine with nothing to take
    const [engine] = enginePidsForHome(h.dir);
    expect(engine).toBeTypeOf('number');
    expect(existsSync(file)).toBe(false);
    // What main/app/main.ts does at its start, with the desktop session's environment.
    saveSessionEnvironment(join(h.dir, 'run'), {
      DBUS_SESSION_BUS_ADDRESS: keyring.address,
      SSH_AUTH_SOCK: agent.socket,
    });
    await expectKeychainAndAgent(h, minimal);
    expect(enginePidsForHome(h.dir)).toEqual([engine]);
  });

  it('takes the bus and the agent a full-environment process saved for this session', async () => {
    const { h, minimal } = await setUp();
    const saved = JSON.parse(readFileSync(join(h.dir, 'run', 'session-env.json'), 'utf8')) as {
      env: Record<string, string>;
    };
    expect(saved.env).toMatchObject({
      DBUS_SESSION_BUS_ADDRESS: keyring.address,
      SSH_AUTH_SOCK: agent.socket,
    });
    expect(existsSync(join(h.dir, 'user-run'))).toBe(false);
    await expectKeychainAndAgent(h, minimal);
  });
});

describe('SSH agents', () => {
  it('an agent that cannot be reached is skipped: the identity file still opens the tunnel', async () => {
    const h = home();
    const user = join(h.dir, 'u');
    mkdirSync(join(user, '.ssh'), { recursive: true, mode: 0o700 });
    const [type, blob] = readFileSync(sshd.hostKey.publicKey, 'utf8').trim().split(/\s+/);
    writeFileSync(join(user, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    // A stale SSH_AUTH_SOCK (an agent of a session that ended), as on Windows a missing OpenSSH
    // agent pipe before Pageant.
    const env = { ...h.env, HOME: user, SSH_AUTH_SOCK: join(h.dir, 'gone', 'agent.sock') };
    await cliOk(env, [
      'add',
      'tun',
      everything.url,
      '--ssh',
      `root@127.0.0.1:${sshd.port}`,
      '--identity',
      key.privateKey,
    ]);
    const { client } = await shimClient(env, 'tun');
    defer(() => client.close());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
  });
});
