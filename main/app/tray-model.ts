/**
 * What the tray shows, as pure functions of the engine's state: the aggregate state (and so the
 * icon), the tooltip, and the menu model that main/app renders with `Menu.buildFromTemplate`.
 * No Electron here, so all of it is unit-tested.
 */
import { MCP_CLIENTS, MCP_CLIENT_FORMATS, type McpClient } from '../common/clients.js';
import type { EndpointStatus, HealthState } from '../common/domain.js';

/** The engine as the app supervises it (see engine-supervisor.ts). */
export type EngineState = 'starting' | 'running' | 'restarting' | 'stopped';

/** Everything the tray depends on. */
export interface TrayState {
  engine: EngineState;
  /** Why the engine is not running, when known. */
  engineError?: string;
  /** Every endpoint's status, in the config's order. */
  endpoints: EndpointStatus[];
  /** "Start at login": whether this OS supports it here, and whether it is on now. */
  loginItem: { supported: boolean; enabled: boolean };
}

/** The tray icon's state: all ready, some degraded, some down, or idle (nothing in use). */
export type AggregateState = 'ready' | 'degraded' | 'down' | 'idle';

/** States in which an endpoint cannot serve requests. */
const DOWN_STATES: ReadonlySet<HealthState> = new Set(['down', 'auth-required', 'host-untrusted']);

/**
 * The aggregate state: `down` when the engine is not running or any endpoint cannot serve;
 * otherwise `degraded` when any is degraded or still connecting; otherwise `ready` when any is
 * ready; otherwise (no endpoints, or all idle) `idle`.
 */
export function aggregateState(state: Pick<TrayState, 'engine' | 'endpoints'>): AggregateState {
  if (state.engine === 'restarting' || state.engine === 'stopped') return 'down';
  if (state.engine === 'starting') return 'idle';
  const states = state.endpoints.map((e) => e.state);
  if (states.some((s) => DOWN_STATES.has(s))) return 'down';
  if (states.some((s) => s === 'degraded' || s === 'connecting')) return 'degraded';
  if (states.some((s) => s === 'ready')) return 'ready';
  return 'idle';
}

/**
 * The icon file for a state, relative to `resources/tray/`: a template image (black with alpha,
 * which macOS tints for light and dark menu bars) on macOS, a coloured one elsewhere. Electron
 * picks the `@2x` sibling on high-DPI screens by itself.
 */
export function trayIconFile(state: AggregateState, platform: NodeJS.Platform): string {
  return platform === 'darwin' ? `${state}Template.png` : `${state}.png`;
}

/** The tooltip: the app's name and the endpoints counted by state. */
export function trayTooltip(state: TrayState): string {
  if (state.engine === 'starting') return 'MCP Tether: starting the engine…';
  if (state.engine === 'restarting') return 'MCP Tether: the engine stopped; restarting it…';
  if (state.engine === 'stopped') return 'MCP Tether: the engine is stopped';
  if (state.endpoints.length === 0) return 'MCP Tether: no endpoints';
  const counts = new Map<string, number>();
  for (const e of state.endpoints) counts.set(e.state, (counts.get(e.state) ?? 0) + 1);
  return `MCP Tether: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`;
}

/** What a menu item does when clicked; main/app carries it out. */
export type MenuAction =
  | { type: 'connect'; endpoint: string }
  | { type: 'disconnect'; endpoint: string }
  /** The OAuth sign-in of `mcp-tether login`, in the browser. */
  | { type: 'sign-in'; endpoint: string }
  | { type: 'copy-client-config'; endpoint: string; client: McpClient }
  | { type: 'install-client'; endpoint: string; client: McpClient }
  | { type: 'open-inspector' }
  | { type: 'add-endpoint' }
  | { type: 'try-demo' }
  | { type: 'toggle-login-item'; enabled: boolean }
  | { type: 'restart-engine' }
  | { type: 'quit' }
  /** Stop the engine (`engine/shutdown`), then quit; a running shim starts it again. */
  | { type: 'quit-and-stop-engine' };

