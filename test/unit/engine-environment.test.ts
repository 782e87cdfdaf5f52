/**
 * The environment rules (main/common-node/paths.ts, main/engine/environment.ts): the runtime dir from
 * HOME and the uid only; the session variables' precedence (own, then saved this boot, then the
 * OS's places); the saved file's checks; the SSH agents per OS; the Windows pipe name file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultRuntimeDir,
  linuxUserRuntimeDir,
  resolvePaths,
  windowsPipeName,
} from '../../main/common-node/paths.js';
import {
  SESSION_FILE,
  WINDOWS_OPENSSH_AGENT,
  osSessionDefaults,
  readSessionEnvironment,
  saveSessionEnvironment,
  sessionEnvironment,
  sshAgents,
} from '../../main/engine/environment.js';

let dir: string;
const servers: Server[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mt-env-'));
});

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A listening Unix socket at `path`. */
async function socketAt(path: string): Promise<string> {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(path, r));
  return path;
}

describe('runtime dir', () => {
  const st = (o: { dir?: boolean; uid?: number; mode?: number }) => () => ({
    isDirectory: () => o.dir ?? true,
    uid: o.uid ?? 1000,
    mode: o.mode ?? 0o40700,
  });

  it('is /run/user/<uid> only when it is a directory of ours with no group/other access', () => {
    expect(linuxUserRuntimeDir(1000, st({}))).toBe('/run/user/1000');
    expect(linuxUserRuntimeDir(1000, st({ uid: 0 }))).toBeUndefined();
    expect(linuxUserRuntimeDir(1000, st({ mode: 0o40755 }))).toBeUndefined();
    expect(linuxUserRuntimeDir(1000, st({ dir: false }))).toBeUndefined();
    expect(
      linuxUserRuntimeDir(1000, () => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      }),
    ).toBeUndefined();
  });

  it('depends on HOME and the uid only, per OS', () => {
    expect(defaultRuntimeDir('linux', '/home/ann', '/run/user/1000', '/x')).toBe('/run/user/1000/mcp-tether');
    expect(defaultRuntimeDir('linux', '/home/ann', undefined, '/x')).toBe(
      '/home/ann/.local/share/mcp-tether/run',
    );
    expect(
      defaultRuntimeDir(
        'darwin',
        '/Users/ann',
        undefined,
        '/Users/ann/Library/Application Support/mcp-tether',
      ),
    ).toBe('/Users/ann/Library/Application Support/mcp-tether/run');
  });

  it('ignores XDG_RUNTIME_DIR and XDG_DATA_HOME (a client strips them)', () => {
    const saved = { ...process.env };
    try {
      process.env['HOME'] = dir;
      delete process.env['MCP_TETHER_HOME'];
      delete process.env['XDG_RUNTIME_DIR'];
      delete process.env['XDG_DATA_HOME'];
      const minimal = resolvePaths({ HOME: dir });
      process.env['XDG_RUNTIME_DIR'] = join(dir, 'xdg');
      process.env['XDG_DATA_HOME'] = join(dir, 'data');
      const full = resolvePaths({ ...process.env });
      expect(full.socketPath).toBe(minimal.socketPath);
      expect(full.lockFile).toBe(minimal.lockFile);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('MCP_TETHER_HOME puts the run dir and the stand-in for /run/user/<uid> under it', () => {
    const p = resolvePaths({ MCP_TETHER_HOME: dir });
    expect(p.runtimeDir).toBe(join(dir, 'run'));
    expect(p.userRuntimeDir).toBe(join(dir, 'user-run'));
  });
});

describe('session variables', () => {
  it('take the own value first, then the saved one, then the OS one', () => {
    expect(
      sessionEnvironment(
        { SSH_AUTH_SOCK: '/own' },
        { SSH_AUTH_SOCK: '/saved', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/saved-bus', DISPLAY: ':1' },
        { SSH_AUTH_SOCK: '/os', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/os-bus' },
      ),
    ).toEqual({ SSH_AUTH_SOCK: '/own', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/saved-bus', DISPLAY: ':1' });
    expect(sessionEnvironment({}, {}, { SSH_AUTH_SOCK: '/os' })).toEqual({ SSH_AUTH_SOCK: '/os' });
  });

  it('are saved merged (0600) and read back; sockets that are gone and other boots are left out', async () => {
    const bus = await socketAt(join(dir, 'bus'));
    saveSessionEnvironment(dir, {
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${bus},guid=1`,
      DISPLAY: ':0',
      PATH: '/bin',
    });
    saveSessionEnvironment(dir, { SSH_AUTH_SOCK: join(dir, 'gone.sock'), XDG_CONFIG_HOME: '/c' });
    const file = join(dir, SESSION_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain('PATH');
    expect(readSessionEnvironment(dir)).toEqual({
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${bus},guid=1`,
      DISPLAY: ':0',
      XDG_CONFIG_HOME: '/c',
    });
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { bootId: string; env: object };
    writeFileSync(file, JSON.stringify({ ...saved, bootId: '00000000-0000-0000-0000-000000000000' }));
    expect(readSessionEnvironment(dir)).toEqual({});
    writeFileSync(file, 'not json');
    expect(readSessionEnvironment(dir)).toEqual({});
  });

  it('Linux: the OS places are <user runtime dir>/bus and the agent sockets desktop sessions create', async () => {
    expect(osSessionDefaults('linux', dir)).toEqual({});
    expect(osSessionDefaults('linux', undefined)).toEqual({});
    await socketAt(join(dir, 'bus'));
    await socketAt(join(dir, 'ssh-agent.socket'));
    expect(osSessionDefaults('linux', dir)).toEqual({
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'bus')}`,
      SSH_AUTH_SOCK: join(dir, 'ssh-agent.socket'),
    });
    mkdirSync(join(dir, 'gcr'));
    await socketAt(join(dir, 'gcr', 'ssh'));
    expect(osSessionDefaults('linux', dir).SSH_AUTH_SOCK).toBe(join(dir, 'gcr', 'ssh'));
  });

  it('macOS: the agent socket launchd holds for the login session (launchctl getenv)', async () => {
    const sock = await socketAt(join(dir, 'Listeners'));
    const asked: string[] = [];
    const launchctl = (name: string) => (asked.push(name), sock);
    expect(osSessionDefaults('darwin', undefined, launchctl)).toEqual({ SSH_AUTH_SOCK: sock });
    expect(asked).toEqual(['SSH_AUTH_SOCK']);
    expect(osSessionDefaults('darwin', undefined, () => undefined)).toEqual({});
    expect(osSessionDefaults('darwin', undefined, () => join(dir, 'none'))).toEqual({});
    expect(osSessionDefaults('win32', dir, launchctl)).toEqual({});
  });
});

describe('sshAgents', () => {
  it('SSH_AUTH_SOCK when set; on Windows else the OpenSSH agent pipe, then Pageant', () => {
    expect(sshAgents('linux', '/run/user/1000/gcr/ssh')).toEqual(['/run/user/1000/gcr/ssh']);
    expect(sshAgents('linux', undefined)).toEqual([]);
    expect(sshAgents('darwin', undefined)).toEqual([]);
    expect(sshAgents('win32', undefined)).toEqual(['\\\\.\\pipe\\openssh-ssh-agent', 'pageant']);
    expect(WINDOWS_OPENSSH_AGENT).toBe('\\\\.\\pipe\\openssh-ssh-agent');
    expect(sshAgents('win32', '\\\\.\\pipe\\my-agent')).toEqual(['\\\\.\\pipe\\my-agent']);
  });
});

describe('windowsPipeName', () => {
  it('is random, kept in a file created once, and read back by every later caller', () => {
    const run = join(dir, 'run');
    const a = windowsPipeName(run);
    expect(a).toMatch(/^\\\\\.\\pipe\\mcp-tether-[0-9a-f]{32}$/);
    expect(readFileSync(join(run, 'pipe-name'), 'utf8')).toBe(a);
    expect(windowsPipeName(run)).toBe(a);
    const other = join(dir, 'run2');
    expect(windowsPipeName(other)).not.toBe(a);
    // A damaged file is not trusted: it is refused with what to do.
    writeFileSync(join(other, 'pipe-name'), 'junk');
    expect(() => windowsPipeName(other)).toThrow(/delete it and try again/);
  });
});
