/**
 * Control handlers of the network around endpoints: `net/system-proxies` (the system proxy
 * settings, pushed by the tray app) and `hosts/trust` (an SSH endpoint's host keys). See
 * `main/common/control-api.ts`.
 */
import { ErrorCode, TetherError } from '../../../common/errors.js';
import { setSystemProxies } from '../../net/proxy.js';
import { trustHostKeys } from '../../ssh/trust.js';
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link networkHandlers} use. */
export type NetworkContext = Pick<HandlerContext, 'endpoint' | 'knownHostsFiles'>;

/** See the module comment. */
export function networkHandlers(
  ctx: NetworkContext,
): Pick<ControlHandlers, 'net/system-proxies' | 'hosts/trust'> {
  return {
    'net/system-proxies': ({ proxies }) => {
      setSystemProxies(proxies);
      return {};
    },
    'hosts/trust': ({ endpoint: name, fingerprint, replace }) => {
      const { config } = ctx.endpoint(name);
      if (!config.ssh)
        throw new TetherError(
          ErrorCode.INVALID_ARGUMENT,
          `${name} is not reached over SSH: it has no host keys to trust`,
        );
      const files = ctx.knownHostsFiles();
      return trustHostKeys(config, files, files[files.length - 1]!, fingerprint, replace);
    },
  };
}
