/**
 * A running engine older than this CLI does not know the newest control methods (`demo/run`,
 * `doctor/system`): its METHOD_NOT_FOUND then says what to do.
 */
import { ErrorCode, TetherError } from '../common/errors.js';

/**
 * `err`, or for METHOD_NOT_FOUND a TetherError of the same code whose hint is to restart the engine.
 * @param method the control method that was called
 */
export function explainOlderEngine(err: unknown, method: string): unknown {
  if (!(err instanceof TetherError) || err.code !== ErrorCode.METHOD_NOT_FOUND) return err;
  return new TetherError(
    ErrorCode.METHOD_NOT_FOUND,
    `the running engine does not know ${method}: it is older than this CLI`,
    {
      hint: 'Restart it so it runs this version (shims reconnect by themselves): mcp-tether shutdown, then try again.',
    },
  );
}
