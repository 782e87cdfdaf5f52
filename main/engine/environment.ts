/**
 * The session environment the engine needs, whatever environment it was started with.
 *
 * An engine started by a shim inherits the MCP client's environment, which is minimal: the MCP
 * SDK's `StdioClientTransport` passes only HOME, LOGNAME, PATH, SHELL, TERM, USER (plus the
 * config's `env`), Claude Desktop on Windows a short allow-list. Then the keychain (Linux: the
 * Secret Service on the session D-Bus), the SSH agent and the browser opener are out of reach. So
 * for each variable of {@link SESSION_VARIABLES} the engine takes, in this order:
 * 1. its own environment, when the variable is set there;
 * 2. what a full-environment process saved in `<runtimeDir>/session-env.json` (the tray app at its
 *    start, and any engine started with the variable set), when it was saved during this boot and
 *    any socket it names still exists;
 * 3. where the OS defines it ({@link osSessionDefaults}): Linux `<user runtime dir>/bus` for the
 *    session bus and the agent sockets desktop sessions create there; macOS
 *    `launchctl getenv SSH_AUTH_SOCK` (the launchd agent socket of the login session).
 *
 * Sources followed: D-Bus specification "Well-known Message Bus Instances" (session bus at
 * `$XDG_RUNTIME_DIR/bus` under systemd); pam_systemd(8) for `/run/user/<uid>`; launchd.plist(5)
 * `SecureSocketWithKey` for macOS' SSH_AUTH_SOCK.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { linuxBootId } from '../common-node/pid-lock.js';
import type { TetherPaths } from '../common-node/paths.js';
import { writeFileAtomic } from './config/store.js';

/** The variables the engine may take from the session (see the module comment). */
const SESSION_VARIABLES = [
  'DBUS_SESSION_BUS_ADDRESS',
  'SSH_AUTH_SOCK',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'XDG_CURRENT_DESKTOP',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
  'XDG_CACHE_HOME',
] as const;

/** One of {@link SESSION_VARIABLES}. */
export type SessionVariable = (typeof SESSION_VARIABLES)[number];
/** Values of some session variables. */
export type SessionValues = Partial<Record<SessionVariable, string>>;

/** The saved file's name in the runtime dir. */
export const SESSION_FILE = 'session-env.json';

/** Picks the session variables out of an environment (empty values are absent). */
function pickSession(env: NodeJS.ProcessEnv): SessionValues {
  const out: SessionValues = {};
  for (const k of SESSION_VARIABLES) if (env[k]) out[k] = env[k];
  return out;
}

/** The socket path a value names, for the variables that name one (else undefined). */
function socketOf(key: SessionVariable, value: string): string | undefined {
  if (key === 'SSH_AUTH_SOCK') return value.startsWith('/') ? value : undefined;
  if (key === 'DBUS_SESSION_BUS_ADDRESS') {
    // `unix:path=/run/user/1000/bus[,guid=…]`; abstract and other transports are not files.
    const m = /^unix:path=([^,;]+)/.exec(value);
    return m ? m[1] : undefined;
  }
  return undefined;
}

const isSocket = (path: string) => {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
};

/**
 * Saves the session variables `env` has into `<runtimeDir>/session-env.json` (mode 0600),
 * keeping the saved values of variables `env` lacks. Never throws: saving is a help, not a need.
 */
export function saveSessionEnvironment(runtimeDir: string, env: NodeJS.ProcessEnv): void {
  const own = pickSession(env);
  if (Object.keys(own).length === 0) return;
  const merged = { ...readSessionEnvironment(runtimeDir), ...own };
  try {
    writeFileAtomic(
      join(runtimeDir, SESSION_FILE),
      JSON.stringify({ bootId: linuxBootId() ?? null, env: merged }) + '\n',
    );
  } catch {
    // the engine works without it
  }
}

/**
 * The saved session variables: none when the file is missing, unreadable, or from another boot
 * (Linux boot id); variables naming a socket that no longer exists are left out.
 */