/** One menu item, as data (a subset of Electron's MenuItemConstructorOptions, plus an action). */
export interface MenuItemModel {
  /** Stable within a menu: tests and the renderer find items by it. */
  id: string;
  type: 'normal' | 'separator' | 'checkbox' | 'submenu';
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  submenu?: MenuItemModel[];
  action?: MenuAction;
}

const STATE_LABELS: Record<HealthState, string> = {
  idle: 'idle',
  connecting: 'connecting…',
  ready: 'ready',
  degraded: 'degraded',
  down: 'down',
  'auth-required': 'sign-in needed',
  'host-untrusted': 'host key not trusted',
  disconnected: 'disconnected',
};

/** A mark per state, so the menu is readable without colour. */
const STATE_MARKS: Record<HealthState, string> = {
  idle: '○',
  connecting: '◌',
  ready: '●',
  degraded: '◐',
  down: '✕',
  'auth-required': '✕',
  'host-untrusted': '✕',
  disconnected: '⊘',
};

/**
 * A round trip time as a range ("< 50 ms", "< 200 ms", "< 1 s", "≥ 1 s"): the menu is rebuilt
 * when a label changes, and an exact figure would change with every ping.
 */
export function rttRange(ms: number): string {
  if (ms < 50) return '< 50 ms';
  if (ms < 200) return '< 200 ms';
  return ms < 1000 ? '< 1 s' : '≥ 1 s';
}

/** "ready · < 50 ms" and the like. */
function describeStatus(s: EndpointStatus): string {
  let text = STATE_LABELS[s.state];
  if (s.state === 'ready' && s.rttMs !== undefined) text += ` · ${rttRange(s.rttMs)}`;
  if (s.sessions > 0) text += ` · ${s.sessions} session${s.sessions === 1 ? '' : 's'}`;
  return text;
}

/** Menu labels treat `&` as an accelerator marker on Windows and Linux: double it in names. */
function literal(text: string): string {
  return text.replace(/&/g, '&&');
}

function endpointItem(s: EndpointStatus): MenuItemModel {
  const id = `endpoint:${s.name}`;
  const submenu: MenuItemModel[] = [
    { id: `${id}:state`, type: 'normal', label: `State: ${describeStatus(s)}`, enabled: false },
  ];
  if (s.lastError && s.state !== 'ready' && s.state !== 'idle') {
    const msg =
      s.lastError.message.length > 80 ? `${s.lastError.message.slice(0, 79)}…` : s.lastError.message;
    submenu.push({
      id: `${id}:error`,
      type: 'normal',
      label: literal(`${s.lastError.code}: ${msg}`),
      enabled: false,
    });
  }
  if (s.signInNeeded)
    submenu.push({
      id: `${id}:sign-in`,
      type: 'normal',
      label: literal(`Sign in to ${s.name}`),
      action: { type: 'sign-in', endpoint: s.name },
    });
  // Connect keeps it connected (and lifts a Disconnect); Disconnect closes every connection of it.
  if (!s.pinned)
    submenu.push({
      id: `${id}:connect`,
      type: 'normal',
      label: 'Connect',
      action: { type: 'connect', endpoint: s.name },
    });
  if (s.state !== 'disconnected')
    submenu.push({
      id: `${id}:disconnect`,
      type: 'normal',
      label: 'Disconnect',
      action: { type: 'disconnect', endpoint: s.name },
    });
  submenu.push(
    { id: `${id}:sep`, type: 'separator' },
    {
      id: `${id}:install`,
      type: 'submenu',
      label: 'Set up in',
      submenu: MCP_CLIENTS.map((client) => ({
        id: `${id}:install:${client}`,
        type: 'normal' as const,
        label: `${MCP_CLIENT_FORMATS[client].label}`,
        action: { type: 'install-client' as const, endpoint: s.name, client },
      })),
    },
    {
      id: `${id}:copy`,
      type: 'submenu',
      label: 'Copy client config',
      submenu: MCP_CLIENTS.map((client) => ({
        id: `${id}:copy:${client}`,
        type: 'normal' as const,
        label: `for ${MCP_CLIENT_FORMATS[client].label}`,
        action: { type: 'copy-client-config' as const, endpoint: s.name, client },
      })),
    },
  );
  return {
    id,
    type: 'submenu',
    label: literal(`${STATE_MARKS[s.state]} ${s.name} — ${describeStatus(s)}`),
    submenu,
  };
}

