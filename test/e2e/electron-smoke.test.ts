/**
 * The tray app under a real Electron (Playwright's `_electron`): it starts the engine with its own
 * binary as Node, its tray menu lists the endpoint and the app items, "Open Inspector…" opens a
 * hardened window on the app's own page whose bridge reaches the engine, navigation and window.open
 * are refused. Runs wherever an Electron binary is installed (and, on Linux, a display exists);
 * skipped with the reason in its name elsewhere — Electron's binary cannot be downloaded on the
 * project's CI machines (ELECTRON_SKIP_BINARY_DOWNLOAD).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MenuItemModel, TrayState } from '../../main/app/tray-model.js';
import { ROOT, startEverything, type Everything } from '../helpers/processes.js';
import { cliOk, enginePid, type Home, useTempHomes } from '../helpers/tether.js';

/** The Electron binary `require('electron')` names, if it was downloaded. */
function electronBinary(): string | undefined {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined; // "Electron failed to install correctly": no binary
  }
}

const ELECTRON = electronBinary();
const NO_DISPLAY = process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY'];
const skipReason = !ELECTRON
  ? 'no Electron binary installed (node_modules/electron has none: ELECTRON_SKIP_BINARY_DOWNLOAD, or no download possible)'
  : NO_DISPLAY
    ? 'no display (set DISPLAY, e.g. under xvfb-run)'
    : undefined;
if (skipReason) console.warn(`electron-smoke: SKIPPED: ${skipReason}`);

/** What main/app exposes to this test (MCP_TETHER_E2E=1) on globalThis. */
interface AppHooks {
  menu(): MenuItemModel[];
  state(): TrayState;
  click(id: string): Promise<void>;
  windows(): string[];
}
const hooks = () => (globalThis as unknown as { __mcpTether?: AppHooks }).__mcpTether;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 200 });

describe.skipIf(skipReason !== undefined)(
  skipReason ? `the tray app under Electron — SKIPPED: ${skipReason}` : 'the tray app under Electron',
  () => {
    let server: Everything;
    let home: Home;
    let app: ElectronApplication;
    const { home: tempHome, defer } = useTempHomes();

    beforeAll(async () => {
      server = await startEverything('streamableHttp');
      defer(() => server.kill());
      home = tempHome();
      await cliOk(home.env, ['add', 'api', server.url, '--transport', 'streamable-http']);
      // The app must start its own engine.
      await cliOk(home.env, ['shutdown']);
      const { _electron } = await import('playwright-core');
      app = await _electron.launch({
        executablePath: ELECTRON!,
        args: [ROOT],
        env: { ...(home.env as Record<string, string>), MCP_TETHER_E2E: '1' },
        timeout: 60_000,
      });
    }, 90_000);

    afterAll(async () => {
      await app?.close();
    });

    it('starts the engine with its own binary as Node', async () => {
      await poll(() =>
        app.evaluate(
          () => (globalThis as never as { __mcpTether?: { state(): TrayState } }).__mcpTether?.state().engine,
        ),
      ).toBe('running');
      const pid = enginePid(home.dir);
      expect(pid).toBeDefined();
      if (process.platform === 'linux') {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        expect(argv[0]).toBe(ELECTRON);
        expect(argv).toContain(join(ROOT, 'dist/main/cli/index.js'));
      }
    });

    it('draws the tray menu from the engine state', async () => {
      void hooks; // the evaluate callbacks run in Electron's main process, not here
      await poll(async () =>
        (
          await app.evaluate(() =>
            (globalThis as never as { __mcpTether: { menu(): MenuItemModel[] } }).__mcpTether.menu(),
          )
        ).map((i) => i.label),
      ).toEqual(
        expect.arrayContaining([
          expect.stringContaining('api — '),
          'Open Inspector…',
          'Add endpoint…',
          'Start at login',
          'Quit MCP Tether',
        ]),
      );
    });

    it('"Open Inspector…" opens a hardened window on the app page whose bridge reaches the engine', async () => {
      const windowPromise = app.waitForEvent('window');
      await app.evaluate(() =>
        (globalThis as never as { __mcpTether: { click(id: string): Promise<void> } }).__mcpTether.click(
          'open-inspector',
        ),
      );
      const page = await windowPromise;
      await page.waitForLoadState('domcontentloaded');
      expect(page.url()).toBe('mcp-tether://app/index.html#traffic');

      // No Node in the page (nodeIntegration off, sandboxed, isolated): no require, no process.
      expect(
        await page.evaluate(() => [
          typeof (globalThis as { require?: unknown }).require,
          typeof (globalThis as { process?: unknown }).process,
        ]),
      ).toEqual(['undefined', 'undefined']);

      if (existsSync(join(ROOT, 'dist/preload/preload.cjs'))) {
        const list = await page.evaluate(() =>
          (
            globalThis as never as {
              tether: { call(m: string, p: unknown): Promise<{ endpoints: { name: string }[] }> };
            }
          ).tether.call('endpoints/list', {}),
        );
        expect(list.endpoints.map((e) => e.name)).toEqual(['api']);
      }

      // window.open and navigation away from the app are refused (loopback only, never reached).
      type Win = { open(url: string): unknown; location: { href: string } };
      expect(
        await page.evaluate(() => (globalThis as unknown as Win).open('http://127.0.0.1:9/') === null),
      ).toBe(true);
      await page.evaluate(() => {
        (globalThis as unknown as Win).location.href = 'http://127.0.0.1:9/';
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(page.url().startsWith('mcp-tether://app/')).toBe(true);
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    });
  },
);
