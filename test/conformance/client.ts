/**
 * The client command the MCP conformance suite runs for each client scenario
 * (`conformance client --command "node client.ts" --scenario S`): it is called with the scenario's
 * server URL as its last argument, the scenario's name in MCP_CONFORMANCE_SCENARIO and, for some
 * scenarios, credentials in MCP_CONFORMANCE_CONTEXT (JSON).
 *
 * It uses MCP Tether as a new user would: a private MCP_TETHER_HOME, `mcp-tether add` (with
 * `--auth oauth` and the options the context calls for, secrets on stdin), `mcp-tether login` for
 * `auth/*` scenarios that sign in with a browser, and then an MCP SDK client that talks to the
 * server ONLY through `mcp-tether shim`: it initializes, lists the tools and calls each of them
 * with arguments made from its input schema, answering elicitations by accepting the defaults.
 * Nothing here knows a scenario's checks; new scenarios of a later suite version run the same way.
 *
 * With `--browse <url>` it is instead the "browser" of the sign-in (MCP_TETHER_BROWSER): it follows
 * the authorization server's redirects until the engine's loopback redirect answers.
 *
 * Run by Node 22 (type stripping), self-contained: it imports nothing of the repository.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const BIN = fileURLToPath(new URL('../../bin/mcp-tether.js', import.meta.url));
/** The Node that runs MCP Tether: the project's (suite.ts passes it), not this script's Node 22. */
const TETHER_NODE = process.env['CONFORMANCE_TETHER_NODE'] ?? process.execPath;
const SELF = fileURLToPath(import.meta.url);
/** The endpoint's name: the keychain is shared by the scenarios of a run, so one of its own. */
const NAME = `conformance-${process.pid}`;
/** The Client ID Metadata Document URL the suite's authorization servers expect (auth/basic-cimd). */
const SUITE_CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

/** Follows redirects from `url` as a browser would, until a page answers (at most 20 hops). */
async function browse(url: string): Promise<void> {
  let next = url;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(next, { redirect: 'manual' });
    await res.body?.cancel();
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return;
    next = new URL(location, next).href;
  }
  throw new Error(`more than 20 redirects from ${url}`);
}

/** Runs `mcp-tether <args>` with `input` on stdin; rejects unless it exits 0. */
function cli(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(TETHER_NODE, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const started = Date.now();
    child.on('exit', (code) => {
      process.stderr.write(`$ mcp-tether ${args.join(' ')} → ${code} (${Date.now() - started} ms)\n${out}`);
      if (code === 0) resolve(out);
      else reject(new Error(`mcp-tether ${args.join(' ')} exited ${code}: ${out}`));
    });
    child.stdin.end(input);
  });
}

type Context = Record<string, string | undefined>;

/**
 * The `add` options and the secrets (for stdin) a scenario's context calls for, and whether the
 * endpoint signs in with a browser (`mcp-tether login`) or gets its tokens by itself.
 */
function oauthOptions(
  scenario: string,
  ctx: Context,
  home: string,
): { args: string[]; stdin: string[]; login: boolean } {
  const args = ['--auth', 'oauth'];
  const stdin: string[] = [];
  if (ctx['client_id']) args.push('--client-id', ctx['client_id']);
  if (ctx['idp_id_token']) {
    // Enterprise-managed authorization: an ID token from the enterprise IdP, exchanged there for an
    // ID-JAG, which the authorization server takes as a JWT bearer grant.
    args.push('--grant', 'jwt-bearer', '--idp-token-endpoint', ctx['idp_token_endpoint'] ?? '');
    if (ctx['idp_client_id']) args.push('--idp-client-id', ctx['idp_client_id']);
    args.push('--id-token-stdin');
    stdin.push(ctx['idp_id_token']);
  } else if (ctx['private_key_pem']) {
    const keyFile = join(home, 'client-key.pem');
    writeFileSync(keyFile, ctx['private_key_pem'], { mode: 0o600 });
    args.push('--grant', 'client-credentials', '--private-key-file', keyFile);
  } else if (/client-credentials/.test(scenario)) {
    args.push('--grant', 'client-credentials');
  }
  if (ctx['client_secret']) {
    args.push('--client-secret-stdin');
    stdin.unshift(ctx['client_secret']);
  }
  return { args, stdin, login: !args.includes('--grant') };
}

/** Arguments for a tool, made from its input schema (a value of each property's type). */
function argumentsFor(schema: { properties?: Record<string, { type?: string }> }): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    switch (prop.type) {
      case 'number':
      case 'integer':
        args[key] = 2;
        break;
      case 'boolean':
        args[key] = true;
        break;
      case 'array':
        args[key] = [];
        break;
      case 'object':
        args[key] = {};
        break;
      default:
        args[key] = 'test';
    }
  }
  return args;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--browse') return browse(process.argv[3] ?? '');
  const url = process.argv.at(-1) ?? '';
  const scenario = process.env['MCP_CONFORMANCE_SCENARIO'] ?? '';
  const ctx = JSON.parse(process.env['MCP_CONFORMANCE_CONTEXT'] ?? '{}') as Context;
  const home = mkdtempSync(join(tmpdir(), 'mtc-'));
  const browser = join(home, 'browser');
  writeFileSync(browser, `#!/bin/sh\nexec '${process.execPath}' '${SELF}' --browse "$1"\n`);
  chmodSync(browser, 0o700);
  // The default Client ID Metadata Document URL, as a user would set it for their own deployment.
  writeFileSync(
    join(home, 'endpoints.json'),
    JSON.stringify({ version: 1, settings: { oauth: { clientMetadataUrl: SUITE_CLIENT_METADATA_URL } } }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, MCP_TETHER_HOME: home, MCP_TETHER_BROWSER: browser };
  delete env['MCP_CONFORMANCE_CONTEXT'];
  try {
    if (scenario.startsWith('auth/')) {
      const o = oauthOptions(scenario, ctx, home);
      await cli(env, ['add', NAME, url, ...o.args], o.stdin.join('\n'));
      // A refused sign-in is for the scenario to judge (auth/resource-mismatch wants one).
      if (o.login) await cli(env, ['login', NAME, '--timeout', '20000']).catch(() => undefined);
    } else {
      await cli(env, ['add', NAME, url]);
    }
    const transport = new StdioClientTransport({
      command: TETHER_NODE,
      args: [BIN, 'shim', NAME],
      env: env as Record<string, string>,
      stderr: 'inherit',
    });
    const client = new Client(
      { name: 'mcp-tether-conformance', version: '1.0.0' },
      { capabilities: { elicitation: { form: { applyDefaults: true } } } },
    );
    client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: {} }));
    await client.connect(transport);
    const { tools } = await client.listTools();
    for (const tool of tools) {
      const r = await client.callTool({ name: tool.name, arguments: argumentsFor(tool.inputSchema) });
      process.stderr.write(`tools/call ${tool.name}: ${JSON.stringify(r).slice(0, 300)}\n`);
    }
    await client.close();
  } finally {
    await cli(env, ['secret', 'delete', NAME, '--all']).catch(() => undefined);
    await cli(env, ['shutdown']).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
