/**
 * MCP client descriptions (main/common/clients.ts, main/common-node/client-paths.ts): the default config file of each client per OS
 * (APPDATA, XDG_CONFIG_HOME, CLAUDE_CONFIG_DIR honoured), the entry shapes each client reads, the
 * "Copy client config" snippet, and the recognition of MCP Tether's own entries.
 */
import { describe, expect, it } from 'vitest';
import {
  MCP_CLIENTS,
  clientEntry,
  clientSnippet,
  isMcpClient,
  isTetherEntry,
  type McpClient,
} from '../../main/common/clients.js';
import { clientConfigPath } from '../../main/common-node/client-paths.js';
import { ClientSetup } from '../../main/engine/clients/index.js';
import { launchProblem, shimLaunch, windowsSafeLaunch } from '../../main/engine/clients/launch.js';

const mac = { platform: 'darwin' as const, env: {}, home: '/Users/ann' };
const linux = { platform: 'linux' as const, env: {}, home: '/home/ann' };
const win = {
  platform: 'win32' as const,
  env: { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' },
  home: 'C:\\Users\\ann',
};

describe('clientConfigPath', () => {
  it.each<[McpClient, string, string, string]>([
    [
      'claude-desktop',
      '/Users/ann/Library/Application Support/Claude/claude_desktop_config.json',
      'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
      '/home/ann/.config/Claude/claude_desktop_config.json',
    ],
    [
      'cursor',
      '/Users/ann/.cursor/mcp.json',
      'C:\\Users\\ann\\.cursor\\mcp.json',
      '/home/ann/.cursor/mcp.json',
    ],
    [
      'vscode',
      '/Users/ann/Library/Application Support/Code/User/mcp.json',
      'C:\\Users\\ann\\AppData\\Roaming\\Code\\User\\mcp.json',
      '/home/ann/.config/Code/User/mcp.json',
    ],
    ['claude-code', '/Users/ann/.claude.json', 'C:\\Users\\ann\\.claude.json', '/home/ann/.claude.json'],
    [
      'windsurf',
      '/Users/ann/.codeium/windsurf/mcp_config.json',
      'C:\\Users\\ann\\.codeium\\windsurf\\mcp_config.json',
      '/home/ann/.codeium/windsurf/mcp_config.json',
    ],
  ])('%s: macOS, Windows and Linux defaults', (client, onMac, onWindows, onLinux) => {
    expect(clientConfigPath(client, mac)).toBe(onMac);
    expect(clientConfigPath(client, win)).toBe(onWindows);
    expect(clientConfigPath(client, linux)).toBe(onLinux);
  });

  it('honours XDG_CONFIG_HOME on Linux (absolute only, as the XDG spec says)', () => {
    const env = { XDG_CONFIG_HOME: '/srv/cfg' };
    expect(clientConfigPath('claude-desktop', { ...linux, env })).toBe(
      '/srv/cfg/Claude/claude_desktop_config.json',
    );
    expect(clientConfigPath('vscode', { ...linux, env })).toBe('/srv/cfg/Code/User/mcp.json');
    expect(clientConfigPath('vscode', { ...linux, env: { XDG_CONFIG_HOME: 'relative' } })).toBe(
      '/home/ann/.config/Code/User/mcp.json',
    );
    // Not on macOS: Electron apps keep their settings in Application Support there.
    expect(clientConfigPath('claude-desktop', { ...mac, env })).toContain('/Library/Application Support/');
  });

  it('honours CLAUDE_CONFIG_DIR for Claude Code', () => {
    expect(clientConfigPath('claude-code', { ...linux, env: { CLAUDE_CONFIG_DIR: '/opt/claude' } })).toBe(
      '/opt/claude/.claude.json',
    );
  });

  it('Windows: Claude Desktop installed from MSIX reads the file under its package folder', () => {
    const packages = ['Microsoft.WindowsTerminal_8wekyb3d8bbwe', 'Claude_pzs8sxrjxfjjc'];
    const ctx = {
      ...win,
      env: { ...win.env, LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' },
      windowsPackages: packages,
    };
    expect(clientConfigPath('claude-desktop', ctx)).toBe(
      'C:\\Users\\ann\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json',
    );
    // LOCALAPPDATA unset: the profile's default place.
    expect(clientConfigPath('claude-desktop', { ...win, windowsPackages: packages })).toBe(
      'C:\\Users\\ann\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json',
    );
    // No Claude package: the classic install's file; other clients are not packaged.
    expect(clientConfigPath('claude-desktop', { ...win, windowsPackages: [packages[0]!] })).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
    expect(clientConfigPath('vscode', ctx)).toBe('C:\\Users\\ann\\AppData\\Roaming\\Code\\User\\mcp.json');
    // Package folders mean nothing on the other OSes.
    expect(clientConfigPath('claude-desktop', { ...mac, windowsPackages: packages })).toBe(
      '/Users/ann/Library/Application Support/Claude/claude_desktop_config.json',
    );
  });

  it('falls back to the roaming profile when APPDATA is unset on Windows', () => {
    expect(clientConfigPath('claude-desktop', { ...win, env: {} })).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
  });
});

describe('entries', () => {
  const node = shimLaunch('gh', {
    execPath: '/usr/bin/node',
    kind: 'node',
    binPath: '/opt/mt/bin/mcp-tether.js',
  });
  const app = shimLaunch('gh', {
    execPath: '/home/ann/mcp-tether/node_modules/electron/dist/electron',
    kind: 'electron-node',
    binPath: '/home/ann/mcp-tether/bin/mcp-tether.js',
  });
  const packaged = (platform: NodeJS.Platform, execPath: string) =>
    shimLaunch('gh', { execPath, kind: 'app', platform });

  it('point at the shim by absolute paths; a development Electron runs as Node', () => {
    expect(node).toEqual({ command: '/usr/bin/node', args: ['/opt/mt/bin/mcp-tether.js', 'shim', 'gh'] });
    expect(app.env).toEqual({ ELECTRON_RUN_AS_NODE: '1' });
    expect(app.args).toEqual(['/home/ann/mcp-tether/bin/mcp-tether.js', 'shim', 'gh']);
  });

  it('the packaged app (runAsNode fuse off): its own binary with --shim, headless on Linux', () => {
    const mac = '/Applications/MCP Tether.app/Contents/MacOS/MCP Tether';
    expect(packaged('darwin', mac)).toEqual({ command: mac, args: ['--shim', 'gh'] });
    expect(packaged('linux', '/opt/MCP Tether/mcp-tether-app')).toEqual({
      command: '/opt/MCP Tether/mcp-tether-app',
      args: ['--ozone-platform=headless', '--shim', 'gh'],
    });
    expect(packaged('win32', 'C:\\x\\mcp-tether.exe').env).toBeUndefined();
    expect(isTetherEntry(packaged('darwin', mac), 'gh')).toBe(true);
    expect(isTetherEntry(packaged('linux', '/opt/MCP Tether/mcp-tether-app'), 'gh')).toBe(true);
    expect(() => shimLaunch('gh', { execPath: '/usr/bin/node', kind: 'node' })).toThrow(/binPath/);
  });

  it('carry type stdio for VS Code and Claude Code only', () => {
    expect(clientEntry('vscode', node)).toEqual({ type: 'stdio', ...node });
    expect(clientEntry('claude-code', node)).toEqual({ type: 'stdio', ...node });
    for (const c of ['claude-desktop', 'cursor', 'windsurf'] as const)
      expect(clientEntry(c, node)).toEqual(node);
    expect(clientEntry('claude-desktop', app)).toEqual({
      command: app.command,
      args: app.args,
      env: app.env,
    });
  });

  it('snippets use each client’s top-level key', () => {
    expect(JSON.parse(clientSnippet('vscode', 'gh', node))).toEqual({
      servers: { gh: { type: 'stdio', ...node } },
    });
    for (const c of ['claude-desktop', 'cursor', 'windsurf', 'claude-code'] as const) {
      expect(Object.keys(JSON.parse(clientSnippet(c, 'gh', node)))).toEqual(['mcpServers']);
    }
  });

  it('recognizes MCP Tether’s entries whatever the install, and nothing else', () => {
    expect(isTetherEntry(clientEntry('vscode', node), 'gh')).toBe(true);
    expect(isTetherEntry(app, 'gh')).toBe(true);
    expect(isTetherEntry({ command: 'mcp-tether', args: ['shim', 'gh'] }, 'gh')).toBe(true);
    expect(isTetherEntry(node, 'other')).toBe(false);
    expect(isTetherEntry({ command: 'npx', args: ['-y', 'mcp-remote', 'https://x/mcp'] }, 'gh')).toBe(false);
    expect(isTetherEntry({ command: 'npx', args: ['some-server', 'shim', 'gh'] }, 'gh')).toBe(false);
    expect(isTetherEntry(null, 'gh')).toBe(false);
  });

  it('macOS: refuses to point clients at a translocated app or the mounted disk image, with a hint', () => {
    const translocated =
      '/private/var/folders/xy/T/AppTranslocation/1A2B/d/MCP Tether.app/Contents/MacOS/MCP Tether';
    expect(launchProblem(translocated, 'darwin')?.message).toMatch(/App Translocation/);
    expect(launchProblem(translocated, 'darwin')?.data['hint']).toMatch(/Applications/);
    expect(
      launchProblem('/Volumes/MCP Tether 0.1.0/MCP Tether.app/Contents/MacOS/MCP Tether', 'darwin')?.message,
    ).toMatch(/disk image it came on \(\/Volumes\/MCP Tether 0.1.0\)/);
    expect(launchProblem('/Applications/MCP Tether.app/Contents/MacOS/MCP Tether', 'darwin')).toBeUndefined();
    expect(launchProblem('/Volumes/data/x', 'linux')).toBeUndefined();
    const setup = new ClientSetup({
      launch: () => ({ execPath: translocated, kind: 'app', platform: 'darwin' }),
      pathContext: () => mac,
      warning: () => undefined,
    });
    expect(() => setup.snippet('gh', 'claude-desktop')).toThrow(/App Translocation/);
    expect(() => setup.install('gh', 'claude-desktop', '/nonexistent/never-written.json')).toThrow(
      /App Translocation/,
    );
  });

  it('Windows: paths with spaces are written as their 8.3 short form, or kept with a warning', () => {
    const launch = {
      command: 'C:\\Users\\Ann Lee\\AppData\\Local\\Programs\\mcp-tether\\mcp-tether.exe',
      args: ['--shim', 'gh'],
    };
    const short = (p: string) => (p.includes('Ann Lee') ? p.replace('Ann Lee', 'ANNLEE~1') : undefined);
    expect(windowsSafeLaunch(launch, short)).toEqual({
      launch: {
        command: 'C:\\Users\\ANNLEE~1\\AppData\\Local\\Programs\\mcp-tether\\mcp-tether.exe',
        args: ['--shim', 'gh'],
      },
    });
    const none = windowsSafeLaunch(launch, () => undefined);
    expect(none.launch).toEqual(launch);
    expect(none.warning).toMatch(/cmd\.exe/);
    expect(none.warning).toMatch(/Ann Lee/);
    const plain = { command: 'C:\\mt\\mcp-tether.exe', args: ['--shim', 'gh'] };
    expect(windowsSafeLaunch(plain, () => 'never')).toEqual({ launch: plain });
    const setup = new ClientSetup({
      launch: () => ({ execPath: launch.command, kind: 'app', platform: 'win32' }),
      pathContext: () => win,
      warning: () => undefined,
      shortPath: short,
    });
    expect(setup.snippet('gh', 'cursor').entry.command).toBe(
      'C:\\Users\\ANNLEE~1\\AppData\\Local\\Programs\\mcp-tether\\mcp-tether.exe',
    );
    expect(setup.snippet('gh', 'cursor').warning).toBeUndefined();
  });

  it('knows the five clients', () => {
    expect(MCP_CLIENTS).toEqual(['claude-desktop', 'cursor', 'vscode', 'claude-code', 'windsurf']);
    expect(isMcpClient('cursor')).toBe(true);
    expect(isMcpClient('zed')).toBe(false);
  });
});
