/**
 * One-click client setup through the built CLI and a real engine: `mcp-tether install`, `uninstall`
 * and `config-snippet` against temporary config files of Claude Desktop, Cursor, VS Code, Claude
 * Code and Windsurf. Each install merges one entry (every other entry and key kept, in order),
 * keeps a backup, is idempotent, and the command it wrote — run as the client runs it, with no PATH
 * — starts a shim that relays to a real server-everything. Invalid JSON is refused and left
 * untouched; default paths follow HOME, XDG_CONFIG_HOME and CLAUDE_CONFIG_DIR.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as ClientTypes from '../../main/common-node/control-client.js';
import type * as PathsTypes from '../../main/common-node/paths.js';
import { loadDist } from '../helpers/dist.js';
import { startEverything, type Everything } from '../helpers/processes.js';
import { BIN, cli, cliOk, type Home, useTempHomes } from '../helpers/tether.js';

let server: Everything;
let home: Home;
const { home: tempHome, defer } = useTempHomes();
let env: NodeJS.ProcessEnv;
let fakeHome: string;

beforeAll(async () => {
  server = await startEverything('streamableHttp');
  defer(() => server.kill());
  home = tempHome();
  fakeHome = join(home.dir, 'user');
  mkdirSync(fakeHome);
  // The user's real client configs are never touched: HOME and XDG_CONFIG_HOME point into the test home.
  env = { ...home.env, HOME: fakeHome, XDG_CONFIG_HOME: join(fakeHome, '.config') };
  delete env['CLAUDE_CONFIG_DIR'];
  delete env['APPIMAGE'];
  await cliOk(env, ['add', 'api', server.url, '--transport', 'streamable-http']);
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A config as each client's users have it: other servers, other settings, members we do not know. */
const existing: Record<string, { key: string; text: string }> = {
  'claude-desktop': {
    key: 'mcpServers',
    text: '{\n  "globalShortcut": "",\n  "mcpServers": {\n    "filesystem": {\n      "command": "npx",\n      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]\n    }\n  },\n  "preferences": {"menuBarEnabled": true}\n}\n',
  },
  cursor: {
    key: 'mcpServers',
    text: '{\n  "mcpServers": {\n    "remote": {"url": "http://127.0.0.1:1/mcp", "headers": {"X-A": "1"}}\n  }\n}\n',
  },
  vscode: {
    key: 'servers',
    text: '{\n\t// Settings Sync keeps this file\n\t"inputs": [{"type": "promptString", "id": "key", "password": true}],\n\t"servers": {\n\t\t"local": {"type": "http", "url": "http://127.0.0.1:1/mcp"},\n\t},\n}\n',
  },
  'claude-code': {
    key: 'mcpServers',
    text: '{\n  "numStartups": 12,\n  "projects": {"/w": {"allowedTools": []}},\n  "mcpServers": {"x": {"type": "stdio", "command": "x", "args": [], "env": {}}},\n  "userID": "abc"\n}\n',
  },
  windsurf: { key: 'mcpServers', text: '{"mcpServers": {"w": {"serverUrl": "http://127.0.0.1:1/sse"}}}' },
};

/** Parses JSON or (VS Code) JSONC the lenient way, for reading results only. */
function parseLoose(text: string): Json {
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[}\]])/g, '$1'));
}

/** Starts what a client config entry says, as the client would (no PATH), and talks MCP to it. */
async function runEntry(entry: Json): Promise<void> {
  const transport = new StdioClientTransport({
    command: entry['command'],
    args: entry['args'],
    // MCP_TETHER_HOME keeps the test's engine; PATH is emptied: GUI clients often have none.
    env: { ...(entry['env'] ?? {}), MCP_TETHER_HOME: home.dir, HOME: fakeHome, PATH: '' },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'installed-entry', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    const r = await client.callTool({ name: 'echo', arguments: { message: 'via the installed entry' } });
    expect(r.content).toEqual([{ type: 'text', text: 'Echo: via the installed entry' }]);
  } finally {
    await client.close();
  }
}

describe.each(Object.keys(existing))('%s', (client) => {
  const { key, text } = existing[client]!;
  let file: string;

  beforeAll(() => {
    file = join(home.dir, `${client}-config`, 'config.json');
    mkdirSync(join(home.dir, `${client}-config`));
    writeFileSync(file, text);
  });

  it('install merges one entry, keeps everything else and a backup; the entry starts a working shim', async () => {
    const out = await cliOk(env, ['install', 'api', '--client', client, '--config', file]);
    expect(out).toContain(file);
    expect(out).toContain(`previous content kept in ${file}.bak`);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(text);

    const before = parseLoose(text);
    const after = parseLoose(readFileSync(file, 'utf8'));
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const k of Object.keys(before)) if (k !== key) expect(after[k]).toEqual(before[k]);
    expect(Object.keys(after[key])).toEqual([...Object.keys(before[key]), 'api']);
    for (const [name, value] of Object.entries(before[key])) expect(after[key][name]).toEqual(value);

    const entry = after[key]['api'];
    expect(entry.args).toEqual([BIN, 'shim', 'api']);
    expect(isAbsolute(entry.command)).toBe(true);
    expect(existsSync(entry.command)).toBe(true);
    if (client === 'vscode' || client === 'claude-code') expect(entry.type).toBe('stdio');
    else expect(entry.type).toBeUndefined();
    await runEntry(entry);
  });

  it('a second install changes nothing', async () => {
    const text1 = readFileSync(file, 'utf8');
    const bak = readFileSync(`${file}.bak`, 'utf8');
    const ino = statSync(file).ino;
    const out = await cliOk(env, ['install', 'api', '--client', client, '--config', file]);
    expect(out).toContain('already set up');
    expect(readFileSync(file, 'utf8')).toBe(text1);
    expect(statSync(file).ino).toBe(ino);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(bak);
  });

  it('config-snippet prints the same entry under the client’s key', async () => {
    const snippet = JSON.parse(await cliOk(env, ['config-snippet', 'api', '--client', client]));
    expect(snippet).toEqual({ [key]: { api: parseLoose(readFileSync(file, 'utf8'))[key]['api'] } });
  });

  it('uninstall removes only that entry', async () => {
    const out = await cliOk(env, ['uninstall', 'api', '--client', client, '--config', file]);
    expect(out).toContain(`removed api from`);
    const after = parseLoose(readFileSync(file, 'utf8'));
    expect(after).toEqual(parseLoose(text));
    expect((await cliOk(env, ['uninstall', 'api', '--client', client, '--config', file])).trim()).toContain(
      'is not set up',
    );
  });
});

