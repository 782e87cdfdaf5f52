/** The system doctor's findings from given facts (main/engine/health/system-doctor.ts). */
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../main/common/domain.js';
import { EndpointConfigSchema, type EndpointConfig } from '../../main/common/schemas.js';
import {
  classifyClientEntry,
  clientFindings,
  endpointNameFor,
  endpointVerdict,
  keychainFinding,
  pathFinding,
  runtimeFinding,
  versionAtLeast,
  type PathFacts,
} from '../../main/engine/health/system-doctor.js';

const endpoint = (url: string): EndpointConfig => EndpointConfigSchema.parse({ url, transport: 'auto' });
const runtime = { role: 'CLI', execPath: '/usr/bin/node', platform: 'linux' as const, arch: 'x64' };

describe('runtime', () => {
  it('compares versions numerically', () => {
    expect(versionAtLeast('v20.19.0', '20.19.0')).toBe(true);
    expect(versionAtLeast('20.20.2', '20.19.0')).toBe(true);
    expect(versionAtLeast('22.1.0', '20.19.0')).toBe(true);
    expect(versionAtLeast('20.9.0', '20.19.0')).toBe(false);
    expect(versionAtLeast('18.20.4', '20.19.0')).toBe(false);
  });

  it('fails a Node.js older than 20.19 and names Electron when it is the runtime', () => {
    expect(runtimeFinding({ ...runtime, node: '18.20.4' })).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('20.19.0 or later'),
    });
    expect(runtimeFinding({ ...runtime, node: '22.20.0', electron: '39.8.10' })).toMatchObject({
      status: 'ok',
      detail: 'Electron 39.8.10 (Node.js 22.20.0) run as Node on linux-x64 (/usr/bin/node)',
    });
  });
});

describe('directories', () => {
  const dir = (over: Partial<PathFacts>): PathFacts => ({
    label: 'runtime directory',
    path: '/run/user/1000/mcp-tether',
    kind: 'dir',
    exists: true,
    mode: 0o700,
    ownedByUser: true,
    expect: 'private',
    ...over,
  });

  it('wants private directories 0700: the runtime directory fails, others warn, with the chmod', () => {
    expect(pathFinding(dir({}), 'linux')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('mode 0700'),
    });
    expect(pathFinding(dir({ mode: 0o755 }), 'linux')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('mode 0755: other users can look inside'),
      command: "chmod 700 '/run/user/1000/mcp-tether'",
    });
    expect(pathFinding(dir({ label: 'state directory', mode: 0o750 }), 'linux').status).toBe('warn');
  });

  it('warns when others can write the config, fails on another owner, skips modes on Windows', () => {
    const config = dir({
      label: 'endpoints.json',
      kind: 'file',
      expect: 'user',
      mode: 0o666,
      content: { endpoints: 2 },
    });
    expect(pathFinding(config, 'linux')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('2 endpoints has mode 0666: other users can change it'),
      command: "chmod go-w '/run/user/1000/mcp-tether'",
    });
    expect(pathFinding({ ...config, mode: 0o644 }, 'linux').status).toBe('ok');
    expect(pathFinding(dir({ ownedByUser: false }), 'linux').status).toBe('fail');
    expect(pathFinding(dir({ mode: 0o777 }), 'win32').status).toBe('ok');
  });

  it('reports a missing file as not written yet, and a config that does not parse as a failure', () => {
    expect(pathFinding(dir({ kind: 'file', exists: false }), 'linux')).toMatchObject({
      status: 'info',
      hint: expect.stringContaining('mcp-tether demo'),
    });
    expect(
      pathFinding(dir({ kind: 'file', content: { error: 'endpoints.json:3:1: not valid JSON' } }), 'linux'),
    ).toMatchObject({
      status: 'fail',
      detail: 'endpoints.json:3:1: not valid JSON',
      hint: expect.any(String),
    });
  });
});

describe('keychain', () => {
  it('names the backend, and fails only when an endpoint needs it', () => {
    expect(
      keychainFinding({ platform: 'darwin', result: { ok: true, entries: 3 }, endpointsWithAuth: [] }),
    ).toMatchObject({
      status: 'ok',
      detail: 'reachable: the macOS Keychain; 3 entries of service mcp-tether',
    });
    const down = { ok: false as const, message: 'no Secret Service', hint: 'start one' };
    expect(keychainFinding({ platform: 'linux', result: down, endpointsWithAuth: [] })).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('DBUS_SESSION_BUS_ADDRESS is not set'),
      hint: 'start one',
    });
    expect(
      keychainFinding({ platform: 'win32', result: down, endpointsWithAuth: ['gh', 'linear'] }),
    ).toMatchObject({ status: 'fail', detail: expect.stringContaining('Windows Credential Manager') });
  });
});

