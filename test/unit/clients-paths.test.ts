/**
 * MCP client descriptions (main/common/clients.ts): the default config file of each client per OS
 * (APPDATA, XDG_CONFIG_HOME, CLAUDE_CONFIG_DIR honoured), the entry shapes each client reads, the
 * "Copy client config" snippet, and the recognition of MCP Tether's own entries.
 */
import { describe, expect, it } from 'vitest';
import {
  MCP_CLIENTS,
  clientConfigPath,
  clientEntry,
  clientSnippet,
  isMcpClient,
  isTetherEntry,
  type McpClient,
} from '../../main/common/clients.js';
import { shimLaunch } from '../../main/engine/clients/launch.js';

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

  it('falls back to the roaming profile when APPDATA is unset on Windows', () => {
    expect(clientConfigPath('claude-desktop', { ...win, env: {} })).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
  });
});

describe('entries', () => {
  const node = shimLaunch('gh', {
    execPath: '/usr/bin/node',
    electron: false,
    binPath: '/opt/mt/bin/mcp-tether.js',
  });
  const app = shimLaunch('gh', {
    execPath: '/Applications/MCP Tether.app/Contents/MacOS/MCP Tether',
    electron: true,
    binPath: '/Applications/MCP Tether.app/Contents/Resources/app/bin/mcp-tether.js',
  });

  it('point at the shim by absolute paths; under Electron the binary runs as Node', () => {
    expect(node).toEqual({ command: '/usr/bin/node', args: ['/opt/mt/bin/mcp-tether.js', 'shim', 'gh'] });
    expect(app.env).toEqual({ ELECTRON_RUN_AS_NODE: '1' });
    expect(app.args).toEqual([
      '/Applications/MCP Tether.app/Contents/Resources/app/bin/mcp-tether.js',
      'shim',
      'gh',
    ]);
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

  it('knows the five clients', () => {
    expect(MCP_CLIENTS).toEqual(['claude-desktop', 'cursor', 'vscode', 'claude-code', 'windsurf']);
    expect(isMcpClient('cursor')).toBe(true);
    expect(isMcpClient('zed')).toBe(false);
  });
});
