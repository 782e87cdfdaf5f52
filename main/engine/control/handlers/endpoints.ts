/**
 * Control handlers of the configured endpoints: `endpoints/*` (list, add, update, remove,
 * connect, disconnect). See `main/common/control-api.ts`.
 */
import { ErrorCode, TetherError } from '../../../common/errors.js';
import { parsePemCertificates } from '../../../common-node/net.js';
import { credentialOrigin } from '../../../common/origin.js';
import { loadCommandsFile } from '../../commands/spec.js';
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link endpointHandlers} use. */
export type EndpointsContext = Pick<
  HandlerContext,
  'store' | 'sync' | 'endpoint' | 'summaries' | 'keychain' | 'bindings' | 'disconnected' | 'log'
>;

type EndpointMethods =
  | 'endpoints/list'
  | 'endpoints/add'
  | 'endpoints/update'
  | 'endpoints/remove'
  | 'endpoints/connect'
  | 'endpoints/disconnect';

/** See the module comment. */
export function endpointHandlers(ctx: EndpointsContext): Pick<ControlHandlers, EndpointMethods> {
  const summary = (name: string) => ctx.summaries().find((s) => s.name === name)!;
  return {
    'endpoints/list': () => ({ endpoints: ctx.summaries() }),
    'endpoints/add': ({ name, endpoint }) => {
      if (endpoint.commandsFile) loadCommandsFile(endpoint.commandsFile);
      if (endpoint.ca) parsePemCertificates(endpoint.ca, `the CA certificates (ca) of ${name}`);
      ctx.store.update((c) => {
        if (c.endpoints[name]) {
          throw new TetherError(ErrorCode.ENDPOINT_EXISTS, `an endpoint named "${name}" exists already`, {
            hint: `Remove it first (mcp-tether remove ${name}) or choose another name.`,
          });
        }
        c.endpoints[name] = endpoint;
      });
      ctx.log(`endpoint ${name} added (${endpoint.transport} ${endpoint.url})`);
      return { endpoint: summary(name) };
    },
    'endpoints/update': ({ name, endpoint }) => {
      if (endpoint.ca) parsePemCertificates(endpoint.ca, `the CA certificates (ca) of ${name}`);
      ctx.endpoint(name);
      if (endpoint.commandsFile) loadCommandsFile(endpoint.commandsFile);
      ctx.store.update((c) => {
        c.endpoints[name] = endpoint;
      });
      const bound = endpoint.auth && endpoint.url ? ctx.bindings.get(name) : undefined;
      const to = bound && credentialOrigin(endpoint);
      return {
        endpoint: summary(name),
        ...(bound && to !== bound.origin ? { credentialsMoved: { from: bound.origin, to: to! } } : {}),
      };
    },
    'endpoints/remove': async ({ name, keepSecrets }) => {
      const { config } = ctx.endpoint(name);
      let deletedSecrets: string[] | undefined;
      // An endpoint without auth never touched the keychain: removing it does not either.
      if ((config.auth || config.proxyAuth) && !keepSecrets) {
        try {
          deletedSecrets = await ctx.keychain.deleteAll(name);
        } catch (err) {
          const e = err as TetherError;
          throw new TetherError(
            e.code,
            `${e.message}; ${name} was not removed, so its secrets are not orphaned`,
            {
              hint: `${e.hint ?? ''} Or remove it and leave its secrets: mcp-tether remove ${name} --keep-secrets`.trim(),
            },
          );
        }
      }
      ctx.store.update((c) => {
        delete c.endpoints[name];
      });
      ctx.sync();
      if (deletedSecrets) ctx.bindings.forget(name);
      if (deletedSecrets?.length) ctx.log(`endpoint ${name}: ${deletedSecrets.length} secret(s) deleted`);
      return deletedSecrets ? { deletedSecrets } : {};
    },
    'endpoints/connect': ({ name }) => {
      const ep = ctx.endpoint(name);
      ctx.disconnected.set(name, false);
      ep.connect();
      ep.setPinned(true);
      return ep.health.status();
    },
    'endpoints/disconnect': async ({ name }) => {
      const ep = ctx.endpoint(name);
      ctx.disconnected.set(name, true);
      await ep.disconnect();
      return ep.health.status();
    },
  };
}
