/** Control handlers of the recorded traffic: `traffic/query`, `traffic/subscribe`. See `main/common/control-api.ts`. */
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link trafficHandlers} use. */
export type TrafficContext = Pick<HandlerContext, 'recorder' | 'endpoint'>;

/**
 * Checks the endpoint a traffic filter names: refused only when it is neither configured nor in
 * the ring, so the records of a removed endpoint stay readable until evicted.
 * @throws TetherError ENDPOINT_NOT_FOUND
 */
function trafficEndpoint(ctx: TrafficContext, name: string | undefined): void {
  if (name !== undefined && !ctx.recorder.holds(name)) ctx.endpoint(name);
}

/** See the module comment. */
export function trafficHandlers(
  ctx: TrafficContext,
): Pick<ControlHandlers, 'traffic/query' | 'traffic/subscribe'> {
  return {
    'traffic/query': (filter) => {
      trafficEndpoint(ctx, filter.endpoint);
      return { records: ctx.recorder.query(filter) };
    },
    'traffic/subscribe': (filter, conn) => {
      trafficEndpoint(ctx, filter.endpoint);
      const { limit: _l, afterSeq: _a, ...live } = filter;
      const unsubscribe = ctx.recorder.subscribe(live, (record) => conn.notify('traffic/record', { record }));
      conn.onClose(unsubscribe);
      return { lastSeq: ctx.recorder.stats().lastSeq };
    },
  };
}
