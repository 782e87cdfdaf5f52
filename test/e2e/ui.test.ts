/**
 * The React UI in Debian's Chromium (playwright-core), served by a REAL engine's browser inspector,
 * with real traffic: server-everything behind Streamable HTTP, once directly and once through a real
 * sshd, MCP calls made through real shims. A user adds endpoints in the UI (the engine's validation
 * errors appear next to their fields), trusts an SSH host key by its fingerprint, connects, watches
 * the calls arrive, filters, opens one, copies it, exports JSONL, pauses and resumes, and reads the
 * health screen. A second part loads 100,000 synthetic records and checks the list keeps only a
 * window of rows in the DOM.
 *
 * Screenshots of the main screens are taken on every run; with MCP_TETHER_SCREENSHOTS=<dir> they are
 * kept there (the README's come from `MCP_TETHER_SCREENSHOTS=docs/screenshots`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VIEWS } from '../../main/common/ipc.js';
import { launchChromium, startInspectorEngine, type InspectorEngine } from '../helpers/inspector.js';
import { ROOT, freePort, startEverything, type Everything } from '../helpers/processes.js';
import { makeKey, startSshd, type KeyPair, type Sshd } from '../helpers/sshd.js';
import { cliOk, shimClient, type Home, useTempHomes } from '../helpers/tether.js';

const WAIT = 30_000;
/** Per test: a browser, a real engine and real servers on two busy cores. */
const TEST_TIMEOUT = 120_000;

/** Polls until the assertion holds, for up to {@link WAIT} ms (the machine is small and busy). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: WAIT, interval: 100 });

let everything: Everything;
let sshd: Sshd;
let key: KeyPair;
let scratch: string;
let home: Home;
let engine: InspectorEngine;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let shotDir: string;
/** The engine's HOME: client config files (Cursor's ~/.cursor/mcp.json) go under it. */
let user: string;
const pageErrors: string[] = [];
const clients: Client[] = [];
const { home: tempHome, defer } = useTempHomes({
  onFail: async () => console.error(`page errors: ${pageErrors.join('\n')}`),
});

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'ui-e2e-'));
  defer(() => rmSync(scratch, { recursive: true, force: true }));
  key = makeKey(scratch, 'client');
  [everything, sshd, browser] = await Promise.all([
    startEverything('streamableHttp'),
    startSshd({ authorizedKeys: [key.publicKey] }),
    launchChromium(),
  ]);
  defer(() => Promise.all([everything.kill(), sshd.stop()]));
  defer(() => browser.close());
  home = tempHome();
  // The engine's own HOME: an empty ~/.ssh, so the SSH host key starts out unknown.
  user = join(home.dir, 'u');
  mkdirSync(join(user, '.ssh'), { recursive: true, mode: 0o700 });
  home.env['HOME'] = user;
  delete home.env['SSH_AUTH_SOCK'];
  engine = await startInspectorEngine(home.env);
  shotDir = process.env['MCP_TETHER_SCREENSHOTS']
    ? resolve(process.env['MCP_TETHER_SCREENSHOTS'])
    : join(scratch, 'shots');
  mkdirSync(shotDir, { recursive: true });
  context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    colorScheme: 'light',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: `http://127.0.0.1:${engine.port}`,
  });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
});

/** The table row of an endpoint on the endpoints screen. */
const endpointRow = (name: string) => page.locator(`tr[data-endpoint="${name}"]`);
/** The form field (label, control, help or error) whose label is exactly `label`. */
const field = (dialog: Locator, label: string) =>
  dialog.locator('.field').filter({ has: page.getByLabel(label, { exact: true }) });
/** The rows the traffic list has in the DOM now. */
const rows = () => page.locator('.tbody .trow');

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shotDir, `${name}.png`) });
}

async function openScreen(name: 'Endpoints' | 'Traffic' | 'Health'): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name }).click();
  await poll(() => page.url()).toContain(`#/${name.toLowerCase()}`);
}

async function echo(client: Client, message: string): Promise<void> {
  const r = await client.callTool({ name: 'echo', arguments: { message } });
  expect(r.content).toEqual([{ type: 'text', text: `Echo: ${message}` }]);
}

