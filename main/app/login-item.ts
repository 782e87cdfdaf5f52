/**
 * "Start at login" per OS: Electron's login items on macOS and Windows, an XDG autostart entry on
 * Linux. Electron itself is passed in, so the choice and the Linux side are unit-tested.
 */
import {
  autostartFile,
  disableAutostart,
  enableAutostart,
  isAutostartEnabled,
  type AutostartLaunch,
} from '../engine/clients/autostart.js';

/** Reads and switches "Start at login"; `supported` false where neither way exists. */
export interface LoginItem {
  supported: boolean;
  /** The real state, read each time (the user may change it in the OS settings). */
  isEnabled(): boolean;
  /** @throws TetherError CONFIG_IO (Linux: the entry cannot be written) */
  setEnabled(enabled: boolean): void;
}

/** Electron's login-item calls (`app.getLoginItemSettings().openAtLogin`, `app.setLoginItemSettings`). */
interface ElectronLoginItems {
  get(): boolean;
  set(enabled: boolean): void;
}

/** What {@link loginItem} needs. */
export interface LoginItemContext {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  electron: ElectronLoginItems;
  /** The command that starts the app (Linux). */
  launch: () => AutostartLaunch;
}

/** The login item of this OS. */
export function loginItem(ctx: LoginItemContext): LoginItem {
  if (ctx.platform === 'darwin' || ctx.platform === 'win32') {
    return { supported: true, isEnabled: () => ctx.electron.get(), setEnabled: (on) => ctx.electron.set(on) };
  }
  if (ctx.platform === 'linux' || ctx.platform === 'freebsd' || ctx.platform === 'openbsd') {
    const file = autostartFile(ctx.env, ctx.home);
    return {
      supported: true,
      isEnabled: () => isAutostartEnabled(file),
      setEnabled: (on) => (on ? enableAutostart(file, ctx.launch()) : disableAutostart(file)),
    };
  }
  return { supported: false, isEnabled: () => false, setEnabled: () => undefined };
}

/**
 * What Electron's login-item calls need besides `openAtLogin`: on Windows the command to run at
 * login, `path` and `args` (Electron: `app.setLoginItemSettings` takes `path`, default
 * `process.execPath`, and `args`, default none, "wrap paths in quotes"; `getLoginItemSettings`
 * finds the entry only when given the same two), so a development run (`electron <app dir>`)
 * registers its app directory too. macOS registers the app bundle itself: nothing to add.
 */
export function electronLoginItemOptions(
  platform: NodeJS.Platform,
  launch: AutostartLaunch,
): { path?: string; args?: string[] } {
  if (platform !== 'win32') return {};
  return { path: launch.command, args: launch.args.map((a) => (/\s/.test(a) ? `"${a}"` : a)) };
}
