/**
 * Where MCP Tether keeps its files, per OS (env-paths), or all under `MCP_TETHER_HOME` when set.
 */
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
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
}

/**
 * Resolves the paths. `MCP_TETHER_HOME=<dir>` puts config, state, logs and the socket under one
 * directory (tests use it); otherwise the OS's app directories are used, and the socket goes to
 * `$XDG_RUNTIME_DIR/mcp-tether` when that is set.
 * @param env the environment to read (default `process.env`)
 */
export function resolvePaths(env: NodeJS.ProcessEnv = process.env): TetherPaths {
  const home = env['MCP_TETHER_HOME'];
  let configDir: string, stateDir: string, logDir: string, runtimeDir: string;
  if (home) {
    configDir = home;
    stateDir = join(home, 'state');
    logDir = join(home, 'logs');
    runtimeDir = join(home, 'run');
  } else {
    const p = envPaths('mcp-tether', { suffix: '' });
    configDir = p.config;
    stateDir = p.data;
    logDir = p.log;
    const xdgRuntime = process.platform === 'linux' ? env['XDG_RUNTIME_DIR'] : undefined;
    runtimeDir = xdgRuntime ? join(xdgRuntime, 'mcp-tether') : join(p.data, 'run');
  }
  const socketPath =
    process.platform === 'win32'
      ? `\\\\.\\pipe\\mcp-tether-${createHash('sha256')
          .update(userInfo().username + '\0' + runtimeDir)
          .digest('hex')
          .slice(0, 16)}`
      : join(runtimeDir, 'engine.sock');
  return {
    configDir,
    configFile: join(configDir, 'endpoints.json'),
    stateDir,
    logDir,
    runtimeDir,
    socketPath,
    lockFile: join(runtimeDir, 'engine.lock'),
  };
}
