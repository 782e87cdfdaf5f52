/**
 * The welcome screen in Debian's Chromium (playwright-core), served by a REAL engine's browser
 * inspector in a fresh home: with no endpoints the window opens on it (whatever screen it was
 * opened on); "Try the demo" runs the real demo (a demo MCP server in the engine, a session through
 * a real `mcp-tether shim demo`) and shows its steps; the demo endpoint can then be set up in a
 * client, and its traffic is on the traffic screen. The tray's "Try the demo" view (`#try-demo`)
 * starts the demo by itself.
 *
 * The screenshot `welcome.png` is taken on every run; with MCP_TETHER_SCREENSHOTS=<dir> it is kept
 * there (the README's comes from `MCP_TETHER_SCREENSHOTS=docs/screenshots`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_VIEWS } from '../../main/common/ipc.js';
import { launchChromium, startInspectorEngine, type InspectorEngine } from '../helpers/inspector.js';
import { cliOk, type Home, useTempHomes } from '../helpers/tether.js';

const WAIT = 30_000;
const TEST_TIMEOUT = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: WAIT, interval: 100 });

let scratch: string;
let home: Home;
let engine: InspectorEngine;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let shotDir: string;
const pageErrors: string[] = [];
const { home: tempHome, defer } = useTempHomes({
  onFail: async () => console.error(`page errors: ${pageErrors.join('\n')}`),
});

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'ui-welcome-'));
  defer(() => rmSync(scratch, { recursive: true, force: true }));
  browser = await launchChromium();
  defer(() => browser.close());
  home = tempHome();
  // The engine's own HOME, with one MCP client config (Cursor's) on "this machine".
  const user = join(home.dir, 'u');
  mkdirSync(join(user, '.cursor'), { recursive: true });
  writeFileSync(join(user, '.cursor', 'mcp.json'), '{ "mcpServers": {} }\n');
  home.env['HOME'] = user;
  home.env['XDG_CONFIG_HOME'] = join(user, '.config');
  engine = await startInspectorEngine(home.env);
  shotDir = process.env['MCP_TETHER_SCREENSHOTS']
    ? resolve(process.env['MCP_TETHER_SCREENSHOTS'])
    : join(scratch, 'shots');
  mkdirSync(shotDir, { recursive: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 60_000);

const welcome = () => page.getByRole('region', { name: 'Welcome' });
const step = (name: string) => page.locator(`.demo-steps li[data-step="${name}"]`);

describe('the welcome screen against a real engine', { timeout: TEST_TIMEOUT }, () => {
  it('opens instead of an empty table, even on another screen, with the three ways in', async () => {
    // A window opened on the traffic screen (the tray's "Open Inspector…") with no endpoints.
    await page.goto(`${engine.base}#${APP_VIEWS.inspector}`);
    await welcome().waitFor({ timeout: WAIT });
    await poll(() => page.url()).toContain('#/endpoints');
    expect(await page.locator('table.grid').count()).toBe(0);
    await welcome().getByText('No endpoints yet.').waitFor();
    for (const heading of ['1. Try the demo', '2. Add an endpoint', '3. Set up a client'])
      await welcome().getByRole('heading', { name: heading }).waitFor();
    await poll(() => welcome().getByText('Found on this machine: Cursor.').count()).toBe(1);
    // Nothing to set up before there is an endpoint.
    expect(await welcome().getByRole('button', { name: 'Set up the demo in a client…' }).isDisabled()).toBe(
      true,
    );
    // "Add endpoint" opens the editor.
    await welcome().getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add endpoint' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await welcome().waitFor();
  });

  it('runs the real demo: every step shown, then client setup and the traffic of the session', async () => {
    await welcome().getByRole('button', { name: 'Try the demo' }).click();
    await step('prompts/get explain').waitFor({ timeout: WAIT });
    for (const name of [
      'demo server',
      'endpoint demo',
      'initialize',
      'tools/call greet',
      'browser inspector',
    ])
      expect(await step(name).getAttribute('class')).toBe('ok');
    await expect(step('tools/call add').locator('.detail').textContent()).resolves.toBe('2 + 3 = 5');
    await page.getByRole('status').filter({ hasText: 'Every step worked' }).waitFor();
    // The demo endpoint exists now, yet the screen stays up to show what happened.
    await welcome().waitFor();
    await page.screenshot({ path: join(shotDir, 'welcome.png') });

    await welcome().getByRole('button', { name: 'Set up the demo in a client…' }).click();
    const setup = page.getByRole('dialog');
    await setup.getByText('Cursor', { exact: true }).waitFor();
    await setup.getByRole('button', { name: 'Close' }).first().click();

    await page.getByRole('button', { name: 'See the traffic' }).click();
    await page.getByRole('region', { name: 'Traffic' }).waitFor();
    await poll(() =>
      page.locator('.tbody .trow').filter({ hasText: 'elicitation/create' }).count(),
    ).toBeGreaterThan(0);
    // Back on the endpoints screen: the demo endpoint in the table, no welcome.
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Endpoints' }).click();
    await page.locator('tr[data-endpoint="demo"]').waitFor();
    expect(await welcome().count()).toBe(0);
  });

  it('the tray’s "Try the demo" view starts the demo by itself', async () => {
    await cliOk(home.env, ['demo', '--remove']);
    const p = await context.newPage();
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(`${engine.base}#${APP_VIEWS.tryDemo}`);
    await p.locator('.demo-steps li[data-step="prompts/get explain"]').waitFor({ timeout: WAIT });
    await p.getByRole('status').filter({ hasText: 'Every step worked' }).waitFor();
    expect(p.url()).toContain('#/endpoints');
    // It ran once, not once per render.
    expect(await p.locator('.demo-steps li[data-step="initialize"]').count()).toBe(1);
    await p.close();
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
