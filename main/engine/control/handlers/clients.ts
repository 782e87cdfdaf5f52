/**
 * Control handlers of MCP clients' config files: `clients/*` (install, uninstall, snippet, list).
 * See `main/common/control-api.ts`.
 */
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link clientHandlers} use. */
export type ClientsContext = Pick<HandlerContext, 'clients' | 'endpoint' | 'log'>;

/** See the module comment. */
export function clientHandlers(
  ctx: ClientsContext,
): Pick<ControlHandlers, 'clients/install' | 'clients/uninstall' | 'clients/snippet' | 'clients/list'> {
  return {
    'clients/install': ({ endpoint, client, configFile }) => {
      ctx.endpoint(endpoint);
      const change = ctx.clients.install(endpoint, client, configFile);
      ctx.log(`client ${client}: ${endpoint} ${change.action} in ${change.configFile}`);
      return change;
    },
    'clients/uninstall': ({ endpoint, client, configFile }) => {
      const change = ctx.clients.uninstall(endpoint, client, configFile);
      ctx.log(`client ${client}: ${endpoint} ${change.action} in ${change.configFile}`);
      return change;
    },
    'clients/snippet': ({ endpoint, client }) => {
      ctx.endpoint(endpoint);
      return ctx.clients.snippet(endpoint, client);
    },
    'clients/list': ({ endpoint }) => ({ clients: ctx.clients.list(endpoint) }),
  };
}
