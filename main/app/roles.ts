/**
 * What the app's binary was started to be. The packaged binary has Electron's `runAsNode` fuse off
 * (electron-builder.yml), so it cannot run the CLI's script as Node: MCP clients start it as
 * `<binary> --shim <name>`, and the launcher as `<binary> --engine`; anything else is the tray
 * app. Electron-free, so the rule is unit-tested; main/app/entry.ts acts on it before any window,
 * tray or single-instance lock exists.
 */

/**
 * The app's id: electron-builder's `appId`, which its NSIS installer gives the Start menu shortcut
 * as AppUserModelId, and so what `app.setAppUserModelId` must set on Windows for notifications
 * to show (Electron: "Notifications", Windows).
 */
export const APP_ID = 'dev.mcp-tether.app';

/** The role of one process of the app's binary. */
export type AppRole =
  { kind: 'tray' } | { kind: 'engine' } | { kind: 'shim'; name: string } | { kind: 'usage'; message: string };

/**
 * The role the arguments ask for. Chromium's own switches (`--ozone-platform=headless`, …) may
 * come before ours and are left to Chromium.
 * @param args the process's arguments after the binary (`process.argv.slice(1)`)
 */
export function appRole(args: readonly string[]): AppRole {
  const shim = args.indexOf('--shim');
  if (shim >= 0) {
    const name = args[shim + 1];
    if (!name || name.startsWith('-') || args.includes('--engine'))
      return { kind: 'usage', message: 'usage: <MCP Tether binary> --shim <endpoint-name>' };
    return { kind: 'shim', name };
  }
  return args.includes('--engine') ? { kind: 'engine' } : { kind: 'tray' };
}
