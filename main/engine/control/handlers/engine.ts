/**
 * Control handlers of the engine itself: `engine/*` (info, inspector, shutdown) and `settings/*`
 * (metrics and telemetry settings). See `main/common/control-api.ts`.
 */
import type { ObservabilitySettings } from '../../../common/control-api.js';
import type { EngineInfo } from '../../../common/domain.js';
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link engineHandlers} use. */
export type EngineContext = Pick<
  HandlerContext,
  | 'version'
  | 'paths'
  | 'startedAt'
  | 'recorder'
  | 'store'
  | 'sync'
  | 'metrics'
  | 'tracing'
  | 'startInspector'
  | 'stop'
>;

/** The engine's process, memory (bytes) and traffic ring, as `engine/info` answers. */
export function engineInfo(
  ctx: Pick<HandlerContext, 'version' | 'paths' | 'startedAt' | 'recorder'>,
): EngineInfo {
  const t = ctx.recorder.stats();
  return {
    pid: process.pid,
    version: ctx.version,
    startedAt: new Date(ctx.startedAt).toISOString(),
    uptimeMs: Date.now() - ctx.startedAt,
    socketPath: ctx.paths.socketPath,
    configFile: ctx.paths.configFile,
    ...(({ rss, heapUsed, external }) => ({
      rssBytes: rss,
      heapUsedBytes: heapUsed,
      externalBytes: external,
    }))(process.memoryUsage()),
    traffic: { records: t.records, bytes: t.bytes, maxRecords: t.maxRecords, maxBytes: t.maxBytes },
  };
}

/** The metrics and telemetry settings and what is served now (`settings/get`). */
function observability(ctx: Pick<HandlerContext, 'sync' | 'metrics' | 'tracing'>): ObservabilitySettings {
  const { metrics, telemetry } = ctx.sync().settings;
  const url = ctx.metrics.url();
  return { metrics, telemetry, tracing: ctx.tracing(), ...(url ? { metricsUrl: url } : {}) };
}

/** `engine/info`, `engine/inspector`, `engine/shutdown`, `settings/get`, `settings/update`. */
export function engineHandlers(
  ctx: EngineContext,
): Pick<
  ControlHandlers,
  'engine/info' | 'engine/inspector' | 'engine/shutdown' | 'settings/get' | 'settings/update'
> {
  return {
    'engine/info': () => engineInfo(ctx),
    'engine/inspector': async ({ port }) => ({ url: await ctx.startInspector(port) }),
    'engine/shutdown': () => {
      setImmediate(() => void ctx.stop());
      return {};
    },
    'settings/get': () => observability(ctx),
    'settings/update': async ({ metrics, telemetry }) => {
      const config = ctx.store.update((c) => {
        if (metrics) c.settings.metrics = metrics;
        if (telemetry) c.settings.telemetry = telemetry;
      });
      // Served here, not by the next sync, so a failure reaches the caller.
      await ctx.metrics.apply(config.settings.metrics);
      ctx.sync();
      return observability(ctx);
    },
  };
}
