/**
 * A real, private OS keychain for the tests: a D-Bus session bus of its own (no service activation,
 * so nothing starts behind the test's back) and gnome-keyring-daemon serving the freedesktop Secret
 * Service on it, with a login keyring unlocked by a throwaway password. Nothing here touches the
 * user's own session bus or keyrings: the engine reaches this keychain only through the
 * DBUS_SESSION_BUS_ADDRESS in {@link Keyring.env}.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exited, POLL } from './processes.js';
import { afterAll, beforeAll, expect, vi } from 'vitest';

const run = promisify(execFile);

/** A running private keychain. */
export interface Keyring {
  /** The bus address: put it in the engine's environment. */
  address: string;
  /** Environment for processes that should use this keychain (the bus address; no X display). */
  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** `secret-tool lookup service mcp-tether account <account>`: the stored value, or undefined. */
  lookup(account: string): Promise<string | undefined>;
  /** Locks the login collection, as a screen lock would. */
  lock(): Promise<void>;
  /** Kills the keyring daemon (the bus stays: the Secret Service name is then simply gone). */
  killDaemon(): Promise<void>;
  /** Stops the daemon and the bus and deletes their files. */
  close(): Promise<void>;
}

/** Waits until `name` has an owner on the bus; rejects with the last answer after `timeoutMs`. */
async function waitForName(env: NodeJS.ProcessEnv, name: string, timeoutMs = POLL.timeout): Promise<void> {
  await vi.waitFor(
    async () => {
      const { stdout } = await run(
        'dbus-send',
        [
          '--session',
          '--print-reply',
          '--dest=org.freedesktop.DBus',
          '/org/freedesktop/DBus',
          'org.freedesktop.DBus.NameHasOwner',
          `string:${name}`,
        ],
        { env },
      );
      expect(stdout, `${name} to appear on the test bus`).toContain('boolean true');
    },
    { ...POLL, timeout: timeoutMs },
  );
}

/** Starts a private bus and an unlocked gnome-keyring on it. */
export async function startKeyring(): Promise<Keyring> {
  const dir = mkdtempSync(join(tmpdir(), 'kr-'));
  const socket = join(dir, 'bus');
  const conf = join(dir, 'bus.conf');
  // A session bus without <servicedir>: no D-Bus activation, so a killed keyring stays dead.
  writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  const bus: ChildProcess = spawn('dbus-daemon', ['--config-file', conf, '--nofork', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    bus.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    bus.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
  });
  bus.stdout!.resume();
  const data = join(dir, 'data');
  const runtime = join(dir, 'runtime');
  mkdirSync(data);
  mkdirSync(runtime, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DBUS_SESSION_BUS_ADDRESS: address,
    XDG_DATA_HOME: data,
    XDG_RUNTIME_DIR: runtime,
    HOME: dir,
  };
  delete env['DISPLAY'];
  delete env['WAYLAND_DISPLAY'];
  const daemon: ChildProcess = spawn(
    'gnome-keyring-daemon',
    ['--foreground', '--unlock', '--components=secrets', `--control-directory=${runtime}`],
    { env, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  // --unlock reads the login keyring's password from stdin (and creates the keyring with it).
  daemon.stdin!.end('test-keyring-password');
  await waitForName(env, 'org.freedesktop.secrets');
  const stopDaemon = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      await exited(daemon);
    }
  };
  return {
    address,
    env: (base) => {
      const e: NodeJS.ProcessEnv = { ...base, DBUS_SESSION_BUS_ADDRESS: address };
      delete e['DISPLAY'];
      delete e['WAYLAND_DISPLAY'];
      return e;
    },
    lookup: async (account) => {
      try {
        const { stdout } = await run('secret-tool', ['lookup', 'service', 'mcp-tether', 'account', account], {
          env,
        });
        return stdout.length ? stdout.replace(/\n$/, '') : undefined;
      } catch {
        return undefined; // secret-tool exits 1 when nothing matches
      }
    },
    lock: async () => {
      await run(
        'dbus-send',
        [
          '--session',
          '--print-reply',
          '--dest=org.freedesktop.secrets',
          '/org/freedesktop/secrets',
          'org.freedesktop.Secret.Service.Lock',
          'array:objpath:/org/freedesktop/secrets/collection/login',
        ],
        { env },
      );
    },
    killDaemon: stopDaemon,
    close: async () => {
      await stopDaemon();
      if (bus.exitCode === null && bus.signalCode === null) {
        bus.kill('SIGTERM');
        await exited(bus);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One keychain for the calling test file: started before its first test, stopped after its last.
 * @returns the running keychain (call it inside tests and hooks)
 */
export function useKeyring(): () => Keyring {
  let keyring: Keyring | undefined;
  beforeAll(async () => {
    keyring = await startKeyring();
  });
  afterAll(async () => {
    await keyring?.close();
  });
  return () => keyring!;
}
