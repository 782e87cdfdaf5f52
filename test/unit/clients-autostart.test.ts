/**
 * "Start at login": the XDG autostart entry on Linux (main/engine/clients/autostart.ts) in a
 * temporary XDG_CONFIG_HOME — enable, disable, the real state read back (also when the desktop
 * switched it off), Exec quoting by the Desktop Entry spec — and the per-OS choice of
 * main/app/login-item.ts (Electron's login items on macOS and Windows).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loginItem } from '../../main/app/login-item.js';
import {
  autostartFile,
  autostartLaunch,
  desktopEntry,
  disableAutostart,
  enableAutostart,
  isAutostartEnabled,
  quoteExecArg,
} from '../../main/engine/clients/autostart.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mt-xdg-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('XDG autostart entry', () => {
  it('lives in $XDG_CONFIG_HOME/autostart, or ~/.config/autostart', () => {
    expect(autostartFile({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/ann')).toBe(
      '/x/cfg/autostart/mcp-tether.desktop',
    );
    expect(autostartFile({}, '/home/ann')).toBe('/home/ann/.config/autostart/mcp-tether.desktop');
    expect(autostartFile({ XDG_CONFIG_HOME: 'rel' }, '/home/ann')).toBe(
      '/home/ann/.config/autostart/mcp-tether.desktop',
    );
  });

  it('enables, reads back, disables', () => {
    const file = autostartFile({ XDG_CONFIG_HOME: join(dir, 'cfg') }, '/nonexistent');
    expect(isAutostartEnabled(file)).toBe(false);
    enableAutostart(file, { command: '/opt/MCP Tether/mcp-tether', args: [] });
    expect(isAutostartEnabled(file)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('[Desktop Entry]');
    expect(text).toContain('\nType=Application\n');
    expect(text).toContain('\nExec="/opt/MCP Tether/mcp-tether"\n');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    enableAutostart(file, { command: '/opt/MCP Tether/mcp-tether', args: [] }); // idempotent
    expect(isAutostartEnabled(file)).toBe(true);
    disableAutostart(file);
    expect(existsSync(file)).toBe(false);
    expect(isAutostartEnabled(file)).toBe(false);
    disableAutostart(file); // nothing to remove: no error
  });

  it('reads an entry the desktop switched off as off', () => {
    const file = join(dir, 'autostart', 'mcp-tether.desktop');
    enableAutostart(file, { command: '/usr/bin/mcp-tether', args: [] });
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('X-GNOME-Autostart-enabled=true', 'X-GNOME-Autostart-enabled=false'),
    );
    expect(isAutostartEnabled(file)).toBe(false);
    writeFileSync(file, desktopEntry({ command: '/usr/bin/mcp-tether', args: [] }) + 'Hidden=true\n');
    expect(isAutostartEnabled(file)).toBe(false);
  });

  it('quotes Exec arguments as the Desktop Entry spec says', () => {
    expect(quoteExecArg('/usr/bin/mcp-tether')).toBe('/usr/bin/mcp-tether');
    expect(quoteExecArg('/opt/My App/app')).toBe('"/opt/My App/app"');
    // Inside quotes `"`, `$`, `` ` `` and `\` are escaped; then backslashes are escaped again as a string value.
    expect(quoteExecArg('a"b')).toBe('"a\\\\"b"');
    expect(quoteExecArg('$HOME')).toBe('"\\\\$HOME"');
    expect(quoteExecArg('100%')).toBe('100%%');
    expect(quoteExecArg('')).toBe('""');
  });

  it('runs the AppImage file, not its temporary mount; `electron <app>` in development', () => {
    expect(
      autostartLaunch({
        execPath: '/tmp/.mount_x/mcp-tether',
        env: { APPIMAGE: '/home/a/MCP.AppImage' },
        defaultApp: false,
        appPath: '',
      }),
    ).toEqual({ command: '/home/a/MCP.AppImage', args: [] });
    expect(
      autostartLaunch({ execPath: '/opt/mt/mcp-tether', env: {}, defaultApp: false, appPath: '/x' }),
    ).toEqual({
      command: '/opt/mt/mcp-tether',
      args: [],
    });
    expect(
      autostartLaunch({
        execPath: '/w/node_modules/electron/dist/electron',
        env: {},
        defaultApp: true,
        appPath: '/w',
      }),
    ).toEqual({
      command: '/w/node_modules/electron/dist/electron',
      args: ['/w'],
    });
  });
});

describe('login item per OS', () => {
  function electronFake() {
    const calls: boolean[] = [];
    let on = false;
    return { calls, api: { get: () => on, set: (v: boolean) => void (calls.push(v), (on = v)) } };
  }

  it('uses the XDG entry on Linux, reflecting the real file', () => {
    const e = electronFake();
    const item = loginItem({
      platform: 'linux',
      env: { XDG_CONFIG_HOME: dir },
      home: '/nonexistent',
      electron: e.api,
      launch: () => ({ command: '/usr/bin/mcp-tether', args: [] }),
    });
    expect(item.supported).toBe(true);
    expect(item.isEnabled()).toBe(false);
    item.setEnabled(true);
    expect(existsSync(join(dir, 'autostart', 'mcp-tether.desktop'))).toBe(true);
    expect(item.isEnabled()).toBe(true);
    rmSync(join(dir, 'autostart', 'mcp-tether.desktop')); // removed behind the app's back
    expect(item.isEnabled()).toBe(false);
    expect(e.calls).toEqual([]);
  });

  it.each(['darwin', 'win32'] as const)('uses Electron’s login items on %s', (platform) => {
    const e = electronFake();
    const item = loginItem({
      platform,
      env: { XDG_CONFIG_HOME: dir },
      home: dir,
      electron: e.api,
      launch: () => ({ command: 'x', args: [] }),
    });
    item.setEnabled(true);
    expect(item.isEnabled()).toBe(true);
    item.setEnabled(false);
    expect(e.calls).toEqual([true, false]);
    expect(existsSync(join(dir, 'autostart'))).toBe(false);
  });

  it('is unsupported elsewhere', () => {
    const e = electronFake();
    expect(
      loginItem({
        platform: 'aix',
        env: {},
        home: dir,
        electron: e.api,
        launch: () => ({ command: 'x', args: [] }),
      }).supported,
    ).toBe(false);
  });
});
