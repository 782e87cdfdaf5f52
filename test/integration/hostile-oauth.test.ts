/**
 * Issue 10 §2 and §7 (OAuth): an authorization URL that is not https: (or loopback http:) is never
 * opened or printed, and a redirect with a wrong `state` does not end a sign-in.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileServer } from '../fixtures/hostile-server.js';
import { useKeyring } from '../helpers/keyring.js';
import { BIN, cli, cliOk, useTempHomes } from '../helpers/tether.js';

const keyring = useKeyring();

const { home: tempHome, defer } = useTempHomes();

/** A home using the test keychain, whose browser opener only records what it was given. */
function home(): { env: NodeJS.ProcessEnv; opened: string } {
  const h = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'opener-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const opener = join(dir, 'open.sh');
  const opened = join(dir, 'opened');
  writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" >> "${opened}"\n`, { mode: 0o755 });
  return { env: { ...keyring().env(h.env), MCP_TETHER_BROWSER: opener }, opened };
}

describe('authorization URL schemes', () => {
  for (const [what, endpoint, named] of [
    ['file:', 'file:///tmp/evil.desktop', '"file" scheme'],
    ['http: to another host', 'http://as.example.invalid/authorize', 'plain http:'],
  ] as const) {
    it(`a ${what} authorization_endpoint is refused before any opener, print or link`, async () => {
      const server = await startHostileServer({ oauth: { authorizationEndpoint: endpoint } });
      defer(() => server.close());
      const { env, opened } = home();
      await cliOk(env, ['add', 'evil', server.url, '--auth', 'oauth']);
      for (const args of [
        ['login', 'evil'],
        ['login', 'evil', '--no-browser'],
      ]) {
        const r = await cli(env, args);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(named);
        expect(r.stdout + r.stderr).not.toContain(endpoint);
      }
      expect(existsSync(opened)).toBe(false);
    });
  }
});

describe('the loopback redirect', () => {
  it('answers a wrong state with 400 and keeps waiting for the right one', async () => {
    const server = await startHostileServer({ oauth: {} });
    defer(() => server.close());
    const { env } = home();
    await cliOk(env, ['add', 'h', server.url, '--auth', 'oauth']);
    const child = spawn(process.execPath, [BIN, 'login', 'h', '--no-browser'], { env });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const url = await new Promise<URL>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /^(http\S+)$/m.exec(stdout);
        if (m) resolve(new URL(m[1]!));
      });
      child.once('exit', () => reject(new Error(`login ended early: ${stderr}`)));
    });
    const done = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
    try {
      const redirect = url.searchParams.get('redirect_uri')!;
      const state = url.searchParams.get('state')!;
      const forged = await fetch(`${redirect}?code=forged&state=not-${state}`);
      expect(forged.status).toBe(400);
      // Still waiting: the right state is handed over (here a refusal, so no token is needed).
      const refusal = await fetch(
        `${redirect}?error=access_denied&state=${encodeURIComponent(state)}&iss=${encodeURIComponent(server.origin)}`,
      );
      expect(refusal.status).toBe(400);
      expect(await refusal.text()).toContain('access_denied');
      expect(await done).toBe(1);
      expect(stderr).toContain('the authorization server refused: access_denied');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
