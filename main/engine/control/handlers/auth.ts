/** Control handler of the OAuth sign-in: `auth/login`. See `main/common/control-api.ts`. */
import { ErrorCode, TetherError } from '../../../common/errors.js';
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link authHandlers} use. */
export type AuthContext = Pick<HandlerContext, 'signIn'>;

/** `auth/login`: signs an OAuth endpoint in; the authorization URL goes to the caller as `auth/authorize`. */
export function authHandlers(ctx: AuthContext): Pick<ControlHandlers, 'auth/login'> {
  return {
    'auth/login': async ({ endpoint: name, openBrowser: open, timeoutMs }, conn) => {
      const signIn = ctx.signIn(name);
      if (!signIn) {
        throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${name} does not sign in with OAuth`, {
          hint: `Only endpoints added with --auth oauth sign in; for a token: mcp-tether secret set ${name}`,
        });
      }
      return signIn({
        openBrowser: open,
        timeoutMs,
        onUrl: (url) => conn.notify('auth/authorize', { endpoint: name, url }),
      });
    },
  };
}