/**
 * The tray menu: the engine's state when it is not running (with "Restart engine" once the app gave
 * up on it); "Try the demo" while there are no endpoints; each endpoint with its state and Connect/Disconnect, "Set up in" a client and "Copy
 * client config"; then "Open Inspector…", "Add endpoint…", the "Start at login"
 * checkbox (reflecting the real state), "Quit the app only" (the engine keeps serving the clients)
 * and "Quit and stop the engine".
 */
export function trayMenuModel(state: TrayState): MenuItemModel[] {
  const items: MenuItemModel[] = [];
  const running = state.engine === 'running';
  if (!running) {
    const label =
      state.engine === 'starting'
        ? 'Starting the engine…'
        : state.engine === 'restarting'
          ? 'The engine stopped; restarting it…'
          : 'The engine is stopped';
    items.push({ id: 'engine:state', type: 'normal', label, enabled: false });
    if (state.engineError) {
      const e = state.engineError.length > 80 ? `${state.engineError.slice(0, 79)}…` : state.engineError;
      items.push({ id: 'engine:error', type: 'normal', label: literal(e), enabled: false });
    }
    if (state.engine === 'stopped') {
      items.push({
        id: 'engine:restart',
        type: 'normal',
        label: 'Restart engine',
        action: { type: 'restart-engine' },
      });
    }
    items.push({ id: 'sep:engine', type: 'separator' });
  }
  if (running && state.endpoints.length === 0) {
    items.push(
      { id: 'endpoints:none', type: 'normal', label: 'No endpoints yet', enabled: false },
      { id: 'try-demo', type: 'normal', label: 'Try the demo', action: { type: 'try-demo' } },
    );
  }
  if (running) items.push(...state.endpoints.map(endpointItem));
  items.push(
    { id: 'sep:endpoints', type: 'separator' },
    { id: 'open-inspector', type: 'normal', label: 'Open Inspector…', action: { type: 'open-inspector' } },
    {
      id: 'add-endpoint',
      type: 'normal',
      label: 'Add endpoint…',
      enabled: running,
      action: { type: 'add-endpoint' },
    },
    { id: 'sep:app', type: 'separator' },
    {
      id: 'login-item',
      type: 'checkbox',
      label: 'Start at login',
      checked: state.loginItem.enabled,
      enabled: state.loginItem.supported,
      action: { type: 'toggle-login-item', enabled: !state.loginItem.enabled },
    },
    { id: 'sep:quit', type: 'separator' },
    {
      id: 'quit',
      type: 'normal',
      label: 'Quit the app only (clients keep working)',
      action: { type: 'quit' },
    },
    {
      id: 'quit-and-stop-engine',
      type: 'normal',
      label: 'Quit and stop the engine',
      enabled: running,
      action: { type: 'quit-and-stop-engine' },
    },
  );
  return items;
}

/**
 * The endpoints that need a sign-in in `next` but did not in `prev`: the app shows a notification
 * for each (clients without URL-mode elicitation only get AUTH_REQUIRED).
 */
export function newlyNeedingSignIn(
  prev: readonly EndpointStatus[],
  next: readonly EndpointStatus[],
): string[] {
  const before = new Set(prev.filter((s) => s.signInNeeded).map((s) => s.name));
  return next.filter((s) => s.signInNeeded && !before.has(s.name)).map((s) => s.name);
}

/** Finds an item by id anywhere in a menu model. */
export function findMenuItem(items: MenuItemModel[], id: string): MenuItemModel | undefined {
  for (const item of items) {
    if (item.id === id) return item;
    const inner = item.submenu && findMenuItem(item.submenu, id);
    if (inner) return inner;
  }
  return undefined;
}
