/**
 * The tray as a pure function of the engine's state (main/app/tray-model.ts): the aggregate state
 * and its icon (template images on macOS, all present in resources/), the tooltip, and the menu —
 * endpoints with state and Connect/Disconnect, client setup and "Copy client config", "Open
 * Inspector…", "Add endpoint…", "Start at login" reflecting the real state, "Quit", and the
 * engine's own state when it is not running.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EndpointStatus, HealthState } from '../../main/common/domain.js';
import {
  aggregateState,
  findMenuItem,
  rttRange,
  newlyNeedingSignIn,
  trayIconFile,
  trayMenuModel,
  trayTooltip,
  type MenuItemModel,
  type TrayState,
} from '../../main/app/tray-model.js';

function status(name: string, state: HealthState, extra: Partial<EndpointStatus> = {}): EndpointStatus {
  return {
    name,
    state,
    since: '2026-01-01T00:00:00.000Z',
    timeInStateMs: 0,
    rttHistory: [],
    reconnects: 0,
    sessions: 0,
    pinned: false,
    ...extra,
  };
}

const base: TrayState = { engine: 'running', endpoints: [], loginItem: { supported: true, enabled: false } };
const labels = (items: MenuItemModel[]) => items.filter((i) => i.type !== 'separator').map((i) => i.label);

describe('aggregate state', () => {
  it.each<[HealthState[], string]>([
    [[], 'idle'],
    [['idle', 'idle'], 'idle'],
    [['ready', 'idle'], 'ready'],
    [['ready', 'ready'], 'ready'],
    [['ready', 'degraded'], 'degraded'],
    [['ready', 'connecting'], 'degraded'],
    [['ready', 'degraded', 'down'], 'down'],
    [['ready', 'auth-required'], 'down'],
    [['host-untrusted'], 'down'],
  ])('%j → %s', (states, expected) => {
    expect(aggregateState({ engine: 'running', endpoints: states.map((s, i) => status(`e${i}`, s)) })).toBe(
      expected,
    );
  });

  it('is down while the engine is not running, idle while it starts', () => {
    const endpoints = [status('a', 'ready')];
    expect(aggregateState({ engine: 'restarting', endpoints })).toBe('down');
    expect(aggregateState({ engine: 'stopped', endpoints })).toBe('down');
    expect(aggregateState({ engine: 'starting', endpoints: [] })).toBe('idle');
  });

  it('has an icon (and its @2x) per state: coloured, and template images for macOS', () => {
    for (const state of ['ready', 'degraded', 'down', 'idle'] as const) {
      const mac = trayIconFile(state, 'darwin');
      expect(mac).toMatch(/Template\.png$/);
      expect(trayIconFile(state, 'linux')).toBe(`${state}.png`);
      expect(trayIconFile(state, 'win32')).toBe(`${state}.png`);
      for (const f of [mac, `${state}.png`]) {
        for (const file of [f, f.replace('.png', '@2x.png')]) {
          const url = new URL(`../../resources/tray/${file}`, import.meta.url);
          expect(existsSync(url), file).toBe(true);
          expect(readFileSync(url).subarray(1, 4).toString()).toBe('PNG');
        }
      }
    }
  });
});

describe('menu', () => {
  it('lists each endpoint with its state, then the app items', () => {
    const menu = trayMenuModel({
      ...base,
      endpoints: [
        status('github', 'ready', { rttMs: 12.4, sessions: 2 }),
        status('db', 'down', { pinned: true }),
      ],
    });
    expect(labels(menu)).toEqual([
      '● github — ready · < 50 ms · 2 sessions',
      '✕ db — down',
      'Open Inspector…',
      'Add endpoint…',
      'Start at login',
      'Quit the app only (clients keep working)',
      'Quit and stop the engine',
    ]);
    expect(findMenuItem(menu, 'quit')?.action).toEqual({ type: 'quit' });
    expect(findMenuItem(menu, 'quit-and-stop-engine')?.action).toEqual({ type: 'quit-and-stop-engine' });
    expect(findMenuItem(menu, 'open-inspector')?.action).toEqual({ type: 'open-inspector' });
    expect(findMenuItem(menu, 'add-endpoint')).toMatchObject({
      enabled: true,
      action: { type: 'add-endpoint' },
    });
  });

  it('offers Connect unless kept connected, Disconnect unless disconnected', () => {
    const menu = trayMenuModel({
      ...base,
      endpoints: [status('a', 'idle'), status('b', 'ready', { pinned: true }), status('c', 'disconnected')],
    });
    expect(findMenuItem(menu, 'endpoint:a:connect')?.action).toEqual({ type: 'connect', endpoint: 'a' });
    expect(findMenuItem(menu, 'endpoint:a:disconnect')?.action).toEqual({
      type: 'disconnect',
      endpoint: 'a',
    });
    expect(findMenuItem(menu, 'endpoint:b:disconnect')?.action).toEqual({
      type: 'disconnect',
      endpoint: 'b',
    });
    expect(findMenuItem(menu, 'endpoint:b:connect')).toBeUndefined();
    expect(findMenuItem(menu, 'endpoint:c:connect')?.action).toEqual({ type: 'connect', endpoint: 'c' });
    expect(findMenuItem(menu, 'endpoint:c:disconnect')).toBeUndefined();
    expect(findMenuItem(menu, 'endpoint:c')?.label).toBe('⊘ c — disconnected');
  });

  it('offers "Sign in to <name>" for an OAuth endpoint that needs a sign-in, and tells which are new', () => {
    const needs = status('linear', 'auth-required', { signInNeeded: true });
    const menu = trayMenuModel({ ...base, endpoints: [needs, status('db', 'auth-required')] });
    expect(findMenuItem(menu, 'endpoint:linear:sign-in')).toMatchObject({
      label: 'Sign in to linear',
      action: { type: 'sign-in', endpoint: 'linear' },
    });
    expect(findMenuItem(menu, 'endpoint:db:sign-in')).toBeUndefined();
    expect(newlyNeedingSignIn([], [needs])).toEqual(['linear']);
    expect(newlyNeedingSignIn([needs], [needs])).toEqual([]);
    expect(newlyNeedingSignIn([needs], [status('linear', 'ready')])).toEqual([]);
  });

  it('per endpoint: state, last error, client setup and "Copy client config" for each client', () => {
    const menu = trayMenuModel({
      ...base,
      endpoints: [
        status('db', 'down', {
          lastError: { code: 'UPSTREAM_UNREACHABLE', message: 'connect ECONNREFUSED 127.0.0.1:9', at: '' },
        }),
      ],
    });
    const sub = findMenuItem(menu, 'endpoint:db')!.submenu!;
    expect(sub[0]).toMatchObject({ label: 'State: down', enabled: false });
    expect(sub[1]).toMatchObject({
      label: 'UPSTREAM_UNREACHABLE: connect ECONNREFUSED 127.0.0.1:9',
      enabled: false,
    });
    const copy = findMenuItem(menu, 'endpoint:db:copy')!.submenu!;
    expect(copy.map((i) => i.action)).toEqual(
      ['claude-desktop', 'cursor', 'vscode', 'claude-code', 'windsurf'].map((client) => ({
        type: 'copy-client-config',
        endpoint: 'db',
        client,
      })),
    );
    expect(findMenuItem(menu, 'endpoint:db:install:claude-desktop')).toMatchObject({
      label: 'Claude Desktop',
      action: { type: 'install-client', endpoint: 'db', client: 'claude-desktop' },
    });
  });

  it('"Start at login" shows the real state and toggles it', () => {
    const off = findMenuItem(trayMenuModel(base), 'login-item')!;
    expect(off).toMatchObject({
      type: 'checkbox',
      checked: false,
      enabled: true,
      action: { type: 'toggle-login-item', enabled: true },
    });
    const on = findMenuItem(
      trayMenuModel({ ...base, loginItem: { supported: true, enabled: true } }),
      'login-item',
    )!;
    expect(on).toMatchObject({ checked: true, action: { type: 'toggle-login-item', enabled: false } });
    const unsupported = findMenuItem(
      trayMenuModel({ ...base, loginItem: { supported: false, enabled: false } }),
      'login-item',
    )!;
    expect(unsupported.enabled).toBe(false);
  });

  it('says so when there are no endpoints, and offers the demo then only', () => {
    expect(findMenuItem(trayMenuModel(base), 'endpoints:none')).toMatchObject({
      label: 'No endpoints yet',
      enabled: false,
    });
    expect(findMenuItem(trayMenuModel(base), 'try-demo')).toMatchObject({
      label: 'Try the demo',
      action: { type: 'try-demo' },
    });
    expect(
      findMenuItem(trayMenuModel({ ...base, endpoints: [status('a', 'idle')] }), 'try-demo'),
    ).toBeUndefined();
    expect(findMenuItem(trayMenuModel({ ...base, engine: 'restarting' }), 'try-demo')).toBeUndefined();
  });

  it('shows the engine state when it is not running, with Restart once given up', () => {
    const restarting = trayMenuModel({
      ...base,
      engine: 'restarting',
      engineError: 'the connection to the engine closed',
    });
    expect(labels(restarting).slice(0, 2)).toEqual([
      'The engine stopped; restarting it…',
      'the connection to the engine closed',
    ]);
    expect(findMenuItem(restarting, 'engine:restart')).toBeUndefined();
    expect(findMenuItem(restarting, 'add-endpoint')?.enabled).toBe(false);
    const stopped = trayMenuModel({ ...base, engine: 'stopped', endpoints: [status('a', 'ready')] });
    expect(findMenuItem(stopped, 'engine:restart')?.action).toEqual({ type: 'restart-engine' });
    // Stale endpoint states are not shown while the engine is away.
    expect(findMenuItem(stopped, 'endpoint:a')).toBeUndefined();
    expect(findMenuItem(stopped, 'quit')).toBeDefined();
  });

  it('escapes & in names (menu accelerator marker)', () => {
    const menu = trayMenuModel({ ...base, endpoints: [status('r&d', 'idle')] });
    expect(findMenuItem(menu, 'endpoint:r&d')?.label).toBe('○ r&&d — idle');
  });

  it('tooltip counts endpoints by state', () => {
    expect(
      trayTooltip({ ...base, endpoints: [status('a', 'ready'), status('b', 'ready'), status('c', 'down')] }),
    ).toBe('MCP Tether: 2 ready, 1 down');
    expect(trayTooltip(base)).toBe('MCP Tether: no endpoints');
    expect(trayTooltip({ ...base, engine: 'stopped' })).toBe('MCP Tether: the engine is stopped');
  });
});

describe('rttRange', () => {
  it('puts round trip times in ranges, so the menu is not rebuilt on every ping', () => {
    expect([12.4, 49.9, 50, 199, 200, 999, 1000, 30_000].map(rttRange)).toEqual([
      '< 50 ms',
      '< 50 ms',
      '< 200 ms',
      '< 200 ms',
      '< 1 s',
      '< 1 s',
      '≥ 1 s',
      '≥ 1 s',
    ]);
    const menu = (rttMs: number) =>
      JSON.stringify(trayMenuModel({ ...base, endpoints: [status('github', 'ready', { rttMs })] }));
    expect(menu(12)).toBe(menu(31));
    expect(menu(12)).not.toBe(menu(120));
  });
});