describe('refusals', () => {
  it('a file that is not valid JSON is refused and left untouched', async () => {
    const file = join(home.dir, 'broken.json');
    const text = '{\n  "mcpServers": {\n    "a": {"command": "x"}\n  ,\n}\n';
    writeFileSync(file, text);
    const mtime = statSync(file).mtimeMs;
    const r = await cli(env, ['install', 'api', '--client', 'claude-desktop', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: Claude Desktop's config is not valid JSON`,
      ),
    );
    expect(r.stderr).toContain('left untouched');
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(existsSync(`${file}.bak`)).toBe(false);
  });

  it('an unknown endpoint is refused before any file is written', async () => {
    const file = join(home.dir, 'never.json');
    const r = await cli(env, ['install', 'nope', '--client', 'cursor', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no endpoint named "nope"');
    expect(existsSync(file)).toBe(false);
  });

  it('an unknown client is refused', async () => {
    const r = await cli(env, ['install', 'api', '--client', 'zed']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('claude-desktop, cursor, vscode, claude-code, windsurf');
  });
});

describe('default config files', () => {
  it('follow HOME and XDG_CONFIG_HOME, and CLAUDE_CONFIG_DIR for Claude Code', async () => {
    await cliOk(env, ['install', 'api', '--client', 'claude-desktop']);
    await cliOk(env, ['install', 'api', '--client', 'cursor']);
    const claudeDir = join(home.dir, 'claude-dir');
    await cliOk({ ...env, CLAUDE_CONFIG_DIR: claudeDir }, ['install', 'api', '--client', 'claude-code']);
    const desktop = JSON.parse(
      readFileSync(join(fakeHome, '.config/Claude/claude_desktop_config.json'), 'utf8'),
    );
    expect(desktop.mcpServers.api.args).toEqual([BIN, 'shim', 'api']);
    expect(JSON.parse(readFileSync(join(fakeHome, '.cursor/mcp.json'), 'utf8')).mcpServers.api).toBeDefined();
    expect(JSON.parse(readFileSync(join(claudeDir, '.claude.json'), 'utf8')).mcpServers.api.type).toBe(
      'stdio',
    );
    expect(existsSync(join(fakeHome, '.claude.json'))).toBe(false);
  });

  it('clients/list (what the app shows) tells where each client’s file is and whether the endpoint is in it', async () => {
    const { ControlClient } = await loadDist<typeof ClientTypes>('main/common-node/control-client');
    const { resolvePaths } = await loadDist<typeof PathsTypes>('main/common-node/paths');
    const control = await ControlClient.open(resolvePaths(env), { autostart: false });
    try {
      const { clients } = await control.request('clients/list', { endpoint: 'api' });
      const byId = Object.fromEntries(clients.map((c) => [c.client, c]));
      expect(byId['claude-desktop']).toMatchObject({
        label: 'Claude Desktop',
        configFile: join(fakeHome, '.config/Claude/claude_desktop_config.json'),
        exists: true,
        installed: true,
      });
      expect(byId['vscode']).toMatchObject({
        configFile: join(fakeHome, '.config/Code/User/mcp.json'),
        exists: false,
        installed: false,
      });
      const installed = await control.request('clients/install', { endpoint: 'api', client: 'windsurf' });
      expect(installed).toMatchObject({
        action: 'created',
        configFile: join(fakeHome, '.codeium/windsurf/mcp_config.json'),
      });
      const bad = await control
        .request('clients/install', { endpoint: 'api', client: 'cursor', configFile: 'relative.json' })
        .catch((e: Error) => e);
      expect(bad).toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      control.close();
    }
  });
});
