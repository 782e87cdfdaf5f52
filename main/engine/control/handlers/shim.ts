/**
 * Control handler of a shim: `shim/attach` turns the connection into the relay of one MCP session
 * (relay/session.ts), with the backpressure and stalled-client rules of docs/architecture.md
 * "The relay". See `main/common/control-api.ts`.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, JsonRpcErrorCode, TetherError } from '../../../common/errors.js';
import { errorResponseLine } from '../../../common/jsonrpc.js';
import { RelaySession } from '../../relay/session.js';
import type { ControlHandlers } from '../server.js';
import type { HandlerContext } from './context.js';

/** What {@link shimHandlers} use. */
export type ShimContext = Pick<HandlerContext, 'endpoint' | 'recorder' | 'store' | 'maxMessageBytes' | 'log'>;

/** See the module comment. */
export function shimHandlers(ctx: ShimContext): Pick<ControlHandlers, 'shim/attach'> {
  return {
    'shim/attach': ({ endpoint: name, resume }, conn) => {
      const ep = ctx.endpoint(name);
      const id = randomUUID().slice(0, 8);
      const session = new RelaySession({
        endpoint: ep,
        session: id,
        recorder: ctx.recorder,
        // `#<id>` before an answer tells the shim which request it settles (see shim/attach).
        write: (line, answers) =>
          answers === undefined ? conn.writeLine(line) : conn.writeLine(`#${JSON.stringify(answers)}`, line),
        end: () => conn.end(),
      });
      if (resume) session.resume(resume.initialize);
      ep.attach(session);
      ctx.log(`session ${id} attached to ${name}`);
      const maxMessageBytes = ctx.maxMessageBytes();
      const { maxQueuedBytes, stalledClientMs } = ctx.store.read().settings;
      let stall: NodeJS.Timeout | undefined;
      return {
        result: { session: id, maxMessageBytes },
        relay: {
          line: (raw) => session.onClientLine(raw),
          oversized: (bytes, msgId) =>
            conn.writeLine(
              errorResponseLine(
                msgId ?? null,
                JsonRpcErrorCode.INVALID_REQUEST,
                `message of ${bytes}+ bytes exceeds the ${maxMessageBytes}-byte limit`,
                {
                  code: ErrorCode.MESSAGE_TOO_LARGE,
                },
              ),
            ),
          backpressure: {
            maxQueuedBytes,
            congested: (on) => {
              session.setReadPaused(on);
              clearTimeout(stall);
              if (!on) return;
              stall = setTimeout(() => {
                const e = new TetherError(
                  ErrorCode.UPSTREAM_SESSION_LOST,
                  `the client read nothing for ${stalledClientMs} ms while over ${maxQueuedBytes} bytes waited for it, so its upstream session was ended`,
                  {
                    hint: 'The next request opens a new session; raise settings.stalledClientMs if the client is just slow.',
                  },
                );
                ctx.log(`session ${id} of ${name}: ${e.message}`);
                session.endStalled(e);
              }, stalledClientMs);
            },
          },
          closed: () => {
            clearTimeout(stall);
            void session.close();
            ep.detach(session);
            ctx.log(`session ${id} detached from ${name}`);
          },
        },
      };
    },
  };
}
