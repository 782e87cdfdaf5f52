/**
 * Control handlers of an endpoint's secrets in the OS keychain: `secrets/*` (set, delete, list,
 * rebind), the proxy credentials included. See `main/common/control-api.ts`; no value is ever
 * returned or logged.
 */
import { ErrorCode, TetherError } from '../../../common/errors.js';
import { PROXY_SECRET, proxySecretCommand } from '../../../common-node/net.js';
import { credentialOrigin } from '../../../common/origin.js';
import {
  OAUTH_TOKENS_PREFIX,
  resolveSecretToSet,
  secretNameMatches,
  staticSecretName,
} from '../../secrets/names.js';
import type { ControlHandlers } from '../server.js';
import type { ControlledEndpoint, HandlerContext } from './context.js';

/** What {@link secretHandlers} use. */
export type SecretsContext = Pick<
  HandlerContext,
  'store' | 'sync' | 'endpoint' | 'keychain' | 'bindings' | 'knownSecrets' | 'log'
>;

/**
 * Stores an endpoint's proxy credentials (`user:password`) and marks the endpoint to send them.
 * @throws TetherError INVALID_ARGUMENT (an SSH endpoint, or no `:`), KEYCHAIN_UNAVAILABLE
 */
async function setProxySecret(
  ctx: SecretsContext,
  ep: ControlledEndpoint,
  value: string,
): Promise<{ endpoint: string; name: string }> {
  if (ep.config.ssh)
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `${ep.name} is reached over SSH: no HTTP proxy applies to it`,
    );
  const colon = value.indexOf(':');
  if (colon <= 0)
    throw new TetherError(ErrorCode.INVALID_ARGUMENT, 'proxy credentials are USER:PASSWORD', {
      hint: proxySecretCommand(ep.name),
    });
  ctx.knownSecrets.add(value.slice(colon + 1));
  await ctx.keychain.set(ep.name, PROXY_SECRET, value);
  if (!ep.config.proxyAuth) {
    ctx.store.update((c) => {
      const e = c.endpoints[ep.name];
      if (e) e.proxyAuth = true;
    });
    ctx.sync();
  }
  ctx.log(`secret ${ep.name}/${PROXY_SECRET} stored in the OS keychain`);
  return { endpoint: ep.name, name: PROXY_SECRET };
}

/** `secrets/set`, `secrets/delete`, `secrets/list`, `secrets/rebind`. */
export function secretHandlers(
  ctx: SecretsContext,
): Pick<ControlHandlers, 'secrets/set' | 'secrets/delete' | 'secrets/list' | 'secrets/rebind'> {
  return {
    'secrets/set': async ({ endpoint: name, name: given, value }) => {
      const ep = ctx.endpoint(name);
      if (given === PROXY_SECRET) return setProxySecret(ctx, ep, value);
      const secret = resolveSecretToSet(name, ep.config.auth, given);
      await ctx.keychain.set(name, secret, value);
      // The user gave this value for the server the endpoint names now.
      ctx.bindings.bind(name, { origin: credentialOrigin(ep.config) });
      ep.auth?.invalidate();
      ctx.log(`secret ${name}/${secret} stored in the OS keychain`);
      return { endpoint: name, name: secret };
    },
    'secrets/delete': async ({ endpoint: name, name: given, all }) => {
      const ep = ctx.sync().endpoints[name] ? ctx.endpoint(name) : undefined;
      let wanted: (stored: string) => boolean;
      if (all) wanted = () => true;
      else if (given !== undefined) wanted = (stored) => secretNameMatches(stored, given);
      else {
        const auth = ctx.endpoint(name).config.auth;
        if (!auth)
          throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${name} has no credentials configured`, {
            hint: `Name the secret (--name), or delete all of ${name}'s: mcp-tether secret delete ${name} --all`,
          });
        const own =
          auth.type === 'oauth' || auth.type === 'token-exchange' ? undefined : staticSecretName(auth);
        // For OAuth, deleting the endpoint's secret means signing out: its tokens go.
        wanted = (stored) => (own ? stored === own : stored.startsWith(OAUTH_TOKENS_PREFIX));
      }
      const deleted: string[] = [];
      for (const s of await ctx.keychain.list(name)) {
        if (wanted(s.name) && (await ctx.keychain.delete(name, s.name))) deleted.push(s.name);
      }
      ep?.auth?.invalidate();
      if (deleted.length && (all || given === undefined)) ctx.bindings.forget(name);
      if (deleted.length) ctx.log(`secret(s) of ${name} deleted: ${deleted.join(', ')}`);
      return { deleted };
    },
    'secrets/list': async ({ endpoint }) => ({ secrets: await ctx.keychain.list(endpoint) }),
    'secrets/rebind': ({ endpoint: name }) => {
      const ep = ctx.endpoint(name);
      if (!ep.config.auth)
        throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${name} has no credentials configured`, {
          hint: `Nothing to rebind; add credentials with mcp-tether add ${name} … --auth bearer|header:NAME|oauth.`,
        });
      const origin = credentialOrigin(ep.config);
      const url = ep.config.url!.replace(/^ws(s?):/i, 'http$1:');
      const previous = ctx.bindings.bind(name, {
        origin,
        ...(ep.config.auth.type === 'oauth' ? { resource: url } : {}),
      });
      ep.auth?.invalidate();
      ctx.log(`credentials of ${name} bound to ${origin} (were ${previous?.origin ?? 'unbound'})`);
      return {
        endpoint: name,
        origin,
        ...(previous ? { previous: previous.resource ?? previous.origin } : {}),
      };
    },
  };
}
