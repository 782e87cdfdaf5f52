/**
 * The loopback redirect of a native OAuth client (RFC 8252 §7.3): an HTTP listener on 127.0.0.1
 * (never `localhost`, never another interface) that waits for the authorization server to send the
 * browser back to `/callback` with `code`, `state` and `iss`, and then shows the user the outcome.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { ErrorCode, TetherError } from '../../common/errors.js';

/** The path of the redirect URI. */
const CALLBACK_PATH = '/callback';

/** What arrived at the redirect URI, and how to answer the browser that brought it. */
interface RedirectArrival {
  params: URLSearchParams;
  /** Shows the user the outcome in the browser tab and ends the response. */
  respond(ok: boolean, message: string): void;
}

/** A listening redirect endpoint. */
export interface LoopbackRedirect {
  /** `http://127.0.0.1:<port>/callback`. */
  redirectUri: string;
  port: number;
  /**
   * Waits for the first request to the callback path that carries `state`. A request with another
   * `state` (or none) is not the answer to this sign-in: it gets a 400 page and the wait goes on,
   * so a stray or forged redirect cannot end a sign-in (RFC 6749 §10.12).
   * @throws TetherError AUTH_FAILED when nothing arrives within `timeoutMs`
   */
  wait(timeoutMs: number, state: string): Promise<RedirectArrival>;
  close(): void;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res: ServerResponse, status: number, title: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page shows only our text: nothing it links to learns the code in its URL.
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body style="font-family:system-ui,sans-serif;margin:3em"><h1>${escapeHtml(title)}</h1>` +
      `<p>${escapeHtml(message)}</p></body></html>`,
  );
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * Listens on 127.0.0.1: on `preferredPort` when it is free (a client registered with that redirect
 * URI keeps working with servers that compare ports), else on an ephemeral port.
 */
export async function listenForRedirect(preferredPort?: number): Promise<LoopbackRedirect> {
  let arrived: ((a: RedirectArrival) => void) | undefined;
  let pending: RedirectArrival | undefined;
  let expectedState: string | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      page(res, 404, 'Not found', 'This is MCP Tether’s sign-in redirect; nothing else is here.');
      return;
    }
    if (pending || !arrived) {
      page(res, 409, 'Sign-in already handled', 'This sign-in was already completed or abandoned.');
      return;
    }
    if (url.searchParams.get('state') !== expectedState) {
      page(
        res,
        400,
        'Not this sign-in',
        'This redirect does not belong to the sign-in MCP Tether is waiting for (wrong state), so it was ignored. Finish the sign-in in the tab MCP Tether opened.',
      );
      return;
    }
    let answered = false;
    const arrival: RedirectArrival = {
      params: url.searchParams,
      respond: (ok, message) => {
        if (answered) return;
        answered = true;
        page(res, ok ? 200 : 400, ok ? 'Signed in' : 'Sign-in failed', message);
      },
    };
    pending = arrival;
    arrived(arrival);
  });
  let port: number;
  try {
    port = await listen(server, preferredPort ?? 0);
  } catch {
    port = await listen(server, 0);
  }
  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    port,
    wait: (timeoutMs, state) =>
      new Promise((resolve, reject) => {
        expectedState = state;
        const timer = setTimeout(() => {
          arrived = undefined;
          reject(
            new TetherError(
              ErrorCode.AUTH_FAILED,
              `the sign-in was not completed in the browser within ${Math.round(timeoutMs / 1000)} s`,
              {
                hint: 'Run mcp-tether login again and finish the sign-in in the browser tab it opens (or the URL it prints).',
              },
            ),
          );
        }, timeoutMs);
        arrived = (a) => {
          clearTimeout(timer);
          resolve(a);
        };
      }),
    close: () => {
      server.close();
      server.closeIdleConnections();
      // The browser's keep-alive connection: let the last page finish, then drop it.
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    },
  };
}
