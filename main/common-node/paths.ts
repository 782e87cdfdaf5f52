/**
 * Where MCP Tether keeps its files, per OS (env-paths), or all under `MCP_TETHER_HOME` when set.
 *
 * The runtime dir (control socket, lock, saved session environment) never depends on environment
 * variables other than HOME: MCP clients start shims with a minimal environment (the MCP SDK's
 * `StdioClientTransport` passes only HOME, LOGNAME, PATH, SHELL, TERM, USER), and a shim must find
 * the engine a full-environment process (the tray app, a terminal) started.
 */
import { mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import envPaths from 'env-paths';

/** The directories and files of one MCP Tether installation. All paths are absolute. */
export interface TetherPaths {
  /** Holds `endpoints.json`. */
  configDir: string;
  /** `endpoints.json`: the endpoint list and settings (never secrets). */
  configFile: string;
  /** Engine state: the lock file, the app's own known_hosts. */
  stateDir: string;
  /** Engine log files. */
  logDir: string;
  /** The directory of the control socket; created with mode 0700. */
  runtimeDir: string;
  /** The control socket: a Unix domain socket path, or a named pipe on Windows. */
  socketPath: string;
  /** The engine's single-instance lock file. */
  lockFile: string;
  /**
   * The OS's per-user runtime directory, where the session bus and agent sockets live (Linux
   * `/run/user/<uid>` of systemd-logind, when it exists and is ours); `<MCP_TETHER_HOME>/user-run`
   * under MCP_TETHER_HOME (tests place sockets there); undefined elsewhere.
   */
  userRuntimeDir: string | undefined;
}

/**
 * Linux: `/run/user/<uid>`, the user's runtime directory as systemd-logind creates it
 * (pam_systemd(8); it is what a desktop session's XDG_RUNTIME_DIR names), when it is a directory
 * owned by `uid` with no group/other access; undefined otherwise.
 * @param stat injectable for tests
 */
export function linuxUserRuntimeDir(
  uid: number,
  stat: (path: string) => Pick<Stats, 'isDirectory' | 'uid' | 'mode'> = statSync,
): string | undefined {
  const dir = `/run/user/${uid}`;
  try {
    const st = stat(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The runtime dir without MCP_TETHER_HOME, from HOME and the uid only (see the module comment):
 * Linux `/run/user/<uid>/mcp-tether` when {@link linuxUserRuntimeDir} exists, else
 * `~/.local/share/mcp-tether/run` (XDG_DATA_HOME deliberately ignored); macOS
 * `~/Library/Application Support/mcp-tether/run`; Windows `%LOCALAPPDATA%\mcp-tether\Data\run`
 * (env-paths' data dir: LOCALAPPDATA is in every client's environment there, and env-paths falls
 * back to the home when it is missing).
 */
export function defaultRuntimeDir(
  platform: NodeJS.Platform,
  home: string,
  userRuntime: string | undefined,
  dataDir: string,
): string {
  if (platform === 'linux')
    return userRuntime ? join(userRuntime, 'mcp-tether') : join(home, '.local', 'share', 'mcp-tether', 'run');
  return join(dataDir, 'run');
}

/**
 * Windows: the control pipe's name, `\\.\pipe\mcp-tether-<32 random hex>`, kept in
 * `<runtimeDir>\pipe-name` (created on first use, exclusively: concurrent first users read the
 * winner's). A random name that other users cannot read (the file is under the user's profile,
 * whose ACL admits only the user, SYSTEM and Administrators) means another local user cannot
 * create the pipe first and receive what clients send (`secrets/set` values).
 */
export function windowsPipeName(runtimeDir: string): string {
  const file = join(runtimeDir, 'pipe-name');
  const valid = (t: string) => /^\\\\\.\\pipe\\mcp-tether-[0-9a-f]{32}$/.test(t);
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (valid(text)) return text;
  } catch {
    // first use
  }
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  // Web Crypto (a CSPRNG, loaded on first use): node:crypto would cost every shim start its load.
  const name = `\\\\.\\pipe\\mcp-tether-${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`;
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, name);
    } finally {
      closeSync(fd);
    }
    return name;
  } catch {
    const text = readFileSync(file, 'utf8').trim(); // another process won the race
    if (valid(text)) return text;
    throw new Error(`${file} does not hold a pipe name: delete it and try again`);
  }
}

/**
 * Resolves the paths. `MCP_TETHER_HOME=<dir>` puts config, state, logs and the socket under one
 * directory (tests use it); otherwise the OS's app directories are used (env-paths, which honours
 * the XDG_* variables) and the runtime dir of {@link defaultRuntimeDir}.
 * On Windows this reads (or first creates) the pipe name file, see {@link windowsPipeName}.
 * @param env the environment to read (default `process.env`)
 */
export function resolvePaths(env: NodeJS.ProcessEnv = process.env): TetherPaths {
  const home = env['MCP_TETHER_HOME'];
  let configDir: string, stateDir: string, logDir: string, runtimeDir: string;
  let userRuntimeDir: string | undefined;
  if (home) {
    configDir = home;
    stateDir = join(home, 'state');
    logDir = join(home, 'logs');
    runtimeDir = join(home, 'run');
    userRuntimeDir = join(home, 'user-run');
  } else {
    const p = envPaths('mcp-tether', { suffix: '' });
    configDir = p.config;
    stateDir = p.data;
    logDir = p.log;
    userRuntimeDir = process.platform === 'linux' ? linuxUserRuntimeDir(process.getuid!()) : undefined;
    runtimeDir = defaultRuntimeDir(process.platform, homedir(), userRuntimeDir, p.data);
  }
  const socketPath =
    process.platform === 'win32' ? windowsPipeName(runtimeDir) : join(runtimeDir, 'engine.sock');
  return {
    configDir,
    configFile: join(configDir, 'endpoints.json'),
    stateDir,
    logDir,
    runtimeDir,
    socketPath,
    lockFile: join(runtimeDir, 'engine.lock'),
    userRuntimeDir,
  };
}
