/**
 * `mcp-tether doctor` with no endpoint, end to end: the built CLI and engine in fresh homes, with a
 * real private keychain (gnome-keyring on its own D-Bus) or none, MCP client configs in a private
 * HOME (one holding an `mcp-remote` entry with a secret header, one Tether entry, one not JSON),
 * and endpoints whose servers answer or do not.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemFinding, SystemReport } from '../../main/common/system-doctor.js';
import { startKeyring, type Keyring } from '../helpers/keyring.js';
import { freePort, startEverything, type Everything } from '../helpers/processes.js';
import { cli, cliOk, useTempHomes } from '../helpers/tether.js';

let keyring: Keyring;
let everything: Everything;
const TOKEN = 'doctor-test-token-7f3a9c';

beforeAll(async () => {
  [keyring, everything] = await Promise.all([startKeyring(), startEverything('streamableHttp')]);
});
const { home: tempHome } = useTempHomes();
afterAll(async () => {
  await Promise.all([keyring?.close(), everything?.kill()]);
});

/**
 * A fresh home whose user's HOME (and XDG_CONFIG_HOME) is inside it, so the client configs read are
 * the test's; with or without the test keychain.
 */
function home(withKeychain: boolean): { env: NodeJS.ProcessEnv; user: string } {
  const h = tempHome();
  const user = join(h.dir, 'user');
  mkdirSync(user);
  let env: NodeJS.ProcessEnv = { ...h.env, HOME: user, XDG_CONFIG_HOME: join(user, '.config') };
  delete env['CLAUDE_CONFIG_DIR'];
  if (withKeychain) env = keyring.env(env);
  else {
    delete env['DBUS_SESSION_BUS_ADDRESS'];
    delete env['DISPLAY'];
    delete env['WAYLAND_DISPLAY'];
  }
  return { env, user };
}

async function doctorJson(env: NodeJS.ProcessEnv): Promise<{ code: number; report: SystemReport }> {
  const r = await cli(env, ['doctor', '--json'], undefined, 60_000);
  return { code: r.code, report: JSON.parse(r.stdout) as SystemReport };
}

function finding(report: SystemReport, subject: string): SystemFinding {
  const f = report.findings.find((x) => x.subject === subject);
  if (!f) throw new Error(`no finding about ${subject} in ${JSON.stringify(report.findings, null, 2)}`);
  return f;
}

describe('mcp-tether doctor (the whole setup)', () => {
  it('with a keychain: runtimes, engine, private directories, keychain backend, clients and endpoints', async () => {
    const { env, user } = home(true);
    const closed = await freePort();
    await cliOk(env, ['add', 'everything', everything.url]);
    await cliOk(env, ['add', 'gone', `http://127.0.0.1:${closed}/mcp`, '--auth', 'bearer']);
    const set = await cli(env, ['secret', 'set', 'gone'], TOKEN);
    expect(set.code, set.stderr).toBe(0);
    // Cursor: one server through Tether, one through mcp-remote with a token in a header.
    mkdirSync(join(user, '.cursor'));
    writeFileSync(
      join(user, '.cursor', 'mcp.json'),
      JSON.stringify({
        mcpServers: {
          everything: {
            command: '/usr/bin/node',
            args: ['/opt/mcp-tether/bin/mcp-tether.js', 'shim', 'everything'],
          },
          'Linear App': {
            command: 'npx',
            args: [
              '-y',
              'mcp-remote@0.15.1',
              'https://mcp.linear.app/sse',
              '--header',
              `Authorization: Bearer ${TOKEN}`,
            ],
          },
          files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'] },
        },
      }),
    );
    // Claude Desktop's config is not JSON.
    mkdirSync(join(user, '.config', 'Claude'), { recursive: true });
    writeFileSync(join(user, '.config', 'Claude', 'claude_desktop_config.json'), '{ "mcpServers": { ');

    const { code, report } = await doctorJson(env);
    expect(code).toBe(1); // the broken Claude Desktop config and the unreachable endpoint
    expect(report.ok).toBe(false);
    expect(finding(report, 'CLI runtime')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(`Node.js ${process.versions.node}`),
    });
    expect(finding(report, 'engine runtime').status).toBe('ok');
    expect(finding(report, 'engine')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^running for .* \(pid \d+/),
    });
    expect(finding(report, 'runtime directory')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('mode 0700'),
    });
    expect(finding(report, 'endpoints.json').detail).toContain('2 endpoints');
    expect(finding(report, 'OS keychain')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(
        `reachable: the Secret Service (libsecret) on the session D-Bus ${keyring.address}; 1 entry`,
      ),
    });
    expect(finding(report, 'Cursor')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(
        'through MCP Tether: everything; not through MCP Tether: Linear App (mcp-remote https://mcp.linear.app/sse), files (runs npx)',
      ),
    });
    expect(finding(report, 'Cursor: Linear App')).toMatchObject({
      status: 'info',
      command:
        'mcp-tether add Linear-App https://mcp.linear.app/sse --auth bearer && mcp-tether install Linear-App --client cursor',
      hint: expect.stringContaining(`printf '%s' "$TOKEN" | mcp-tether secret set Linear-App`),
    });
    expect(finding(report, 'Claude Desktop')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        "claude_desktop_config.json:1:19: Claude Desktop's config is not valid JSON",
      ),
    });
    expect(finding(report, 'Windsurf').status).toBe('info');
    expect(finding(report, 'everything')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('all layers OK'),
    });
    expect(finding(report, 'gone')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^tcp: /),
    });
    // The token is in the keychain and in a client's file: never in the doctor's output.
    expect(JSON.stringify(report)).not.toContain(TOKEN);

    // The same as text: grouped, a mark per finding, hints and commands under the ones not ok.
    const text = await cli(env, ['doctor'], undefined, 60_000);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^keychain\n {2}✓ OS keychain +reachable/m);
    expect(text.stdout).toContain(
      '      $ mcp-tether add Linear-App https://mcp.linear.app/sse --auth bearer && mcp-tether install Linear-App --client cursor',
    );
    expect(text.stdout).toMatch(/✗ gone +tcp: /);
    expect(text.stdout).toMatch(/FAILED: 2 problems/);
    expect(text.stdout + text.stderr).not.toContain(TOKEN);
  });

  it('without a keychain: says so, which backend it looked for, and fails only when an endpoint needs it', async () => {
    const { env } = home(false);
    const first = await doctorJson(env);
    expect(finding(first.report, 'engine')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('was not running; started it now'),
    });
    expect(finding(first.report, 'OS keychain')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /^not reachable \(the Secret Service \(libsecret\) on the session D-Bus, but DBUS_SESSION_BUS_ADDRESS is not set\).*no endpoint needs it yet$/,
      ),
      hint: expect.stringContaining('never in a file'),
    });
    expect(finding(first.report, 'endpoints')).toMatchObject({
      status: 'info',
      hint: expect.stringContaining('mcp-tether demo'),
    });
    expect(first.code).toBe(0);

    await cliOk(env, ['add', 'tools', everything.url, '--auth', 'header:X-API-Key']);
    const second = await doctorJson(env);
    expect(finding(second.report, 'OS keychain')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('needed by tools'),
    });
    expect(second.code).toBe(1);
  });
});
