/**
 * Sign-in from inside the chat (issue 9), against a real authorization server (oidc-provider on
 * loopback) protecting a real MCP server, tokens in a real keychain (gnome-keyring on a private
 * D-Bus), the browser step done in Chromium: a client that declared URL-mode elicitation is asked
 * once per endpoint, however many sessions need the sign-in, and their requests go on; a client
 * without it gets AUTH_REQUIRED and the status says a sign-in is needed.
 */
import { spawn } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, vi } from 'vitest';
import { POLL } from '../helpers/processes.js';
import { startAuthMcpServer } from '../fixtures/auth-mcp-server.js';
import { protect, signInWithBrowser, startAuthServer } from '../fixtures/auth-server.js';
import { settle } from '../helpers/faults-procs.js';
import { useKeyring } from '../helpers/keyring.js';
import { BIN, cliOk, shimClient, useTempHomes } from '../helpers/tether.js';

const SCOPE = 'mcp:tools';
const keyring = useKeyring();
const { home: tempHome, defer } = useTempHomes();

/** `mcp-tether login <endpoint> --no-browser`, with the browser step done in Chromium. */
async function loginFromCli(env: NodeJS.ProcessEnv, endpoint: string): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'login', endpoint, '--no-browser'], { env });
  let out = '';
  const url = new Promise<string>((resolve) =>
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(http\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    }),
  );
  const code = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await signInWithBrowser(await url);
  expect(await code).toBe(0);
}

/** An OAuth-protected MCP server, its authorization server, and a home with the keyring. */
async function oauthEndpointSetup() {
  const mcp = await startAuthMcpServer(() => ({ ok: false }));
  defer(() => mcp.close());
  const as = await startAuthServer({ resource: mcp.mcpUrl, scope: SCOPE });
  defer(() => as.close());
  protect(mcp, as, SCOPE);
  return { mcp, as, env: keyring().env(tempHome().env) };
}

describe('sign-in from inside the chat', () => {
  it('asks one URL-mode client once for two sessions and retries their requests; others get AUTH_REQUIRED', async () => {
    const { mcp, as, env } = await oauthEndpointSetup();
    await cliOk(env, ['add', 'linear', mcp.mcpUrl, '--auth', 'oauth']);
    await loginFromCli(env, 'linear');

    const asked: string[] = [];
    const browsing: Promise<string>[] = [];
    let completed = 0;
    const urlClient = async (): Promise<Client> => {
      const { client } = await shimClient(
        env,
        'linear',
        { capabilities: { elicitation: { url: {} } } },
        (c) => {
          c.setRequestHandler(ElicitRequestSchema, (req) => {
            if (req.params.mode !== 'url') throw new Error('expected a URL-mode elicitation');
            asked.push(req.params.url);
            browsing.push(signInWithBrowser(req.params.url)); // the user follows the link
            return { action: 'accept' };
          });
          c.setNotificationHandler(ElicitationCompleteNotificationSchema, () => {
            completed++;
          });
        },
      );
      defer(() => client.close());
      return client;
    };
    const a = await urlClient();
    const b = await urlClient();
    const { client: plain } = await shimClient(env, 'linear');
    defer(() => plain.close());
    await Promise.all([a.listTools(), b.listTools(), plain.listTools()]);

    // The sign-in is gone (tokens, refresh token and grant revoked at the authorization server).
    as.revokeAll('AccessToken', 'RefreshToken', 'Grant');
    const refused = await settle(plain.callTool({ name: 'echo', arguments: { text: 'plain' } }));
    if (refused.ok) throw new Error('a request went through without a sign-in');
    expect(refused.error).toBeInstanceOf(McpError);
    expect(((refused.error as McpError).data as { code?: string }).code).toBe('AUTH_REQUIRED');
    const status = JSON.parse(await cliOk(env, ['status', 'linear', '--json'])) as {
      endpoints: { state: string; signInNeeded?: boolean }[];
    };
    expect(status.endpoints[0]).toMatchObject({ state: 'auth-required', signInNeeded: true });

    const [ra, rb] = await Promise.all([
      a.callTool({ name: 'echo', arguments: { text: 'from a' } }, undefined, { timeout: 120_000 }),
      b.callTool({ name: 'echo', arguments: { text: 'from b' } }, undefined, { timeout: 120_000 }),
    ]);
    expect(ra.content).toEqual([{ type: 'text', text: 'from a' }]);
    expect(rb.content).toEqual([{ type: 'text', text: 'from b' }]);
    expect(asked).toHaveLength(1);
    expect(new URL(asked[0]!).origin).toBe(new URL(as.issuer).origin);
    expect(await browsing[0]).toContain('signed in to linear');
    await vi.waitFor(() => expect(completed, 'notifications/elicitation/complete').toBe(1), POLL);
    expect(as.grants('authorization_code')).toHaveLength(2); // the CLI's sign-in, then the chat's
    // The client that cannot open a URL works again too, with the new tokens.
    await expect(plain.callTool({ name: 'echo', arguments: { text: 'plain again' } })).resolves.toMatchObject(
      {
        content: [{ text: 'plain again' }],
      },
    );

    // A client started while the sign-in is gone: initialize from the last known state, then asked.
    as.revokeAll('AccessToken', 'RefreshToken', 'Grant');
    const late = await urlClient();
    expect(late.getServerVersion()?.name).toBeDefined();
    const r = await late.callTool({ name: 'echo', arguments: { text: 'late' } }, undefined, {
      timeout: 120_000,
    });
    expect(r.content).toEqual([{ type: 'text', text: 'late' }]);
    expect(asked).toHaveLength(2);
    expect(await browsing[1]).toContain('signed in to linear');
    const traffic = await cliOk(env, ['traffic', '--json', '--endpoint', 'linear', '--limit', '5000']);
    expect(traffic).toMatch(/initialize answered from the last known state .*a sign-in is needed first/);
  });

  it('signs in a never-reached endpoint from the chat: a provisional initialize, then the first request asks', async () => {
    const { mcp, env } = await oauthEndpointSetup();
    await cliOk(env, ['add', 'fresh', mcp.mcpUrl, '--auth', 'oauth']);
    const asked: string[] = [];
    const browsing: Promise<string>[] = [];
    const { client } = await shimClient(env, 'fresh', { capabilities: { elicitation: { url: {} } } }, (c) =>
      c.setRequestHandler(ElicitRequestSchema, (req) => {
        if (req.params.mode !== 'url') throw new Error('expected a URL-mode elicitation');
        asked.push(req.params.url);
        browsing.push(signInWithBrowser(req.params.url));
        return { action: 'accept' };
      }),
    );
    defer(() => client.close());
    expect(client.getInstructions()).toContain('needs a sign-in first');
    const tools = await client.listTools(undefined, { timeout: 120_000 });
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(asked).toHaveLength(1);
    expect(await browsing[0]).toContain('signed in to fresh');
    const r = await client.callTool({ name: 'echo', arguments: { text: 'first' } });
    expect(r.content).toEqual([{ type: 'text', text: 'first' }]);
  });
});
