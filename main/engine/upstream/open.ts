/**
 * Opens an upstream session with its first message, choosing the transport. `auto` follows the
 * backwards-compatibility rule of MCP 2025-03-26 §Transports: POST the first message as Streamable
 * HTTP; on HTTP 400, 404 or 405 fall back to the legacy SSE GET.
 */
import { ErrorCode, TetherError } from '../../common/errors.js';
import { openCommandsUpstream } from '../commands/upstream.js';
import type { SshLink } from '../ssh/link.js';
import type { Agents } from './http.js';
import { openSseUpstream } from './sse.js';
import { openSshStdioUpstream } from './ssh-stdio.js';
import { StreamableHttpUpstream, isLegacyFallbackStatus } from './streamable-http.js';
import type { ConcreteTransport, OutboundMessage, UpstreamConnection, UpstreamOptions } from './types.js';
import { openWebSocketUpstream } from './websocket.js';

/** Options of {@link openUpstream}. */
export interface OpenUpstreamOptions extends UpstreamOptions {
  agents: Agents;
  maxMessageBytes: number;
  /** A transport detected earlier for this endpoint (skips detection). */
  detected?: ConcreteTransport;
  /** The endpoint's SSH connection (the `stdio` transport runs its command there). */
  ssh?: SshLink;
}

/** The transport to use before any detection: ws URLs mean WebSocket. */
function initialTransport(
  opts: Pick<OpenUpstreamOptions, 'config' | 'detected'>,
): ConcreteTransport | 'auto' {
  if (opts.config.transport !== 'auto') return opts.config.transport;
  if (/^wss?:/.test(opts.config.url ?? '')) return 'websocket';
  return opts.detected ?? 'auto';
}

/**
 * Opens a session and sends `first` on it (normally `initialize`; for a 2026-07-28 client, any
 * request).
 * @returns the connection once the server accepted `first` (Streamable HTTP: at the response
 *   headers; a response stream goes on in the background, so a `subscriptions/listen` as the first
 *   message holds nothing up)
 * @throws TetherError from the transports (UPSTREAM_UNREACHABLE, UPSTREAM_TIMEOUT, UPSTREAM_PROTOCOL,
 *   AUTH_REQUIRED, and the SSH_* and HOST_KEY_* codes); on failure nothing stays open
 */
export async function openUpstream(
  opts: OpenUpstreamOptions,
  first: OutboundMessage,
): Promise<UpstreamConnection> {
  const kind = initialTransport(opts);
  const sendFirst = async (conn: UpstreamConnection) => {
    try {
      await conn.send(first);
      return conn;
    } catch (err) {
      await conn.close();
      throw err;
    }
  };
  if (kind === 'stdio') {
    if (!opts.ssh || !opts.config.command) {
      throw new TetherError(ErrorCode.INTERNAL, 'a stdio endpoint needs an SSH connection and a command');
    }
    const { ssh: link, config, handlers, maxMessageBytes } = opts;
    return sendFirst(
      await openSshStdioUpstream({
        link,
        command: config.command!,
        loginShell: config.loginShell,
        handlers,
        maxMessageBytes,
      }),
    );
  }
  if (kind === 'commands') {
    if (!opts.ssh || !opts.config.commandsFile) {
      throw new TetherError(
        ErrorCode.INTERNAL,
        'a command endpoint needs an SSH connection and a commands file',
      );
    }
    const { ssh: link, config, handlers } = opts;
    return sendFirst(
      await openCommandsUpstream({
        link,
        commandsFile: config.commandsFile!,
        loginShell: config.loginShell,
        handlers,
      }),
    );
  }
  const net = { ...opts, url: new URL(opts.config.url!) };
  switch (kind) {
    case 'websocket':
      return sendFirst(await openWebSocketUpstream(net));
    case 'sse':
      return sendFirst(await openSseUpstream(net));
    case 'streamable-http':
      return sendFirst(new StreamableHttpUpstream(net));
    case 'auto': {
      const http = new StreamableHttpUpstream(net);
      try {
        await http.send(first);
        return http;
      } catch (err) {
        await http.close();
        if (!isLegacyFallbackStatus(err)) throw err;
        opts.handlers.event(
          'transport',
          `Streamable HTTP refused (HTTP ${err.data.status}); trying legacy SSE`,
        );
        return sendFirst(await openSseUpstream(net));
      }
    }
  }
}
