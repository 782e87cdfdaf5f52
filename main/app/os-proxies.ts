/**
 * Hands the OS proxy settings to the engine. The engine is a plain Node process and cannot read
 * them (system settings, PAC scripts, WPAD); the tray app can, through Chromium: for each endpoint
 * reached over TCP it asks Electron's `session.resolveProxy` and sends the answers, keyed by URL
 * origin, with the control method `net/system-proxies`. The engine uses them for endpoints with no
 * `--proxy` and no proxy in its environment (main/engine/net/proxy.ts). Sent when the engine
 * (re)starts, when the endpoint list changes, and every {@link RESOLVE_EVERY_MS} (the OS settings may
 * change: another network, a VPN); only a changed map is sent again. Electron-free: Electron's
 * function is passed in, so this runs under plain Node in tests.
 */
import type { EngineSupervisor, SupervisorSnapshot } from './engine-supervisor.js';

/** How often the OS proxy settings are resolved again (ms). */
export const RESOLVE_EVERY_MS = 60_000;

/** What {@link handOsProxiesToEngine} needs. */
export interface OsProxyDeps {
  /** Electron's `session.resolveProxy(url)`: Chromium's proxy list for a URL, PAC syntax. */
  resolveProxy(url: string): Promise<string>;
  /** The engine connection (the tray app's supervisor). */
  engine: Pick<EngineSupervisor, 'request' | 'onChange' | 'snapshot'>;
  log(line: string): void;
}

/** The http(s) URL Chromium resolves for an endpoint URL (ws → http, wss → https), or undefined. */
function resolvable(url: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
}

/**
 * Starts handing the OS proxy settings to the engine (see the module comment).
 * @returns stops it
 */
export function handOsProxiesToEngine(deps: OsProxyDeps): () => void {
  let sent: string | undefined;
  let running = false;
  let endpointsSeen = '';
  let busy: Promise<void> | undefined;

  const sync = async (): Promise<void> => {
    const { endpoints } = await deps.engine.request('endpoints/list', {});
    const proxies: Record<string, string> = {};
    for (const e of endpoints) {
      // A proxy does not apply to an SSH endpoint: its HTTP runs inside the SSH tunnel.
      const u = e.config.ssh || !e.config.url ? undefined : resolvable(e.config.url);
      if (!u || proxies[u.origin] !== undefined) continue;
      proxies[u.origin] = await deps.resolveProxy(u.href);
    }
    const text = JSON.stringify(proxies);
    if (text === sent) return;
    await deps.engine.request('net/system-proxies', { proxies });
    sent = text;
  };
  const kick = () => {
    busy ??= sync()
      .catch((err: Error) => deps.log(`OS proxy settings not handed to the engine: ${err.message}`))
      .finally(() => (busy = undefined));
  };

  const onSnapshot = (s: SupervisorSnapshot) => {
    const nowRunning = s.engine === 'running';
    const names = s.endpoints.map((e) => e.name).join('\n');
    if (nowRunning && (!running || names !== endpointsSeen)) {
      if (!running) sent = undefined; // a new engine knows nothing yet
      endpointsSeen = names;
      kick();
    }
    running = nowRunning;
  };
  const unsubscribe = deps.engine.onChange(onSnapshot);
  onSnapshot(deps.engine.snapshot());
  const timer = setInterval(() => {
    if (running) kick();
  }, RESOLVE_EVERY_MS);
  timer.unref();
  return () => {
    unsubscribe();
    clearInterval(timer);
  };
}
