/**
 * What the two era bridges share: each is an {@link UpstreamConnection} for the relay session that
 * holds an inner connection to the server, speaks to the client through the session's handlers and
 * makes requests of its own through {@link InternalCalls}.
 */
import type { JsonRpcId, JsonRpcMessage } from '../../common/jsonrpc.js';
import { safeStringify } from '../../common/safe-json.js';
import type { InternalCalls } from '../relay/internal-calls.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';

/** See the module comment. */
export abstract class WrappedConnection implements UpstreamConnection {
  protected inner: UpstreamConnection | undefined;
  /** The handlers to open the inner connection with. */
  abstract readonly innerHandlers: UpstreamHandlers;

  /**
   * @param handlers where messages to the client go (the relay session's handlers)
   * @param internal ids and answers of the wrapper's own requests
   */
  constructor(
    protected readonly handlers: UpstreamHandlers,
    readonly internal: InternalCalls,
  ) {}

  get transport(): UpstreamConnection['transport'] {
    return this.inner!.transport;
  }

  setProtocolVersion(): void {
    // The client's version is the wrapper's business; the inner connection keeps its own.
  }

  /** Backpressure (upstream/flow.ts) goes to the inner connection, the one reading the server. */
  pause(): void {
    this.inner?.pause();
  }

  resume(): void {
    this.inner?.resume();
  }

  /** Sends one message to the client. */
  protected toClient(parsed: JsonRpcMessage): void {
    this.handlers.message(safeStringify(parsed), parsed);
  }

  abstract send(msg: OutboundMessage): Promise<void>;
  abstract cancel(id: JsonRpcId, notice: OutboundMessage): void;
  abstract close(): Promise<void>;
}
