/**
 * How MCP clients start the shim of this installation, by absolute paths:
 * - `node`: Node running `bin/mcp-tether.js shim <name>` (an npm install);
 * - `electron-node`: the Electron binary run as Node (`ELECTRON_RUN_AS_NODE=1`) on the same
 *   script: a development run of the app (`npm run app`), whose Electron keeps the `runAsNode` fuse;
 * - `app`: the packaged app's own binary with `--shim <name>`, which main/app/entry.ts handles
 *   before any window is made (the packaged binary has the `runAsNode` fuse off, see
 *   electron-builder.yml). On Linux `--ozone-platform=headless` comes first: a client's minimal
 *   environment has no DISPLAY, and the shim draws nothing (Chromium docs/ozone.md).
 * Then the rules of {@link launchProblem} and {@link windowsSafeLaunch}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShimLaunch } from '../../common/clients.js';
import { headlessAppArgs, isPackagedApp } from '../../common-node/control-client.js';
import { ErrorCode, TetherError } from '../../common/errors.js';

/** How the running installation is started (see the module comment). */
type LaunchKind = 'node' | 'electron-node' | 'app';

/** What {@link shimLaunch} needs to know about the running installation. */
export interface LaunchContext {
  /** `process.execPath`: Node, or the app's Electron binary. */
  execPath: string;
  kind: LaunchKind;
  /** Absolute path of `bin/mcp-tether.js` (not used for `app`). */
  binPath?: string;
  /** `process.platform` (default: this one). */
  platform?: NodeJS.Platform;
}

/** The launch entry for `mcp-tether shim <name>` of the installation described by `ctx`. */
export function shimLaunch(name: string, ctx: LaunchContext): ShimLaunch {
  if (ctx.kind === 'app') {
    return {
      command: ctx.execPath,
      args: headlessAppArgs(['--shim', name], ctx.platform ?? process.platform),
    };
  }
  if (!ctx.binPath) throw new Error('binPath is needed to start the shim with Node');
  return {
    command: ctx.execPath,
    args: [ctx.binPath, 'shim', name],
    ...(ctx.kind === 'electron-node' ? { env: { ELECTRON_RUN_AS_NODE: '1' } } : {}),
  };
}

/** The launch kind of this process (see the module comment and `isPackagedApp`). */
function currentLaunchKind(): LaunchKind {
  if (!process.versions['electron']) return 'node';
  return isPackagedApp() ? 'app' : 'electron-node';
}

/**
 * Why entries written now would not work, or undefined: on macOS an app that runs from a
 * temporary place, App Translocation (a quarantined app opened where it was downloaded runs from a
 * random read-only path under `/private/var/folders/…/AppTranslocation/`) or the mounted disk
 * image (`/Volumes/…`, gone once ejected).
 * @returns a TetherError INVALID_ARGUMENT with a hint (not thrown)
 */
export function launchProblem(
  execPath: string,
  platform: NodeJS.Platform = process.platform,
): TetherError | undefined {
  if (platform !== 'darwin') return undefined;
  const where = execPath.includes('/AppTranslocation/')
    ? 'a temporary copy macOS made of it (App Translocation: it was opened from where it was downloaded)'
    : execPath.startsWith('/Volumes/')
      ? `the disk image it came on (${execPath.split('/').slice(0, 3).join('/')})`
      : undefined;
  if (!where) return undefined;
  return new TetherError(
    ErrorCode.INVALID_ARGUMENT,
    `MCP Tether runs from ${where}: a client config pointing there would stop working.`,
    {
      hint: 'Drag MCP Tether into Applications in Finder, open it from there, then set up the client again.',
    },
  );
}

/**
 * Windows: the launch with every command or argument that holds a space replaced by its 8.3
 * short path, so clients that start commands through `cmd.exe` (which splits at spaces) work. A
 * path without a short name (8.3 names disabled on that volume) is kept, with a warning.
 * @param shortPath the short form of an existing path, or undefined (default {@link windowsShortPath})
 */
export function windowsSafeLaunch(
  launch: ShimLaunch,
  shortPath: (path: string) => string | undefined = windowsShortPath,
): { launch: ShimLaunch; warning?: string } {
  const kept: string[] = [];
  const fix = (word: string) => {
    if (!/\s/.test(word)) return word;
    const short = shortPath(word);
    if (short && !/\s/.test(short)) return short;
    kept.push(word);
    return word;
  };
  const out = { ...launch, command: fix(launch.command), args: launch.args.map(fix) };
  return kept.length
    ? {
        launch: out,
        warning: `${kept.join(', ')} holds spaces and has no short (8.3) name: clients that start commands through cmd.exe will fail to start the shim. Reinstall MCP Tether in a folder without spaces, or enable 8.3 names (fsutil 8dot3name).`,
      }
    : { launch: out };
}

/** The 8.3 short path Windows gives an existing path (`cmd /c for %I in ("…") do @echo %~sI`). */
function windowsShortPath(path: string): string | undefined {
  if (process.platform !== 'win32' || /["%]/.test(path)) return undefined;
  const r = spawnSync('cmd.exe', ['/d', '/s', '/c', `"for %I in ("${path}") do @echo %~sI"`], {
    encoding: 'utf8',
    windowsVerbatimArguments: true,
    windowsHide: true,
    timeout: 5000,
  });
  return (r.status === 0 && r.stdout.trim()) || undefined;
}

/**
 * `bin/mcp-tether.js` of this installation: the first one found walking up from this module (it
 * sits three folders up in the sources and four in `dist/`).
 */
function findBinPath(from: string = dirname(fileURLToPath(import.meta.url))): string {
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
  const kind = currentLaunchKind();
  return { execPath: process.execPath, kind, ...(kind === 'app' ? {} : { binPath: findBinPath() }) };
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
