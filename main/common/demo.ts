/**
 * The first-run demo (`mcp-tether demo`, the UI's "Try the demo"): the names, defaults and result
 * shapes shared by the engine, which hosts the demo MCP server and runs the demo session, and the
 * CLI and UI, which show it. Pure.
 */

/** The endpoint the demo adds (and `demo --remove` removes). */
export const DEMO_ENDPOINT = 'demo';

/** The loopback port the demo server listens on unless told otherwise (or its endpoint says). */
export const DEMO_DEFAULT_PORT = 7870;

/** The `clientInfo.name` of the demo session's client, so its traffic can be told apart. */
export const DEMO_CLIENT_NAME = 'mcp-tether-demo-client';

/** The demo server's MCP URL on a port: Streamable HTTP at `/mcp` on 127.0.0.1. */
export function demoServerUrl(port: number): string {
  return `http://127.0.0.1:${port}/mcp`;
}

/**
 * The port of a demo server URL (see {@link demoServerUrl}); undefined for any other URL. Port 80
 * has no `:80` once the URL is stored (the WHATWG URL serializer drops the scheme's default port).
 */
export function demoServerPort(url: string | undefined): number | undefined {
  const m = url === undefined ? null : /^http:\/\/127\.0\.0\.1(?::(\d{1,5}))?\/mcp$/.exec(url);
  const port = m ? Number(m[1] ?? 80) : NaN;
  return port > 0 && port <= 65_535 ? port : undefined;
}

/**
 * True for an `http:` or `https:` URL whose host is the loopback interface (`127.0.0.1`, any
 * `127.x.y.z`, `[::1]` or `localhost`): the only URLs the demo hands to a browser opener.
 */
export function isLoopbackHttpUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (u.username || u.password) return false;
  const host = u.hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** One step of a demo run, as it is reported live (`demo/step`) and in the result. */
export interface DemoStep {
  /** What was done, e.g. `initialize` or `tools/call add`. */
  step: string;
  ok: boolean;
  /** What happened: the answer in short, or what went wrong. */
  detail: string;
  /** When not ok: what to do about it. */
  hint?: string;
  /** The stable error code of a failure (see errors.ts), when there is one. */
  code?: string;
  /** Time taken (ms). */
  ms: number;
}

/** The result of `demo/run`. */
export interface DemoRunResult {
  /** True when every step worked. */
  ok: boolean;
  steps: DemoStep[];
  /** The demo server's MCP URL (loopback), when it got that far. */
  serverUrl?: string;
  /** True when this run added the `demo` endpoint (false: it was there already). */
  endpointAdded: boolean;
  /** The engine's relay session of the demo client (filter traffic with it), once attached. */
  session?: string;
  /** True when the demo server keeps running after the run (until the engine stops). */
  kept: boolean;
  /** The browser inspector's URL (loopback, token included), when it could be started. */
  inspectorUrl?: string;
  /** With `open`: true when a browser was started on the inspector URL. */
  opened?: boolean;
}
