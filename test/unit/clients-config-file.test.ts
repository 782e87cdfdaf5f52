/**
 * Editing MCP clients' config files (main/engine/clients/config-file.ts) on real temporary files:
 * one entry merged with every other entry and key kept byte for byte (order, formatting, unknown
 * members, comments where the client reads JSONC), idempotent re-install that writes nothing, the
 * backup, invalid files refused and left untouched, uninstall of our entry only, symlinks, modes.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShimLaunch } from '../../main/common/clients.js';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import {
  hasClientEntry,
  installClientEntry,
  uninstallClientEntry,
} from '../../main/engine/clients/config-file.js';

const launch: ShimLaunch = { command: '/usr/bin/node', args: ['/opt/mt/bin/mcp-tether.js', 'shim', 'gh'] };
const entry = { command: launch.command, args: launch.args };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mt-clients-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function refused(run: () => unknown): TetherError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(TetherError);
    return err as TetherError;
  }
  throw new Error('accepted');
}

describe('install', () => {
  it('creates the file and its folders when missing', () => {
    const file = join(dir, 'a', 'b', 'claude_desktop_config.json');
    const r = installClientEntry('claude-desktop', file, 'gh', launch);
    expect(r.action).toBe('created');
    expect(r.backupFile).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ mcpServers: { gh: entry } });
    expect(existsSync(`${file}.bak`)).toBe(false);
  });

  it('merges one entry and keeps every other entry and key, in order, as written', () => {
    const file = join(dir, 'claude_desktop_config.json');
    const before =
      '{\n  "globalShortcut": "Ctrl+Space",\n  "mcpServers": {\n    "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"], "x-unknown": [1, 2]}\n  },\n  "zLast": {"nested": true}\n}\n';
    writeFileSync(file, before);
    const r = installClientEntry('claude-desktop', file, 'gh', launch);
    expect(r.action).toBe('added');
    const after = readFileSync(file, 'utf8');
    const parsed = JSON.parse(after);
    expect(Object.keys(parsed)).toEqual(['globalShortcut', 'mcpServers', 'zLast']);
    expect(Object.keys(parsed.mcpServers)).toEqual(['fs', 'gh']);
    expect(parsed.mcpServers.gh).toEqual(entry);
    // The untouched parts are the same text, not just the same values.
    expect(after.startsWith(before.slice(0, before.indexOf('\n  },')))).toBe(true);
    expect(after.endsWith('  },\n  "zLast": {"nested": true}\n}\n')).toBe(true);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(before);
    expect(r.backupFile).toBe(`${file}.bak`);
  });

  it('re-installing the same entry writes nothing (no new backup, same file)', () => {
    const file = join(dir, 'mcp.json');
    installClientEntry('cursor', file, 'gh', launch);
    installClientEntry('cursor', file, 'other', { ...launch, args: [launch.args[0]!, 'shim', 'other'] });
    const bak = readFileSync(`${file}.bak`, 'utf8');
    const text = readFileSync(file, 'utf8');
    const ino = statSync(file).ino;
    const r = installClientEntry('cursor', file, 'gh', launch);
    expect(r.action).toBe('unchanged');
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(statSync(file).ino).toBe(ino); // not even replaced by an identical copy
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(bak);
  });

  it('updates an older entry of ours (another install path) and says so', () => {
    const file = join(dir, 'mcp_config.json');
    installClientEntry('windsurf', file, 'gh', { ...launch, args: ['/old/bin/mcp-tether.js', 'shim', 'gh'] });
    const r = installClientEntry('windsurf', file, 'gh', launch);
    expect(r.action).toBe('updated');
    expect(r.replacedForeign).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8')).mcpServers.gh).toEqual(entry);
    expect(JSON.parse(readFileSync(`${file}.bak`, 'utf8')).mcpServers.gh.args[0]).toBe(
      '/old/bin/mcp-tether.js',
    );
  });

  it('flags replacing a same-named entry that started something else (kept in the backup)', () => {
    const file = join(dir, 'mcp.json');
    writeFileSync(
      file,
      JSON.stringify({ mcpServers: { gh: { command: 'npx', args: ['mcp-remote', 'https://x'] } } }),
    );
    const r = installClientEntry('cursor', file, 'gh', launch);
    expect(r).toMatchObject({ action: 'updated', replacedForeign: true });
    expect(JSON.parse(readFileSync(`${file}.bak`, 'utf8')).mcpServers.gh.command).toBe('npx');
  });

  it('writes VS Code entries under "servers" with type stdio, keeping "inputs" and comments (JSONC)', () => {
    const file = join(dir, 'mcp.json');
    const before =
      '{\n\t// my servers\n\t"inputs": [{"type": "promptString", "id": "k"}],\n\t"servers": {\n\t\t"x": {"type": "http", "url": "http://127.0.0.1:1/mcp"}, // local\n\t},\n}\n';
    writeFileSync(file, before);
    installClientEntry('vscode', file, 'gh', launch);
    const after = readFileSync(file, 'utf8');
    expect(after).toContain('\t// my servers\n\t"inputs": [{"type": "promptString", "id": "k"}],');
    expect(after).toContain('"x": {"type": "http", "url": "http://127.0.0.1:1/mcp"}, // local');
    // New lines follow the file's own indentation (tabs).
    expect(after).toMatch(/\n\t\t"gh": \{\n\t\t\t"type": "stdio",/);
    expect(hasClientEntry('vscode', file, 'gh')).toBe(true);
  });

  it('matches the file’s indentation and line ends', () => {
    const file = join(dir, '.claude.json');
    writeFileSync(file, '{\r\n    "numStartups": 3,\r\n    "projects": {}\r\n}\r\n');
    installClientEntry('claude-code', file, 'gh', launch);
    const after = readFileSync(file, 'utf8');
    expect(after).toContain('\r\n    "mcpServers": {\r\n        "gh": {\r\n            "type": "stdio",');
    expect(after.replace(/\r\n/g, '')).not.toContain('\n');
    expect(JSON.parse(after)).toMatchObject({
      numStartups: 3,
      projects: {},
      mcpServers: { gh: { type: 'stdio' } },
    });
  });

  it('treats a blank file as empty, and keeps a byte-order mark', () => {
    const blank = join(dir, 'blank.json');
    writeFileSync(blank, '  \n');
    expect(installClientEntry('cursor', blank, 'gh', launch).action).toBe('added');
    expect(JSON.parse(readFileSync(blank, 'utf8'))).toEqual({ mcpServers: { gh: entry } });
    const bom = join(dir, 'bom.json');
    writeFileSync(bom, '\uFEFF{"mcpServers": {}}');
    installClientEntry('claude-desktop', bom, 'gh', launch);
    const text = readFileSync(bom, 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(JSON.parse(text.slice(1)).mcpServers.gh).toEqual(entry);
  });

  it('writes through a symlink (a linked dotfile stays a link) and keeps the file mode', () => {
    const real = join(dir, 'real.json');
    const link = join(dir, 'link.json');
    writeFileSync(real, '{}');
    chmodSync(real, 0o640);
    symlinkSync(real, link);
    const r = installClientEntry('cursor', link, 'gh', launch);
    expect(r.configFile).toBe(real);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(link, 'utf8')).mcpServers.gh).toEqual(entry);
    expect(statSync(real).mode & 0o777).toBe(0o640);
  });
});

describe('invalid files are refused and left untouched', () => {
  it.each([
    ['claude-desktop', '{\n  "mcpServers": {\n    "a": 1,\n  }\n}\n', 4, 3],
    ['cursor', '{"mcpServers": {}} trailing', 1, 20],
    ['windsurf', '{\n  // a comment\n  "mcpServers": {}\n}', 2, 3],
    ['claude-code', '{"a": "unterminated\n}', 1, 20],
    ['vscode', '{\n  "servers": {\n    "a": \n  }\n}', 4, 3],
  ] as const)('%s: not valid JSON → CONFIG_INVALID at line:column', (client, text, line, column) => {
    const file = join(dir, 'cfg.json');
    writeFileSync(file, text);
    const mtime = statSync(file).mtimeMs;
    const err = refused(() => installClientEntry(client, file, 'gh', launch));
    expect(err.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(err.data).toMatchObject({ path: file, line, column });
    expect(err.message).toContain(`${file}:${line}:${column}`);
    expect(err.message).toContain('left untouched');
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(existsSync(`${file}.bak`)).toBe(false);
    // Uninstall refuses it the same way.
    expect(refused(() => uninstallClientEntry(client, file, 'gh')).code).toBe(ErrorCode.CONFIG_INVALID);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('refuses a top level or servers member that is not an object', () => {
    const file = join(dir, 'cfg.json');
    for (const text of ['[]', '"x"', '{"mcpServers": []}', '{"mcpServers": null}']) {
      writeFileSync(file, text);
      const err = refused(() => installClientEntry('claude-desktop', file, 'gh', launch));
      expect(err.code).toBe(ErrorCode.CONFIG_INVALID);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });
});

describe('uninstall', () => {
  it('removes only our entry, keeps the rest and a backup', () => {
    const file = join(dir, 'claude_desktop_config.json');
    writeFileSync(file, '{\n  "mcpServers": {\n    "fs": {"command": "npx"}\n  },\n  "other": 1\n}\n');
    installClientEntry('claude-desktop', file, 'gh', launch);
    const installed = readFileSync(file, 'utf8');
    rmSync(`${file}.bak`); // no backup yet: this edit makes one
    const r = uninstallClientEntry('claude-desktop', file, 'gh');
    expect(r.action).toBe('removed');
    expect(r.backupFile).toBe(`${file}.bak`);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(installed);
    expect(readFileSync(file, 'utf8')).toBe(
      '{\n  "mcpServers": {\n    "fs": {"command": "npx"}\n  },\n  "other": 1\n}\n',
    );
    expect(hasClientEntry('claude-desktop', file, 'gh')).toBe(false);
  });

  it("never overwrites an existing backup: the user's entry replaced by install survives uninstall", () => {
    const file = join(dir, 'mcp.json');
    const original = JSON.stringify({
      mcpServers: { gh: { command: 'npx', args: ['mcp-remote', 'https://x'] } },
    });
    writeFileSync(file, original);
    expect(installClientEntry('cursor', file, 'gh', launch).backupFile).toBe(`${file}.bak`);
    const r = uninstallClientEntry('cursor', file, 'gh');
    expect(r.action).toBe('removed');
    expect(r.backupFile).toBeUndefined(); // nothing written over the backup, so none reported
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(original);
  });

  it('leaves an empty servers object when ours was the only entry', () => {
    const file = join(dir, 'mcp.json');
    installClientEntry('cursor', file, 'gh', launch);
    uninstallClientEntry('cursor', file, 'gh');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ mcpServers: {} });
  });

  it('never removes an entry of that name that starts something else', () => {
    const file = join(dir, 'mcp.json');
    const text = JSON.stringify({ mcpServers: { gh: { command: 'npx', args: ['-y', 'github-mcp'] } } });
    writeFileSync(file, text);
    const err = refused(() => uninstallClientEntry('cursor', file, 'gh'));
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('is "absent" for a missing file or entry, and writes nothing', () => {
    const file = join(dir, 'none.json');
    expect(uninstallClientEntry('cursor', file, 'gh').action).toBe('absent');
    expect(existsSync(file)).toBe(false);
    writeFileSync(file, '{"mcpServers": {"x": {}}}');
    expect(uninstallClientEntry('cursor', file, 'gh').action).toBe('absent');
    expect(existsSync(`${file}.bak`)).toBe(false);
  });
});