export function readSessionEnvironment(runtimeDir: string): SessionValues {
  let saved: { bootId?: unknown; env?: unknown };
  try {
    saved = JSON.parse(readFileSync(join(runtimeDir, SESSION_FILE), 'utf8')) as typeof saved;
  } catch {
    return {};
  }
  if ((saved.bootId ?? null) !== (linuxBootId() ?? null) || typeof saved.env !== 'object' || !saved.env)
    return {};
  const out: SessionValues = {};
  for (const k of SESSION_VARIABLES) {
    const v = (saved.env as Record<string, unknown>)[k];
    if (typeof v !== 'string' || !v) continue;
    const sock = socketOf(k, v);
    if (sock !== undefined && !isSocket(sock)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Where the OS defines the session bus and the SSH agent, for the sockets that exist:
 * - Linux (under `userRuntimeDir`, i.e. `/run/user/<uid>`): `bus` (the systemd user bus);
 *   the agent of GNOME's gcr (`gcr/ssh`), of gnome-keyring (`keyring/ssh`), of OpenSSH's systemd
 *   user units (`ssh-agent.socket`, Debian's `openssh_agent`), first that exists.
 * - macOS: `launchctl getenv SSH_AUTH_SOCK`.
 * - Windows: nothing here (the agent is a named pipe; see `ssh/link.ts`).
 * @param launchctlGetenv injectable for tests (default runs `/bin/launchctl getenv`)
 */
export function osSessionDefaults(
  platform: NodeJS.Platform,
  userRuntimeDir: string | undefined,
  launchctlGetenv: (name: string) => string | undefined = launchctl,
): SessionValues {
  const out: SessionValues = {};
  if (platform === 'linux' && userRuntimeDir) {
    const bus = join(userRuntimeDir, 'bus');
    if (isSocket(bus)) out.DBUS_SESSION_BUS_ADDRESS = `unix:path=${bus}`;
    for (const rel of ['gcr/ssh', 'keyring/ssh', 'ssh-agent.socket', 'openssh_agent']) {
      const sock = join(userRuntimeDir, rel);
      if (isSocket(sock)) {
        out.SSH_AUTH_SOCK = sock;
        break;
      }
    }
  } else if (platform === 'darwin') {
    const sock = launchctlGetenv('SSH_AUTH_SOCK');
    if (sock && isSocket(sock)) out.SSH_AUTH_SOCK = sock;
  }
  return out;
}

function launchctl(name: string): string | undefined {
  try {
    return (
      execFileSync('/bin/launchctl', ['getenv', name], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Windows' own OpenSSH agent: the `ssh-agent` service of the OpenSSH client Windows ships. */
export const WINDOWS_OPENSSH_AGENT = '\\\\.\\pipe\\openssh-ssh-agent';

/**
 * The SSH agents to offer, in order, as ssh2's `agent` values: `SSH_AUTH_SOCK` when set; else on
 * Windows the OpenSSH agent's pipe (what `ssh-add` there talks to), then Pageant (`pageant`);
 * else none. An agent that cannot be reached is skipped at connect time.
 */
export function sshAgents(platform: NodeJS.Platform, authSock: string | undefined): string[] {
  if (authSock) return [authSock];
  return platform === 'win32' ? [WINDOWS_OPENSSH_AGENT, 'pageant'] : [];
}

/**
 * The precedence of the module comment: own values, then saved ones, then the OS's.
 * Pure: the result holds only variables some source has.
 */
export function sessionEnvironment(
  own: SessionValues,
  saved: SessionValues,
  os: SessionValues,
): SessionValues {
  return { ...os, ...saved, ...own };
}

/** The engine's own values, as it was started (before anything was adopted). */
let started: SessionValues | undefined;
let sources: Pick<TetherPaths, 'runtimeDir' | 'userRuntimeDir'> | undefined;

/**
 * Fills the session variables missing from the engine's own environment into `process.env`
 * (native modules such as libsecret read it there), and saves the engine's own values for later
 * engines. Call once at engine start, before the paths that depend on XDG_* are resolved.
 * @returns the names of the variables taken from elsewhere
 */
export function adoptSessionEnvironment(
  paths: Pick<TetherPaths, 'runtimeDir' | 'userRuntimeDir'>,
): SessionVariable[] {
  started ??= pickSession(process.env);
  sources = paths;
  saveSessionEnvironment(paths.runtimeDir, started);
  return refreshSessionEnvironment();
}

/**
 * Applies the current session values again (the tray app may have saved newer ones since the
 * engine started): variables of the engine's own environment stay as they are.
 * No-op before {@link adoptSessionEnvironment}.
 * @returns the names of the variables taken from elsewhere
 */
export function refreshSessionEnvironment(): SessionVariable[] {
  if (!sources || !started) return [];
  const own = started;
  const values = sessionEnvironment(
    own,
    readSessionEnvironment(sources.runtimeDir),
    osSessionDefaults(process.platform, sources.userRuntimeDir),
  );
  const adopted: SessionVariable[] = [];
  for (const k of SESSION_VARIABLES) {
    if (own[k] !== undefined) continue;
    if (values[k] === undefined) delete process.env[k];
    else {
      process.env[k] = values[k];
      adopted.push(k);
    }
  }
  return adopted;
}
