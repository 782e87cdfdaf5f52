/**
 * Electron's login-item options (main/app/login-item.ts): on Windows the command and arguments
 * that start the app (quoted where they hold spaces), the same for reading and writing; nothing
 * to add on macOS.
 */
import { describe, expect, it } from 'vitest';
import { electronLoginItemOptions } from '../../main/app/login-item.js';
import { autostartLaunch } from '../../main/engine/clients/autostart.js';

describe('electronLoginItemOptions', () => {
  it('Windows: the installed binary with no arguments', () => {
    const exe = 'C:\\Users\\ann\\AppData\\Local\\Programs\\mcp-tether\\mcp-tether.exe';
    const launch = autostartLaunch({ execPath: exe, env: {}, defaultApp: false, appPath: 'x' });
    expect(electronLoginItemOptions('win32', launch)).toEqual({ path: exe, args: [] });
  });

  it('Windows development run: Electron with the app directory, quoted when it holds spaces', () => {
    const launch = autostartLaunch({
      execPath: 'C:\\dev\\electron.exe',
      env: {},
      defaultApp: true,
      appPath: 'C:\\Users\\Ann Lee\\mcp-tether',
    });
    expect(electronLoginItemOptions('win32', launch)).toEqual({
      path: 'C:\\dev\\electron.exe',
      args: ['"C:\\Users\\Ann Lee\\mcp-tether"'],
    });
  });

  it('macOS registers the bundle itself', () => {
    const launch = autostartLaunch({
      execPath: '/Applications/MCP Tether.app/Contents/MacOS/MCP Tether',
      env: {},
      defaultApp: false,
      appPath: 'x',
    });
    expect(electronLoginItemOptions('darwin', launch)).toEqual({});
  });
});
