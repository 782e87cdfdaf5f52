/**
 * How MCP clients start the shim of this installation: the running engine's own binary (Node, or
 * the app's Electron binary run as Node) and the `bin/mcp-tether.js` next to its code, both by
 * absolute path.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShimLaunch } from '../../common/clients.js';

/** What {@link shimLaunch} needs to know about the running installation. */
export interface LaunchContext {
  /** `process.execPath`: Node, or the app's Electron binary. */
  execPath: string;
  /** True under Electron (`process.versions.electron`): the binary then runs as Node by env. */
  electron: boolean;
  /** Absolute path of `bin/mcp-tether.js`. */
  binPath: string;
}

/** The launch entry for `mcp-tether shim <name>` of the installation described by `ctx`. */
export function shimLaunch(name: string, ctx: LaunchContext): ShimLaunch {
  return {
    command: ctx.execPath,
    args: [ctx.binPath, 'shim', name],
    ...(ctx.electron ? { env: { ELECTRON_RUN_AS_NODE: '1' } } : {}),
  };
}

/**
 * `bin/mcp-tether.js` of this installation: the first one found walking up from this module (it
 * sits three folders up in the sources and four in `dist/`).
 */
export function findBinPath(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ;) {
    const candidate = join(dir, 'bin', 'mcp-tether.js');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`bin/mcp-tether.js not found above ${from}`);
}

/** The launch context of the running process. */
export function currentLaunchContext(): LaunchContext {
  return { execPath: process.execPath, electron: !!process.versions['electron'], binPath: findBinPath() };
}

/**
 * A warning when the paths written into a client's config will not outlive this run: an AppImage
 * runs from a temporary mount that changes every time it starts.
 */
export function ephemeralLaunchWarning(
  env: NodeJS.ProcessEnv = process.env,
  execPath = process.execPath,
): string | undefined {
  const appDir = env['APPDIR'];
  if (env['APPIMAGE'] && appDir && execPath.startsWith(appDir)) {
    return `this app runs from an AppImage mounted at ${appDir}, which moves every time it starts: the client config will stop working once the app quits. Install the .deb package, or the CLI (npm install -g mcp-tether), and set up the client from there.`;
  }
  return undefined;
}
