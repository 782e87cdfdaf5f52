/**
 * "Start at login" on Linux: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/mcp-tether.desktop`
 * (`~/.config/autostart/` by default), as the XDG Autostart and Desktop Entry specifications
 * describe. macOS and Windows use Electron's `app.setLoginItemSettings` instead (main/app).
 * Electron-free: main/app passes in the command that starts the app.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import { writeFileAtomic } from '../config/store.js';

/** The entry's file name: one per user, whatever the install. */
const AUTOSTART_FILE_NAME = 'mcp-tether.desktop';

/** The command line the entry runs. */
export interface AutostartLaunch {
  /** Absolute path of the program. */
  command: string;
  args: string[];
}

/**
 * The autostart entry's path: `$XDG_CONFIG_HOME/autostart/mcp-tether.desktop`, or under
 * `~/.config` when XDG_CONFIG_HOME is unset or not absolute (the specification ignores it then).
 */
export function autostartFile(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env['XDG_CONFIG_HOME'];
  const configHome = xdg && isAbsolute(xdg) ? xdg : join(home, '.config');
  return join(configHome, 'autostart', AUTOSTART_FILE_NAME);
}

/** Characters that make an Exec argument need quotes (Desktop Entry spec, "The Exec key"). */
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/**
 * One Exec argument: quoted when it holds reserved characters, with `"`, `` ` ``, `$` and `\`
 * escaped inside the quotes; `%` doubled (field codes); then the string escapes of every value
 * (`\\`, `\n`, `\t`, `\r`) on top.
 */
export function quoteExecArg(arg: string): string {
  let quoted = arg.replace(/%/g, '%%');
  if (quoted === '' || RESERVED.test(quoted)) quoted = `"${quoted.replace(/(["`$\\])/g, '\\$1')}"`;
  return quoted.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
}

/** The text of the autostart entry. */
export function desktopEntry(launch: AutostartLaunch): string {
  const exec = [launch.command, ...launch.args].map(quoteExecArg).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=MCP Tether',
    'Comment=Remote MCP servers for stdio MCP clients (tray)',
    `Exec=${exec}`,
    'Icon=mcp-tether',
    'Terminal=false',
    'Categories=Development;Network;',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * The program an autostart entry should run: the AppImage file itself when running from one (the
 * executable is inside a mount that moves every run), else the executable; `electron <app>` for a
 * development run (`process.defaultApp`).
 */
export function autostartLaunch(ctx: {
  execPath: string;
  env: NodeJS.ProcessEnv;
  defaultApp: boolean;
  appPath: string;
}): AutostartLaunch {
  const appImage = ctx.env['APPIMAGE'];
  if (appImage) return { command: appImage, args: [] };
  return { command: ctx.execPath, args: ctx.defaultApp ? [ctx.appPath] : [] };
}

/**
 * True when the entry exists and is not switched off (`Hidden=true`, or
 * `X-GNOME-Autostart-enabled=false`, which desktop settings write to turn an entry off).
 * @throws TetherError CONFIG_IO when it exists but cannot be read
 */
export function isAutostartEnabled(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new TetherError(
      ErrorCode.CONFIG_IO,
      `cannot read ${file}: ${errorMessage(err)}`,
      { path: file },
      { cause: err },
    );
  }
  const value = (key: string) => new RegExp(`^${key}\\s*=\\s*(.*?)\\s*$`, 'm').exec(text)?.[1]?.toLowerCase();
  return value('Hidden') !== 'true' && value('X-GNOME-Autostart-enabled') !== 'false';
}

/**
 * Writes the entry (replacing any older one, e.g. of an app that moved).
 * @throws TetherError CONFIG_IO
 */
export function enableAutostart(file: string, launch: AutostartLaunch): void {
  writeFileAtomic(file, desktopEntry(launch), 0o644);
}

/**
 * Removes the entry; nothing to do when there is none.
 * @throws TetherError CONFIG_IO
 */
export function disableAutostart(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TetherError(
        ErrorCode.CONFIG_IO,
        `cannot remove ${file}: ${errorMessage(err)}`,
        { path: file },
        { cause: err },
      );
    }
  }
}
