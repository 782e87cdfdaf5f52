/**
 * The doctor's transport layer for an endpoint reached by ws:// or wss://: a WebSocket handshake
 * asking for the `mcp` subprotocol, through the endpoint's agents, bounded by the connect timeout.
 */
import WebSocket from 'ws';
import { transportVerdict, webSocketFailure } from './http-findings.js';
import { errMessage, type Finding } from './steps.js';
import type { DoctorTarget } from './target.js';

/** The transport step of a WebSocket endpoint (never rejects; the socket ends when the run does). */
export function checkWebSocket(t: DoctorTarget): Promise<Finding> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (f: Finding) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(f);
    };
    const ws = new WebSocket(t.config.url, 'mcp', {
      headers: { ...t.config.headers, ...t.creds },
      handshakeTimeout: t.timeoutMs,
      perMessageDeflate: false,
      agent: t.url.protocol === 'wss:' ? t.agents.https : t.agents.http,
    });
    t.cleanups.push(() => ws.terminate());
    const timer = setTimeout(() => {
      ws.terminate();
      done(webSocketFailure(undefined, `no handshake within ${t.timeoutMs} ms`, t.config.url));
    }, t.timeoutMs + 100);
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      done(webSocketFailure(res.statusCode ?? 0, `HTTP ${res.statusCode}`, t.config.url));
    });
    ws.once('open', () => {
      const protocol = ws.protocol;
      ws.close(1000);
      const v = transportVerdict(t.name, t.config, 'websocket');
      done({
        ok: v.ok && protocol === 'mcp',
        detail: `WebSocket handshake OK (HTTP 101), subprotocol ${protocol || '(none)'} (configured: ${t.config.transport})`,
        ...(protocol !== 'mcp'
          ? {
              hint: 'the server did not agree to the `mcp` subprotocol: it may not be an MCP WebSocket server',
            }
          : v.hint
            ? { hint: v.hint }
            : {}),
      });
    });
    ws.on('error', (err) => {
      ws.terminate();
      done(webSocketFailure(undefined, errMessage(err), t.config.url));
    });
  });
}
