/** The system doctor's probe over real files (main/engine/health/system-probe.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import { resolvePaths } from '../../main/common-node/paths.js';
import { probeSystem } from '../../main/engine/health/system-probe.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('probeSystem', () => {
  it('with an endpoints.json that does not parse, says the endpoints were not checked and calls no client entry orphaned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-probe-'));
    dirs.push(dir);
    const paths = resolvePaths({ MCP_TETHER_HOME: dir });
    writeFileSync(paths.configFile, '{ "version": 1, "endpoints" oops }', { mode: 0o600 });
    const claude = join(dir, 'user', '.config', 'Claude');
    mkdirSync(claude, { recursive: true });
    writeFileSync(
      join(claude, 'claude_desktop_config.json'),
      JSON.stringify({
        mcpServers: { every: { command: 'node', args: ['/opt/t/bin/mcp-tether.js', 'shim', 'every'] } },
      }),
    );
    const report = await probeSystem({
      paths,
      readConfig: () => {
        throw new TetherError(ErrorCode.CONFIG_INVALID, `${paths.configFile}:1:29: not valid JSON`);
      },
      keychainList: () => Promise.resolve([]),
      clientPaths: { platform: 'linux', env: {}, home: join(dir, 'user') },
      doctor: () => Promise.reject(new Error('no endpoint may be checked')),
    });
    expect(report.findings.find((f) => f.subject === 'endpoints.json')).toMatchObject({ status: 'fail' });
    expect(report.findings.find((f) => f.subject === 'Claude Desktop')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('through MCP Tether: every'),
    });
    expect(report.findings.find((f) => f.subject === 'Claude Desktop: every')).toBeUndefined();
    expect(report.findings.find((f) => f.area === 'endpoints')).toMatchObject({
      detail: 'not checked: endpoints.json could not be read (above)',
      hint: `Fix ${paths.configFile} by hand, then run mcp-tether doctor again.`,
    });
  });
});
