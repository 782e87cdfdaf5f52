/**
 * The IPC contract between the tray app's main process (main/app) and its windows' preload script
 * (preload/), derived from the control-API contract (control-api.ts). No Electron here.
 *
 * - Calls: one `ipcMain.handle` channel per control method, named `control:<method>` (for example
 *   `control:endpoints/list`). The preload calls `ipcRenderer.invoke(controlChannel(m), params)`;
 *   the answer is an {@link IpcReply}, never a rejection, so the engine's error code survives IPC
 *   (Electron flattens a rejected handler into a plain message).
 * - Events: main sends `event:<notification>` (`event:status/changed`, `event:traffic/record`,
 *   `event:auth/authorize`) with the control notification's params verbatim, and
 *   `event:app/engine` with an {@link AppEngineEvent} when the engine restarts or gives up.
 * - Each window has its own engine connection in main, so `status/subscribe` and
 *   `traffic/subscribe` behave per window exactly as on the control socket (the traffic filter
 *   applies to that window's events); after an engine restart main re-subscribes them.
 * - Only {@link WINDOW_METHODS} are handled; `shim/attach` turns a connection into a raw relay and
 *   is not for windows. Every call is refused unless it comes from the app's own page
 *   ({@link APP_ORIGIN}) in one of the app's windows.
 */
import type { ControlMethod, ControlNotifications } from './control-api.js';

/** Control methods a window may call: all but `shim/attach` and `net/system-proxies` (main's own). */
export type WindowMethod = Exclude<ControlMethod, 'shim/attach' | 'net/system-proxies'>;

/** The methods handled over IPC (every control method but `shim/attach`). */
export const WINDOW_METHODS = [
  'engine/info',
  'engine/shutdown',
  'engine/inspector',
  'endpoints/list',
  'endpoints/add',
  'endpoints/update',
  'endpoints/remove',
  'endpoints/connect',
  'endpoints/disconnect',
  'status/get',
  'status/subscribe',
  'traffic/query',
  'traffic/subscribe',
  'hosts/trust',
  'secrets/set',
  'secrets/delete',
  'secrets/list',
  'secrets/rebind',
  'auth/login',
  'clients/install',
  'clients/uninstall',
  'clients/snippet',
  'clients/list',
  'doctor/run',
  'doctor/system',
  'demo/run',
  'demo/stop',
  'settings/get',
  'settings/update',
] as const satisfies readonly WindowMethod[];

// Fails to compile when a control method is added without being listed above (or excluded).
type Missing = Exclude<WindowMethod, (typeof WINDOW_METHODS)[number]>;
const _everyMethodListed: [Missing] extends [never] ? true : Missing = true;

/** The `ipcMain.handle` channel of a control method: `control:<method>`. */
export function controlChannel<M extends WindowMethod>(method: M): `control:${M}` {
  return `control:${method}`;
}

/** The control method of a `control:<method>` channel, if it is one a window may call. */
export function methodOfChannel(channel: string): WindowMethod | undefined {
  if (!channel.startsWith('control:')) return undefined;
  const m = channel.slice('control:'.length);
  return (WINDOW_METHODS as readonly string[]).includes(m) ? (m as WindowMethod) : undefined;
}

/** A control call's failure as it crosses IPC: the engine's stable code, its message and data. */
export interface IpcError {
  /** An `ErrorCode` (see errors.ts), e.g. `ENDPOINT_NOT_FOUND`. */
  code: string;
  message: string;
  data?: Record<string, unknown>;
}

/** What `ipcRenderer.invoke(controlChannel(m), params)` resolves to. */
export type IpcReply<T> = { ok: true; result: T } | { ok: false; error: IpcError };

/** Push events from main to windows: the control notifications, plus the app's own. */
export interface IpcEvents {
  'status/changed': ControlNotifications['status/changed'];
  'traffic/record': ControlNotifications['traffic/record'];
  'auth/authorize': ControlNotifications['auth/authorize'];
  'app/engine': AppEngineEvent;
}

/** The channel main sends an event on: `event:<name>`. */
export function eventChannel<E extends keyof IpcEvents>(event: E): `event:${E}` {
  return `event:${event}`;
}

/** The event channels, for a preload that listens to all of them. */
export const EVENT_CHANNELS = [
  eventChannel('status/changed'),
  eventChannel('traffic/record'),
  eventChannel('auth/authorize'),
  eventChannel('app/engine'),
] as const;

/**
 * The engine as the app supervises it: `running` (connected), `restarting` (it died or could not be
 * reached; a restart is scheduled), `stopped` (it kept dying: the app gave up until asked again).
 * A window's subscriptions are re-made before `running` is sent.
 */
export interface AppEngineEvent {
  state: 'starting' | 'running' | 'restarting' | 'stopped';
  /** Why it is not running, when known. */
  error?: string;
}

/** The origin the app serves its windows from (a privileged custom scheme, see main/app). */
export const APP_ORIGIN = 'mcp-tether://app';

/**
 * The views a window opens on, as the URL's hash (`mcp-tether://app/index.html#<view>`): the tray
 * opens `traffic` for "Open Inspector…", `add-endpoint` for "Add endpoint…" and `try-demo` for
 * "Try the demo" (the welcome screen, running the demo).
 */
export const APP_VIEWS = { inspector: 'traffic', addEndpoint: 'add-endpoint', tryDemo: 'try-demo' } as const;

/**
 * Where the built files are, relative to the package root: the window's preload script (CommonJS:
 * sandboxed preloads cannot be ES modules) and the folder whose `index.html` the app serves.
 */
export const APP_ASSETS = { preload: 'dist/preload/preload.cjs', renderer: 'dist/renderer' } as const;
