/**
 * The GET side of a Streamable HTTP connection (MCP 2025-03-26 … 2025-11-25 §Transports/Streamable
 * HTTP): opening a GET stream, for the server-initiated messages of a session or to resume a
 * response stream with `Last-Event-ID`, and keeping the session's GET stream open while it lives.
 * MCP 2026-07-28 has neither (streamable-http.ts does not ask it there).
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { mayRetryAuth, wwwAuthenticate } from './auth-headers.js';
import { isUnreachable, readSse, sendHttp } from './http.js';
import { deliverText } from './messages.js';
import type { StreamableHttpPort } from './streamable-port.js';

/** Waits `ms`, or less when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Opens a GET stream (server-initiated messages, or resumption after event `lastEventId`); a 401
 * (or curable 403) gets one resend after fresh credentials.
 * @param signal aborts the GET (default: the connection's)
 * @returns the stream; 'again' when the server failed for now (HTTP 5xx, 429); undefined when it
 *   cannot be opened (not offered, not signed in, the session is gone: markDead was called)
 */
export async function openGet(
  c: StreamableHttpPort,
  lastEventId?: string,
  signal: AbortSignal = c.signal,
  retried = false,
): Promise<IncomingMessage | 'again' | undefined> {
  const headers = c.baseHeaders();
  headers['accept'] = 'text/event-stream';
  const protocolVersion = c.protocolVersion();
  if (protocolVersion) headers['mcp-protocol-version'] = protocolVersion;
  if (lastEventId) headers['last-event-id'] = lastEventId;
  let creds: Record<string, string> | undefined;
  try {
    creds = c.opts.auth ? await c.opts.auth.headers() : undefined;
  } catch {
    return undefined; // not signed in, say: the next POST reports why
  }
  if (creds) Object.assign(headers, creds);
  let res: IncomingMessage;
  try {
    res = await sendHttp(c.url, {
      method: 'GET',
      headers,
      agents: c.opts.agents,
      connectTimeoutMs: c.opts.config.connectTimeoutMs,
      headersTimeoutMs: c.opts.config.connectTimeoutMs,
      signal,
    });
  } catch (err) {
    if (isUnreachable(err) && err.data.aborted !== true) c.markDead(err);
    return undefined;
  }
  const status = res.statusCode ?? 0;
  if (status === 200 && String(res.headers['content-type'] ?? '').includes('text/event-stream')) return res;
  res.resume();
  if (mayRetryAuth(status, c.opts.auth, retried)) {
    try {
      await c.opts.auth!.rejected(creds ?? {}, status, wwwAuthenticate(res));
    } catch {
      return undefined; // the next POST reports why
    }
    return openGet(c, lastEventId, signal, true);
  }
  if (status === 404 && c.sessionId()) {
    c.markDead(
      new TetherError(
        ErrorCode.UPSTREAM_SESSION_LOST,
        'the server no longer knows this session (HTTP 404); it probably restarted',
        { status },
      ),
    );
  }
  return status >= 500 || status === 429 ? 'again' : undefined;
}

/**
 * Keeps the GET stream for server-initiated messages open while the session lives: opened again
 * after the server's `retry:` wait (else 0.5 s doubling to 10 s) with `Last-Event-ID`; given up
 * when the server does not offer it (405) or the session is gone.
 */
export async function keepGetStream(c: StreamableHttpPort): Promise<void> {
  let lastEventId: string | undefined;
  let delay = 500;
  let retryMs: number | undefined;
  while (!c.isDead()) {
    const res = await openGet(c, lastEventId);
    if (res === undefined) return; // 405 (not offered), or the session is gone
    if (res !== 'again') {
      c.opts.handlers.event('stream-open', 'GET stream for server-initiated messages opened');
      delay = 500;
      const end = await readSse(
        c.gate.track(res),
        (e) => {
          if (e.id) lastEventId = e.id;
          if (e.data.length > 0 && (e.event === undefined || e.event === 'message'))
            deliverText(c.opts.handlers, e.data, 'a stream event');
        },
        c.opts.maxMessageBytes,
      );
      if (end.retryMs !== undefined) retryMs = end.retryMs;
    }
    if (c.isDead()) return;
    await pause(retryMs ?? delay, c.signal);
    delay = Math.min(delay * 2, 10_000);
  }
}
