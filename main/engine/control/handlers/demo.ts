/**
 * Control handlers of the first-run demo: `demo/run`, `demo/stop` (see `main/common/control-api.ts`),
 * and the loading of its host on first use.
 */
import { openBrowser } from '../../auth/browser.js';
import { currentLaunchContext, shimLaunch } from '../../clients/launch.js';
import type { DemoHost } from '../../demo/index.js';
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link demoHandlers} use. */
export type DemoContext = Pick<HandlerContext, 'demoHost'>;

/**
 * Loads the demo (it brings the MCP SDK's server and stdio client, so it is imported only now) and
 * makes its host; endpoints it saves or removes take effect at once (`sync`).
 */
export async function loadDemoHost(
  ctx: Pick<HandlerContext, 'version' | 'log' | 'store' | 'sync' | 'recorder' | 'startInspector'>,
): Promise<DemoHost> {
  const { DemoHost } = await import('../../demo/index.js');
  return new DemoHost({
    version: ctx.version,
    log: ctx.log,
    endpointConfig: (name) => ctx.store.read().endpoints[name],
    saveEndpoint: (name, config) => {
      ctx.store.update((c) => {
        c.endpoints[name] = config;
      });
      ctx.sync();
    },
    removeEndpoint: (name) => {
      ctx.store.update((c) => {
        delete c.endpoints[name];
      });
      ctx.sync();
    },
    shimLaunch: (name) => shimLaunch(name, currentLaunchContext()),
    lastSeq: () => ctx.recorder.stats().lastSeq,
    queryTraffic: (filter) => ctx.recorder.query(filter),
    inspectorUrl: () => ctx.startInspector(),
    openBrowser: (url) => openBrowser(url),
  });
}

/** See the module comment; each step of a run goes to the caller as `demo/step`. */
export function demoHandlers(ctx: DemoContext): Pick<ControlHandlers, 'demo/run' | 'demo/stop'> {
  return {
    'demo/run': async (params, conn) =>
      (await ctx.demoHost()).run(params, (step) => conn.notify('demo/step', { step })),
    'demo/stop': async ({ remove }) => (await ctx.demoHost()).stop(remove),
  };
}
