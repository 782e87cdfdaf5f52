/**
 * Control handlers of health and diagnosis: `status/*` (get, subscribe) and `doctor/*` (one
 * endpoint's layered doctor, the whole setup). See `main/common/control-api.ts`.
 */
import { homedir } from 'node:os';
import type { DoctorReport } from '../../../common/domain.js';
import { runDoctor } from '../../health/doctor.js';
import { runSshDoctor } from '../../health/ssh-doctor.js';
import { probeSystem } from '../../health/system-probe.js';
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';
import { engineInfo, type EngineContext } from './engine.js';

/** What {@link healthHandlers} use. */
export type HealthContext = Pick<EngineContext, 'version' | 'paths' | 'startedAt' | 'recorder'> &
  Pick<
    HandlerContext,
    'endpoint' | 'summaries' | 'metrics' | 'statusSubscribers' | 'store' | 'keychain' | 'knownHostsFiles'
  >;

/** The layered doctor of one endpoint (over SSH or not). @throws TetherError ENDPOINT_NOT_FOUND */
function runEndpointDoctor(ctx: HealthContext, name: string): Promise<DoctorReport> {
  const { config, auth } = ctx.endpoint(name);
  return config.ssh ? runSshDoctor(name, config, ctx.knownHostsFiles()) : runDoctor(name, config, auth);
}

/** `status/get`, `status/subscribe`, `doctor/run`, `doctor/system`. */
export function healthHandlers(
  ctx: HealthContext,
): Pick<ControlHandlers, 'status/get' | 'status/subscribe' | 'doctor/run' | 'doctor/system'> {
  return {
    'status/get': async ({ endpoint }) => {
      const list = endpoint ? [ctx.endpoint(endpoint).health.status()] : ctx.summaries().map((s) => s.status);
      const requests = (await ctx.metrics.counters()).filter((c) => !endpoint || c.endpoint === endpoint);
      const url = ctx.metrics.url();
      return { engine: engineInfo(ctx), endpoints: list, metrics: url ? { url, requests } : { requests } };
    },
    'status/subscribe': (_p, conn) => {
      ctx.statusSubscribers.add(conn);
      conn.onClose(() => ctx.statusSubscribers.delete(conn));
      return { endpoints: ctx.summaries().map((s) => s.status) };
    },
    'doctor/run': ({ name }) => runEndpointDoctor(ctx, name),
    'doctor/system': ({ runtime }) =>
      probeSystem({
        paths: ctx.paths,
        readConfig: () => ctx.store.read(),
        keychainList: () => ctx.keychain.list(),
        clientPaths: { platform: process.platform, env: process.env, home: homedir() },
        doctor: (name) => runEndpointDoctor(ctx, name),
        ...(runtime
          ? { callerRuntime: { ...runtime, role: 'CLI', platform: runtime.platform as NodeJS.Platform } }
          : {}),
      }),
  };
}