describe('the UI against a real engine, with real traffic', { timeout: TEST_TIMEOUT }, () => {
  it('adds an endpoint in the editor; the engine’s validation errors show next to their fields', async () => {
    await page.goto(engine.url);
    // The token moved into the path, so the page's own URLs carry it.
    expect(page.url()).toBe(engine.base);
    await poll(() => page.getByTestId('link').textContent()).toMatch(/^engine /);
    await page.getByText('No endpoints yet.').waitFor();

    await page.getByRole('button', { name: 'Add endpoint' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add endpoint' });
    await dialog.getByLabel('Name', { exact: true }).fill('ev');
    await dialog.getByLabel('URL', { exact: true }).fill('ftp://127.0.0.1/mcp');
    await dialog.getByRole('button', { name: 'Add header' }).click();
    await dialog.getByLabel('Header 1 name').fill('Authorization');
    await dialog.getByLabel('Header 1 value').fill('Bearer not-here');
    await dialog.getByLabel('Connect timeout (ms)', { exact: true }).fill('50');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();

    // Every issue the engine found, each under its own field, at once.
    await expect
      .poll(() => field(dialog, 'URL').locator('.field-error').textContent())
      .toContain('unsupported scheme "ftp:"');
    expect(await dialog.locator('.header-row .field-error').textContent()).toMatch(
      /"Authorization" looks like a credential; secrets are kept in the OS keychain/,
    );
    expect(await field(dialog, 'Connect timeout (ms)').locator('.field-error').textContent()).toMatch(/100/);
    expect(await field(dialog, 'Name').locator('.field-error').count()).toBe(0);
    await shot('editor');

    await dialog.getByLabel('URL', { exact: true }).fill(everything.url);
    await dialog.getByLabel('Header 1 name').fill('X-Api-Version');
    await dialog.getByLabel('Header 1 value').fill('v1');
    await dialog.getByLabel('Connect timeout (ms)', { exact: true }).fill('10000');
    await dialog.getByLabel('Ping interval (ms)', { exact: true }).fill('1000');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    await dialog.waitFor({ state: 'detached', timeout: WAIT });

    await endpointRow('ev').waitFor();
    expect(await endpointRow('ev').locator('[data-state]').getAttribute('data-state')).toBe('idle');
    expect(await endpointRow('ev').textContent()).toContain(everything.url);

    // A second add under the same name: the engine's ENDPOINT_EXISTS lands on the name.
    await page.getByRole('button', { name: 'Add endpoint' }).first().click();
    const again = page.getByRole('dialog', { name: 'Add endpoint' });
    await again.getByLabel('Name', { exact: true }).fill('ev');
    await again.getByLabel('URL', { exact: true }).fill(everything.url);
    await again.getByRole('button', { name: 'Add endpoint' }).click();
    await expect
      .poll(() => field(again, 'Name').locator('.field-error').textContent())
      .toContain('exists already');
    await again.getByRole('button', { name: 'Cancel' }).click();
  });

  it('adds an SSH endpoint, shows the host key fingerprint, and trusts it', async () => {
    await page.getByRole('button', { name: 'Add endpoint' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add endpoint' });
    await dialog.getByLabel('Name', { exact: true }).fill('tunnel');
    await dialog.getByLabel('URL', { exact: true }).fill(everything.url);
    await dialog.getByLabel('Reach it over SSH').check();
    await dialog.getByLabel('SSH destination', { exact: true }).fill(`root@127.0.0.1:${sshd.port}`);
    await dialog.getByLabel('Identity file', { exact: true }).fill(key.privateKey);
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();

    // Adding an SSH endpoint leads straight to its host keys.
    const trust = page.getByRole('dialog', { name: 'SSH host keys of tunnel' });
    await trust.getByTestId('fingerprint').waitFor({ timeout: WAIT });
    expect(await trust.getByTestId('fingerprint').textContent()).toBe(sshd.hostKey.fingerprint);
    expect(await trust.locator('tbody tr').textContent()).toContain('unknown');
    await shot('trust');
    await trust.getByRole('button', { name: 'Trust this key' }).click();
    await trust.getByText('All host keys on the way are trusted.').waitFor({ timeout: WAIT });
    expect(await trust.locator('tbody tr').textContent()).toContain('trusted');
    // Recorded in the app's own known_hosts, as `hosts trust` does.
    const [type, blob] = readFileSync(sshd.hostKey.publicKey, 'utf8').trim().split(/\s+/);
    expect(readFileSync(join(home.dir, 'state', 'known_hosts'), 'utf8')).toBe(
      `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`,
    );
    await trust.getByRole('button', { name: 'Done' }).click();
    await endpointRow('tunnel').waitFor();
  });

  it('connects both from the list and sees them turn ready', async () => {
    for (const name of ['ev', 'tunnel']) {
      await endpointRow(name).getByRole('button', { name: 'Connect' }).click();
      await endpointRow(name).locator('[data-state="ready"]').waitFor({ timeout: WAIT });
      await endpointRow(name).getByRole('button', { name: 'Disconnect' }).waitFor();
    }
    expect(await endpointRow('ev').textContent()).toContain('streamable-http');
    await poll(() => page.getByTestId('link').textContent()).toContain('2/2 ready');
    await shot('endpoints');
  });

  it('sets an endpoint up in an MCP client: install, copy the snippet, remove', async () => {
    await endpointRow('ev').getByRole('button', { name: 'Set up…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set up ev in an MCP client' });
    const cursor = dialog.locator('tr[data-client="cursor"]');
    const file = join(user, '.cursor', 'mcp.json');
    await poll(() => cursor.textContent()).toContain(file);
    expect(await cursor.getByTestId('client-status').textContent()).toBe('no file yet');
    await cursor.getByRole('button', { name: 'Install' }).click();
    await poll(() => cursor.getByTestId('client-status').textContent()).toBe('installed');
    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    expect(written.mcpServers['ev']!.args.slice(-2)).toEqual(['shim', 'ev']);
    expect(await dialog.getByRole('status').textContent()).toContain('created the file with the entry');
    await shot('clients');

    await cursor.getByRole('button', { name: 'Copy config' }).click();
    await poll(() => dialog.getByRole('status').textContent()).toContain('Copied the Cursor entry');
    const snippet = JSON.parse((await page.evaluate('navigator.clipboard.readText()')) as string) as {
      mcpServers: Record<string, unknown>;
    };
    expect(snippet.mcpServers['ev']).toEqual(written.mcpServers['ev']);

    await cursor.getByRole('button', { name: 'Remove' }).click();
    await poll(() => cursor.getByTestId('client-status').textContent()).toBe('not installed');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ mcpServers: {} });
    await dialog.getByRole('button', { name: 'Done' }).click();
  });

  it('shows calls made through real shims in the traffic inspector, and filters them', async () => {
    const { client } = await shimClient(home.env, 'ev');
    clients.push(client);
    for (let i = 1; i <= 3; i++) await echo(client, `hello from the UI test ${i}`);
    const { client: viaSsh } = await shimClient(home.env, 'tunnel');
    clients.push(viaSsh);
    await echo(viaSsh, 'through the tunnel');

    await openScreen('Traffic');
    const method = page.getByLabel('Method', { exact: true });
    await method.fill('tools/call');
    // 4 calls: 4 requests and 4 responses, from two endpoints.
    await poll(() => rows().count()).toBe(8);
    expect(await page.getByTestId('traffic-count').textContent()).toMatch(/^8 of [\d,]+ messages$/);
    for (const text of await rows().locator('.method').allTextContents())
      expect(text).toContain('tools/call');
    expect(
      (
        await page
          .locator('.tbody .trow[data-kind]')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))
      ).sort(),
    ).toEqual(['request', 'request', 'request', 'request', 'response', 'response', 'response', 'response']);

    await page.getByLabel('Endpoint', { exact: true }).selectOption('tunnel');
    await poll(() => rows().count()).toBe(2);
    for (const text of await rows().allTextContents()) expect(text).toContain('tunnel');
    await page.getByLabel('Endpoint', { exact: true }).selectOption('');

    await page.getByLabel('Direction', { exact: true }).selectOption('client-to-server');
    await poll(() => rows().count()).toBe(4);
    expect(await page.locator('.tbody .trow[data-kind="request"]').count()).toBe(4);
    await page.getByLabel('Direction', { exact: true }).selectOption('');

    await page.getByLabel('Search text').fill('hello from the UI test 2');
    await poll(() => rows().count()).toBe(2);
  });

  it('opens a call: the request and its response side by side, with the latency; copies the JSON', async () => {
    await page.locator('.tbody .trow[data-kind="request"]').click();
    const detail = page.getByRole('complementary', { name: 'Message detail' });
    const request = detail.getByRole('region', { name: 'Request' });
    const response = detail.getByRole('region', { name: 'Response' });
    await request.locator('pre').waitFor();
    expect(await request.locator('pre').textContent()).toContain('"message": "hello from the UI test 2"');
    expect(await response.locator('pre').textContent()).toContain('"text": "Echo: hello from the UI test 2"');
    expect(await detail.getByTestId('latency').textContent()).toMatch(/^\d+(\.\d)? m?s$/);
    expect(await detail.locator('h2').textContent()).toBe('tools/call');

    await request.getByRole('button', { name: 'Copy JSON' }).click();
    await request.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = JSON.parse((await page.evaluate('navigator.clipboard.readText()')) as string) as {
      method: string;
      params: { arguments: { message: string } };
    };
    expect(copied).toMatchObject({
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'hello from the UI test 2' } },
    });

    // Jump to the answer: it becomes the selected row.
    await response.getByRole('button', { name: /^#\d+$/ }).click();
    await expect
      .poll(() => page.locator('.tbody .trow[aria-selected="true"]').getAttribute('data-kind'))
      .toBe('response');
    await page.getByLabel('Search text').fill('');
  });

  it('exports what the filter shows as JSONL', async () => {
    await poll(() => rows().count()).toBe(8);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSONL' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^mcp-tether-traffic-.*\.jsonl$/);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { seq: number; method: string; kind: string; endpoint: string; message: unknown },
      );
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((l) => l.method))).toEqual(new Set(['tools/call']));
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));
    expect(new Set(lines.map((l) => l.endpoint))).toEqual(new Set(['ev', 'tunnel']));
    expect(JSON.stringify(lines)).toContain('Echo: through the tunnel');
  });

  it('pauses (new calls wait) and resumes (they appear)', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await echo(clients[0]!, 'while paused');
    await page.getByRole('button', { name: /^Resume \(\d+ new\)$/ }).waitFor({ timeout: WAIT });
    expect(await rows().count()).toBe(8);
    await page.getByRole('button', { name: /^Resume/ }).click();
    await poll(() => rows().count()).toBe(10);
    await page.getByLabel('Search text').fill('while paused');
    await poll(() => rows().count()).toBe(2);
    await page.getByRole('button', { name: 'Reset' }).click();
    await poll(() => page.getByTestId('traffic-count').textContent()).toMatch(/^[\d,]+ messages$/);
    await page.locator('.tbody .trow[data-kind="request"]').filter({ hasText: 'tools/call' }).last().click();
    await page.getByRole('region', { name: 'Response' }).locator('pre').waitFor();
    await shot('traffic');
  });

  it('shows health: state, ping RTT history, last error, reconnects', async () => {
    await openScreen('Health');
    const card = page.getByRole('article', { name: 'ev', exact: true });
    await card.locator('[data-state="ready"]').waitFor({ timeout: WAIT });
    // One ping a second: a history builds up.
    await poll(async () =>
      Number(/(\d+) pings$/.exec((await card.locator('.rtt-range').textContent()) ?? '')?.[1] ?? 0),
    ).toBeGreaterThanOrEqual(6);
    expect(await card.getByTestId('rtt').textContent()).toMatch(/^\d+(\.\d)? m?s$/);
    expect(await card.getByRole('img', { name: /Ping RTT of ev/ }).count()).toBe(1);
    expect(await card.getByTestId('reconnects').textContent()).toBe('0');
    expect(await card.textContent()).toContain('Last error none');
    expect(await card.textContent()).toContain('streamable-http · MCP 2025-11-25');
    // server-everything is initialize-based: the era probe found it legacy.
    expect(await card.getByTestId('era').textContent()).toBe('legacy');
    await page
      .getByRole('article', { name: 'tunnel', exact: true })
      .locator('[data-state="ready"]')
      .waitFor();
    expect(await page.getByRole('article', { name: 'Engine', exact: true }).textContent()).toMatch(
      /Traffic ring[\d,]+ \//,
    );
    await shot('health');

    // The server goes away: the state, the last error and the reconnects follow, live.
    await everything.kill();
    await card.locator('[data-state="down"], [data-state="degraded"]').waitFor({ timeout: WAIT });
    await card.getByTestId('last-error').waitFor({ timeout: WAIT });
    expect(await card.getByTestId('last-error').textContent()).toMatch(/UPSTREAM_|unreachable|ECONNREFUSED/i);
    await everything.restart();
    await card.locator('[data-state="ready"]').waitFor({ timeout: WAIT });
    // The shim's session comes back on its next request: a reconnect.
    await echo(clients[0]!, 'after the restart');
    await expect
      .poll(async () => Number(await card.getByTestId('reconnects').textContent()))
      .toBeGreaterThan(0);
  });

  it('asks before an edited endpoint’s stored credentials go to the new server its URL names', async () => {
    await cliOk(home.env, ['add', 'keyed', everything.url, '--auth', 'bearer']);
    await page.reload();
    await openScreen('Endpoints');
    // Its credentials were stored for server-everything (no keychain here: the binding alone).
    const bindings = join(home.dir, 'state', 'credential-bindings.json');
    const from = new URL(everything.url).origin;
    const bound = { origin: from, boundAt: new Date().toISOString() };
    writeFileSync(bindings, JSON.stringify({ version: 1, endpoints: { keyed: bound } }));
    await endpointRow('keyed').getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit keyed' });
    const to = 'http://127.0.0.1:9';
    await dialog.getByLabel('URL', { exact: true }).fill(`${to}/mcp`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog
      .getByRole('alert')
      .filter({ hasText: `keyed now points at ${to}` })
      .waitFor();
    // Nothing moved yet; the user's yes rebinds them.
    expect(JSON.parse(readFileSync(bindings, 'utf8')).endpoints.keyed.origin).toBe(from);
    await dialog.getByRole('button', { name: `Send them to ${to}` }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(JSON.parse(readFileSync(bindings, 'utf8')).endpoints.keyed.origin).toBe(to);
  });

  it('adds a command endpoint from the example commands file, and edits it', async () => {
    await openScreen('Endpoints');
    await page.getByRole('button', { name: 'Add endpoint' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add endpoint' });
    await dialog.getByLabel('Name', { exact: true }).fill('ops');
    await dialog.getByLabel('Transport', { exact: true }).selectOption('commands');
    expect(await dialog.getByLabel('URL', { exact: true }).count()).toBe(0);
    const examples = join(ROOT, 'examples', 'commands.yaml');
    await dialog.getByLabel('Commands file', { exact: true }).fill(examples);
    await dialog.getByLabel('SSH destination', { exact: true }).fill(`root@127.0.0.1:${sshd.port}`);
    await dialog.getByLabel('Identity file', { exact: true }).fill(key.privateKey);
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    // An SSH endpoint leads to its host keys: this one was trusted by an earlier test.
    const trust = page.getByRole('dialog', { name: 'SSH host keys of ops' });
    await trust.getByText('All host keys on the way are trusted.').waitFor({ timeout: WAIT });
    await trust.getByRole('button', { name: 'Done' }).click();
    await endpointRow('ops').waitFor();
    expect(await endpointRow('ops').textContent()).toContain(`commands of ${examples}`);

    await endpointRow('ops').getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit ops' });
    expect(await edit.getByLabel('Commands file', { exact: true }).inputValue()).toBe(examples);
    await edit.getByLabel(/through the remote login shell/).check();
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached', timeout: WAIT });
    const saved = JSON.parse(readFileSync(join(home.dir, 'endpoints.json'), 'utf8')) as {
      endpoints: Record<string, unknown>;
    };
    expect(saved.endpoints['ops']).toMatchObject({
      transport: 'commands',
      commandsFile: examples,
      loginShell: true,
    });
  });

  it('sets the metrics address on the Health screen; the engine serves Prometheus metrics there', async () => {
    await openScreen('Health');
    const card = page.getByRole('article', { name: 'Observability', exact: true });
    const address = card.getByLabel('Prometheus metrics address', { exact: true });
    await address.fill('0.0.0.0:9');
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByText(/not a loopback address/).waitFor({ timeout: WAIT });
    const port = await freePort();
    await address.fill(`127.0.0.1:${port}`);
    await card.getByRole('button', { name: 'Save' }).click();
    await poll(() => card.getByTestId('metrics-url').textContent()).toBe(
      `Serving http://127.0.0.1:${port}/metrics`,
    );
    const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(
      /^mcp_remote_requests_total\{endpoint="ev",method="tools\/call"\} \d+$/m,
    );
    const saved = JSON.parse(readFileSync(join(home.dir, 'endpoints.json'), 'utf8')) as {
      settings: { metrics: unknown };
    };
    expect(saved.settings.metrics).toEqual({ listen: `127.0.0.1:${port}`, allowNonLoopback: false });
    await shot('observability');
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('the views the tray app opens windows on', { timeout: TEST_TIMEOUT }, () => {
  it('#traffic opens the inspector, #add-endpoint the editor (APP_VIEWS)', async () => {
    const p = await context.newPage();
    await p.goto(`${engine.base}#${APP_VIEWS.inspector}`);
    await p.getByRole('region', { name: 'Traffic' }).waitFor();
    // A window already open, pointed at "Add endpoint" (a hash change)…
    await p.goto(`${engine.base}#${APP_VIEWS.addEndpoint}`);
    const dialog = p.getByRole('dialog', { name: 'Add endpoint' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await p.getByRole('region', { name: 'Endpoints' }).waitFor();
    await p.close();
    // …and a window opened on it.
    const fresh = await context.newPage();
    await fresh.goto(`${engine.base}#${APP_VIEWS.addEndpoint}`);
    await fresh.getByRole('dialog', { name: 'Add endpoint' }).waitFor();
    expect(
      await fresh.getByLabel('Name', { exact: true }).evaluate((el) => el === el.ownerDocument.activeElement),
    ).toBe(true);
    await fresh.close();
  });
});

describe('the traffic list with 100,000 records', { timeout: TEST_TIMEOUT }, () => {
  /** The renderer built in Vite's `demo` mode (it alone takes `?demo=<count>`), served on loopback. */
  let demoBase: string;
  beforeAll(async () => {
    const outDir = join(scratch, 'renderer-demo');
    const config = join(ROOT, 'renderer/vite.config.ts');
    await build({ configFile: config, mode: 'demo', logLevel: 'error', build: { outDir } });
    const server = await preview({
      configFile: config,
      mode: 'demo',
      logLevel: 'error',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
    defer(() => server.close());
    demoBase = server.resolvedUrls!.local[0]!;
  });

  it('keeps only a window of rows in the DOM, wherever it is scrolled, and filters them', async () => {
    const demo = await context.newPage();
    const errors: string[] = [];
    demo.on('pageerror', (e) => errors.push(e.message));
    await demo.goto(`${demoBase}?demo=100000#/traffic`);
    const count = demo.getByTestId('traffic-count');
    await poll(() => count.textContent()).toBe('100,000 messages');
    const list = demo.getByRole('grid', { name: 'Messages' });
    expect(await list.getAttribute('aria-rowcount')).toBe('100000');
    const domRows = demo.locator('.tbody .trow');
    const seqs = async () =>
      (await domRows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))))).sort(
        (a, b) => a - b,
      );

    // It opens following the newest records.
    await poll(async () => (await seqs()).at(-1)).toBe(100_000);
    expect(await domRows.count()).toBeLessThan(100);
    expect(await domRows.count()).toBeGreaterThan(10);

    for (const [where, expected] of [
      [0, 1],
      [0.5, 50_000],
    ] as const) {
      await list.evaluate((el, f) => (el.scrollTop = f * (el.scrollHeight - el.clientHeight)), where);
      await poll(async () => (await seqs())[0]! <= expected && (await seqs()).at(-1)! >= expected).toBe(true);
      expect(await domRows.count()).toBeLessThan(100);
    }

    await demo.getByLabel('Method', { exact: true }).fill('ping');
    await poll(() => count.textContent()).toMatch(/^[\d,]+ of 100,000 messages$/);
    const shown = Number((await count.textContent())!.split(' of ')[0]!.replace(/,/g, ''));
    expect(shown).toBeGreaterThan(1000);
    expect(shown).toBeLessThan(100_000);
    expect(await domRows.count()).toBeLessThan(100);
    for (const m of await domRows.locator('.method').allTextContents()) expect(m).toContain('ping');

    // A request of the synthetic set opens with its answer.
    await demo.locator('.tbody .trow[data-kind="request"]').first().click();
    const detail = demo.getByRole('complementary', { name: 'Message detail' });
    expect(await detail.getByRole('region', { name: 'Response' }).locator('pre').count()).toBe(1);
    expect(errors).toEqual([]);
    await demo.close();
  });
});
