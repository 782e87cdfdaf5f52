/**
 * WebSocket client transport: one JSON-RPC message per text frame, subprotocol `mcp` (as the MCP
 * SDK's WebSocket transports use). One connection is one MCP session.
 */
import WebSocket from 'ws';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { JsonRpcId } from '../../common/jsonrpc.js';
import { authRefused, mayRetryAuth, wwwAuthenticate } from './auth-headers.js';
import { deliverText, sendNotice } from './messages.js';
import type { NetworkUpstreamOptions, OutboundMessage, UpstreamConnection } from './types.js';

/**
 * Connects and completes the WebSocket handshake (RFC 6455 §4) with subprotocol `mcp`.
 * @throws TetherError UPSTREAM_UNREACHABLE, UPSTREAM_TIMEOUT, UPSTREAM_PROTOCOL (handshake refused),
 *   AUTH_REQUIRED (401/403 on the handshake)
 */
export async function openWebSocketUpstream(
  opts: NetworkUpstreamOptions,
  retried = false,
): Promise<UpstreamConnection> {
  const creds = opts.auth ? await opts.auth.headers() : undefined;
  let refusedWith: { status: number; www: string | undefined } | undefined;
  try {
    return await handshake(opts, creds, (status, www) => (refusedWith = { status, www }));
  } catch (err) {
    if (!refusedWith || !mayRetryAuth(refusedWith.status, opts.auth, retried)) throw err;
    await opts.auth!.rejected(creds ?? {}, refusedWith.status, refusedWith.www);
    return openWebSocketUpstream(opts, true);
  }
}

function handshake(
  opts: NetworkUpstreamOptions,
  creds: Record<string, string> | undefined,
  onRefused: (status: number, www: string | undefined) => void,
): Promise<UpstreamConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(opts.url.href, 'mcp', {
      headers: creds ? { ...opts.config.headers, ...creds } : opts.config.headers,
      handshakeTimeout: opts.config.connectTimeoutMs,
      maxPayload: opts.maxMessageBytes,
      perMessageDeflate: false,
      // The endpoint's agent: over its SSH tunnel for an SSH endpoint.
      agent: opts.url.protocol === 'wss:' ? opts.agents.https : opts.agents.http,
    });
    let upstream: WebSocketUpstream | undefined;
    ws.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
      if (status === 401 || status === 403) {
        onRefused(status, wwwAuthenticate(res));
        reject(authRefused(opts.auth, opts.name, status, 'the WebSocket handshake', wwwAuthenticate(res)));
        return;
      }
      reject(
        new TetherError(
          ErrorCode.UPSTREAM_PROTOCOL,
          `the WebSocket handshake was refused with HTTP ${status}`,
          { status },
        ),
      );
    });
    ws.once('open', () => {
      upstream = new WebSocketUpstream(ws, opts);
      resolve(upstream);
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (upstream) return; // 'close' follows and reports
      if (err instanceof TetherError) return reject(err); // from the SSH tunnel, with its own code
      const timedOut = /timed out/i.test(err.message);
      reject(
        new TetherError(
          timedOut ? ErrorCode.UPSTREAM_TIMEOUT : ErrorCode.UPSTREAM_UNREACHABLE,
          timedOut
            ? `the WebSocket handshake with ${opts.url.href} timed out`
            : `cannot open WebSocket ${opts.url.href}: ${err.code ?? err.message}`,
        ),
      );
    });
  });
}

class WebSocketUpstream implements UpstreamConnection {
  readonly transport = 'websocket' as const;
  private dead = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: NetworkUpstreamOptions,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      deliverText(opts.handlers, isBinary ? data.toString('utf8') : data.toString(), 'a WebSocket frame');
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.dead) return;
      this.dead = true;
      opts.handlers.closed(
        new TetherError(
          ErrorCode.UPSTREAM_SESSION_LOST,
          `the WebSocket closed (code ${code}${reason.length ? `: ${reason.toString()}` : ''})`,
        ),
      );
    });
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  setProtocolVersion(): void {
    // WebSocket frames carry no per-message headers.
  }

  cancel(_id: JsonRpcId, notice: OutboundMessage): void {
    sendNotice(this, notice, this.opts.handlers);
  }

  send(msg: OutboundMessage): Promise<void> {
    if (this.dead || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the WebSocket is closed'));
    }
    return new Promise((resolve, reject) => {
      this.ws.send(msg.raw ?? msg.text, { binary: false }, (err) =>
        err
          ? reject(new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, `WebSocket send failed: ${err.message}`))
          : resolve(),
      );
    });
  }

  async close(): Promise<void> {
    this.dead = true;
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }
}