describe('client entries', () => {
  it('tells Tether, mcp-remote, direct URLs and other commands apart', () => {
    expect(
      classifyClientEntry({
        command: '/usr/bin/node',
        args: ['/x/mcp-tether/bin/mcp-tether.js', 'shim', 'gh'],
      }),
    ).toEqual({ kind: 'tether', endpoint: 'gh' });
    expect(
      classifyClientEntry({ command: 'npx', args: ['-y', 'mcp-remote', 'https://a.example/mcp'] }),
    ).toEqual({
      kind: 'mcp-remote',
      url: 'https://a.example/mcp',
      secretHeaders: [],
    });
    expect(
      classifyClientEntry({
        command: 'pnpm',
        args: [
          'dlx',
          'mcp-remote@0.15.1',
          'https://a.example/sse',
          '9090',
          '--header',
          'X-Api-Key:${KEY}',
          '--header',
          'X-Trace: 1',
        ],
      }),
    ).toEqual({ kind: 'mcp-remote', url: 'https://a.example/sse', secretHeaders: ['X-Api-Key'] });
    expect(
      classifyClientEntry({ command: '/usr/local/bin/mcp-remote', args: ['http://10.0.0.5/mcp'] }),
    ).toMatchObject({
      kind: 'mcp-remote',
      url: 'http://10.0.0.5/mcp',
    });
    expect(classifyClientEntry({ serverUrl: 'https://w.example/mcp' })).toEqual({
      kind: 'url',
      url: 'https://w.example/mcp',
    });
    expect(classifyClientEntry({ type: 'http', url: 'https://v.example/mcp' })).toEqual({
      kind: 'url',
      url: 'https://v.example/mcp',
    });
    expect(classifyClientEntry({ command: 'uvx', args: ['mcp-server-git'] })).toEqual({
      kind: 'command',
      command: 'uvx',
    });
    expect(classifyClientEntry('nonsense')).toEqual({ kind: 'unknown' });
  });

  it('makes endpoint names from entry names', () => {
    expect(endpointNameFor('Linear App')).toBe('Linear-App');
    expect(endpointNameFor('@acme/tools')).toBe('acme-tools');
    expect(endpointNameFor('ok.name_1')).toBe('ok.name_1');
    expect(endpointNameFor('***')).toBe('remote');
  });

  it('gives the commands that move an mcp-remote entry, reusing an endpoint with the same URL', () => {
    const servers = {
      linear: {
        command: 'npx',
        args: ['mcp-remote', 'https://mcp.linear.app/sse', '--header', 'Authorization: Bearer x'],
      },
      gh: { command: 'npx', args: ['mcp-remote', 'https://gh.example/mcp'] },
      fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem'] },
      old: { command: 'node', args: ['/opt/mcp-tether/bin/mcp-tether.js', 'shim', 'old'] },
    };
    const findings = clientFindings(
      { client: 'claude-desktop', configFile: '/c.json', exists: true, servers },
      { github: endpoint('https://gh.example/mcp'), linear: endpoint('https://other.example/mcp') },
    );
    expect(findings[0]).toMatchObject({
      subject: 'Claude Desktop',
      status: 'ok',
      detail:
        '/c.json: through MCP Tether: old; not through MCP Tether: linear (mcp-remote https://mcp.linear.app/sse), gh (mcp-remote https://gh.example/mcp), fs (runs npx)',
    });
    const by = (s: string) => findings.find((f) => f.subject === `Claude Desktop: ${s}`);
    expect(by('linear')).toMatchObject({
      status: 'info',
      command:
        'mcp-tether add linear-2 https://mcp.linear.app/sse --auth bearer && mcp-tether install linear-2 --client claude-desktop',
    });
    expect(by('gh')).toMatchObject({ command: 'mcp-tether install github --client claude-desktop' });
    expect(by('old')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('there is no endpoint old'),
    });
    expect(by('fs')).toBeUndefined();
  });

  it('reports a missing or unreadable config', () => {
    expect(clientFindings({ client: 'cursor', configFile: '/m.json', exists: false }, {})).toEqual([
      expect.objectContaining({ status: 'info', detail: 'no config at /m.json' }),
    ]);
    expect(
      clientFindings({ client: 'vscode', configFile: '/m.json', exists: true, error: 'bad' }, {}),
    ).toEqual([expect.objectContaining({ status: 'fail', detail: 'bad' })]);
  });
});

describe('endpoint verdicts', () => {
  it('is one line: all layers OK with the ping, or the first failing layer with its hint', () => {
    const ok: DoctorReport = {
      endpoint: 'gh',
      url: 'https://gh.example/mcp',
      ok: true,
      steps: [
        { layer: 'initialize', ok: true, detail: 'protocol 2025-11-25', ms: 20 },
        { layer: 'ping', ok: true, detail: 'answered in 12 ms', ms: 12 },
        { layer: 'transport', ok: true, detail: 'session closed', ms: 1 },
      ],
    };
    expect(endpointVerdict(ok)).toMatchObject({
      status: 'ok',
      detail: 'all layers OK (ping: answered in 12 ms)',
    });
    const bad: DoctorReport = {
      ...ok,
      ok: false,
      steps: [
        { layer: 'dns', ok: true, detail: '1.2.3.4', ms: 1 },
        { layer: 'tcp', ok: false, detail: 'connection refused', hint: 'Is the server running?', ms: 1 },
      ],
    };
    expect(endpointVerdict(bad)).toEqual({
      area: 'endpoints',
      subject: 'gh',
      status: 'fail',
      detail: 'tcp: connection refused',
      hint: 'Is the server running? (details: mcp-tether doctor gh)',
    });
  });

  it('calls a demo endpoint whose demo server is not running no problem, and says how to run it', () => {
    const steps: DoctorReport['steps'] = [
      { layer: 'tcp', ok: false, detail: 'connection refused by 127.0.0.1:7870', ms: 1 },
    ];
    const demo: DoctorReport = { endpoint: 'demo', url: 'http://127.0.0.1:7870/mcp', ok: false, steps };
    expect(endpointVerdict(demo)).toMatchObject({
      subject: 'demo',
      status: 'info',
      detail: expect.stringContaining('the demo server is not running'),
      command: 'mcp-tether demo --keep',
    });
    // Any other server of an endpoint named demo, or another failure, is a problem as before.
    expect(endpointVerdict({ ...demo, url: 'http://10.0.0.5:7870/mcp' })).toMatchObject({ status: 'fail' });
    const initialize: DoctorReport['steps'] = [
      { layer: 'initialize', ok: false, detail: 'timed out', ms: 1 },
    ];
    expect(endpointVerdict({ ...demo, steps: initialize })).toMatchObject({ status: 'fail' });
  });
});
