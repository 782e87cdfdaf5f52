/**
 * The first-run demo in the engine (`demo/run`, `demo/stop`): hosts the demo MCP server
 * (server.ts), makes sure the `demo` endpoint points at it, runs the demo session through the real
 * shim (session.ts), and starts the browser inspector. The engine hosts the server, not the CLI,
 * so with `keep` the endpoint keeps working after `mcp-tether demo` exits, until the engine stops.
 * Runs are serialized: the UI and the CLI may ask at the same time.
 */
import type { ShimLaunch } from '../../common/clients.js';
import type { TrafficFilter, TrafficRecord } from '../../common/domain.js';
import {
  DEMO_CLIENT_NAME,
  DEMO_DEFAULT_PORT,
  DEMO_ENDPOINT,
  demoServerPort,
  isLoopbackHttpUrl,
  type DemoRunResult,
  type DemoStep,
} from '../../common/demo.js';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import { EndpointConfigSchema, type EndpointConfig } from '../../common/schemas.js';
import { describeTarget } from '../../common/target.js';
import type { Logger } from '../log.js';
import { DemoServer } from './server.js';
import { runDemoSession } from './session.js';

/** What the demo needs from the engine. */
export interface DemoHostDeps {
  version: string;
  log: Logger;
  /** The stored config of an endpoint, if there is one. */
  endpointConfig(name: string): EndpointConfig | undefined;
  /** Adds or replaces an endpoint in endpoints.json (and brings the live endpoints in line). */
  saveEndpoint(name: string, config: EndpointConfig): void;
  /** Removes an endpoint (it has no secrets: the demo endpoint has no `auth`). */
  removeEndpoint(name: string): void;
  /** How a client starts `mcp-tether shim <name>`. */
  shimLaunch(name: string): ShimLaunch;
  /** The traffic recorder's last sequence number. */
  lastSeq(): number;
  /** Traffic records matching a filter, oldest first (the recorder's `query`). */
  queryTraffic(filter: TrafficFilter): TrafficRecord[];
  /** Starts the browser inspector if needed; its URL. */
  inspectorUrl(): Promise<string>;
  /** Opens a URL in the user's browser. */
  openBrowser(url: string): Promise<void>;
}

/** Options of {@link DemoHost.run}. */
export interface DemoRunOptions {
  /** The demo server's port (default: the `demo` endpoint's, else {@link DEMO_DEFAULT_PORT}). */
  port?: number;
  /** Keep the demo server running after the run, until the engine stops. */
  keep: boolean;
  /** Open the browser inspector in the user's browser. */
  open: boolean;
}

/** True when an endpoint is the demo's: Streamable HTTP to a demo server URL, nothing else. */
function isDemoEndpoint(c: EndpointConfig): boolean {
  return demoServerPort(c.url) !== undefined && !c.ssh && !c.auth && c.transport !== 'stdio';
}

/** See the module comment. */
export class DemoHost {
  private server: DemoServer | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: DemoHostDeps) {}

  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs the demo: demo server, `demo` endpoint, the session through the shim, the inspector (and
   * a browser on it with `open`). Never rejects for a failing step: the result says which failed.
   * @param onStep told each step as it ends
   */
  run(opts: DemoRunOptions, onStep: (s: DemoStep) => void): Promise<DemoRunResult> {
    return this.serialized(async () => {
      const result: DemoRunResult = { ok: false, steps: [], endpointAdded: false, kept: false };
      const report = (s: DemoStep) => {
        result.steps.push(s);
        onStep(s);
        return s.ok;
      };
      const fail = (step: string, err: unknown, t0: number) => {
        const e = err instanceof TetherError ? err : new TetherError(ErrorCode.INTERNAL, String(err));
        const s: DemoStep = {
          step,
          ok: false,
          detail: e.message,
          code: e.code,
          ms: Math.round(performance.now() - t0),
        };
        if (e.hint !== undefined) s.hint = e.hint;
        return report(s);
      };
      try {
        await this.runSteps(opts, result, report, fail);
      } finally {
        if (!opts.keep && this.server) {
          await this.server.close();
          this.server = undefined;
          this.deps.log('demo server stopped');
        }
        result.kept = this.server !== undefined;
        result.ok = result.steps.every((s) => s.ok);
      }
      return result;
    });
  }

  private async runSteps(
    opts: DemoRunOptions,
    result: DemoRunResult,
    report: (s: DemoStep) => boolean,
    fail: (step: string, err: unknown, t0: number) => boolean,
  ): Promise<void> {
    const existing = this.deps.endpointConfig(DEMO_ENDPOINT);
    let t0 = performance.now();
    if (existing && !isDemoEndpoint(existing)) {
      fail(
        `endpoint ${DEMO_ENDPOINT}`,
        new TetherError(
          ErrorCode.ENDPOINT_EXISTS,
          `an endpoint named "${DEMO_ENDPOINT}" exists and is not the demo server (${describeTarget(existing)}); it was left as it is`,
          {
            hint: `Rename or remove yours first (mcp-tether remove ${DEMO_ENDPOINT}), then run the demo again.`,
          },
        ),
        t0,
      );
      return;
    }
    // The port asked for, else the endpoint's, else the running server's; else 7870 or, when that
    // is taken, any free one (the endpoint then remembers it).
    const chosen = opts.port ?? demoServerPort(existing?.url) ?? this.server?.port;
    let url: string;
    try {
      if (this.server && chosen !== undefined && this.server.port !== chosen) {
        await this.server.close();
        this.server = undefined;
      }
      const already = this.server !== undefined;
      let note = '';
      if (!this.server) {
        try {
          this.server = await DemoServer.start(chosen ?? DEMO_DEFAULT_PORT, this.deps.version);
        } catch (err) {
          if (chosen !== undefined || !(err instanceof TetherError && err.data.taken)) throw err;
          this.server = await DemoServer.start(0, this.deps.version);
          note = ` (${DEMO_DEFAULT_PORT} was taken)`;
        }
      }
      url = this.server.url;
      if (!already) this.deps.log(`demo server listening on ${url}`);
      result.serverUrl = url;
      report({
        step: 'demo server',
        ok: true,
        detail: `${already ? 'already running' : 'listening'} on ${url}${note}, in the engine (pid ${process.pid}); tools echo, add, slow, greet; resource demo://about; prompt explain`,
        ms: Math.round(performance.now() - t0),
      });
    } catch (err) {
      fail('demo server', err, t0);
      return;
    }

    t0 = performance.now();
    try {
      let detail: string;
      if (!existing) {
        this.deps.saveEndpoint(
          DEMO_ENDPOINT,
          EndpointConfigSchema.parse({ transport: 'streamable-http', url }),
        );
        result.endpointAdded = true;
        detail = `added endpoint ${DEMO_ENDPOINT} (streamable-http ${url})`;
      } else if (existing.url !== url) {
        this.deps.saveEndpoint(DEMO_ENDPOINT, { ...existing, url });
        detail = `pointed endpoint ${DEMO_ENDPOINT} at ${url} (it was ${existing.url})`;
      } else {
        detail = `endpoint ${DEMO_ENDPOINT} is there already (${existing.transport} ${url})`;
      }
      report({ step: `endpoint ${DEMO_ENDPOINT}`, ok: true, detail, ms: Math.round(performance.now() - t0) });
    } catch (err) {
      fail(`endpoint ${DEMO_ENDPOINT}`, err, t0);
      return;
    }

    const before = this.deps.lastSeq();
    const steps = await runDemoSession({
      launch: this.deps.shimLaunch(DEMO_ENDPOINT),
      env: process.env,
      version: this.deps.version,
      onStep: (s) => void report(s),
    });
    // The relay session is the one whose `initialize` came from the demo client.
    const [init] = this.deps.queryTraffic({
      endpoint: DEMO_ENDPOINT,
      method: 'initialize',
      direction: 'client-to-server',
      text: DEMO_CLIENT_NAME,
      afterSeq: before,
      limit: 1,
    });
    if (init) result.session = init.session;
    if (!steps.every((s) => s.ok)) return;

    t0 = performance.now();
    let inspector: string;
    try {
      inspector = await this.deps.inspectorUrl();
      result.inspectorUrl = inspector;
      report({
        step: 'browser inspector',
        ok: true,
        detail: `serving the UI on ${new URL(inspector).host} (loopback only, behind a random token)`,
        ms: Math.round(performance.now() - t0),
      });
    } catch (err) {
      fail('browser inspector', err, t0);
      return;
    }
    if (!opts.open) return;
    t0 = performance.now();
    try {
      // Only a loopback http(s) page ever goes to the opener.
      if (!isLoopbackHttpUrl(inspector))
        throw new TetherError(
          ErrorCode.INTERNAL,
          `refusing to open ${new URL(inspector).origin}: not a loopback http(s) URL`,
        );
      await this.deps.openBrowser(inspector);
      result.opened = true;
      report({
        step: 'open the inspector',
        ok: true,
        detail: 'a browser was started on it',
        ms: Math.round(performance.now() - t0),
      });
    } catch (err) {
      const e =
        err instanceof TetherError
          ? err
          : new TetherError(
              ErrorCode.INTERNAL,
              `no browser could be started: ${errorMessage(err)}`,
              { hint: 'Open the URL yourself; MCP_TETHER_BROWSER names a program to open URLs with.' },
              { cause: err },
            );
      fail('open the inspector', e, t0);
    }
  }

  /**
   * Stops the demo server; with `remove`, removes the `demo` endpoint too (only when it is the
   * demo's: one of that name that points elsewhere is left alone).
   * @throws TetherError ENDPOINT_EXISTS when `remove` finds a `demo` endpoint that is not the demo's
   */
  stop(remove: boolean): Promise<{ stopped: boolean; removed: boolean }> {
    return this.serialized(async () => {
      const stopped = this.server !== undefined;
      await this.close();
      let removed = false;
      const existing = remove ? this.deps.endpointConfig(DEMO_ENDPOINT) : undefined;
      if (existing) {
        if (!isDemoEndpoint(existing))
          throw new TetherError(
            ErrorCode.ENDPOINT_EXISTS,
            `the endpoint "${DEMO_ENDPOINT}" is not the demo's (${describeTarget(existing)}): it was left as it is`,
            { hint: `Remove it yourself if you mean to: mcp-tether remove ${DEMO_ENDPOINT}` },
          );
        this.deps.removeEndpoint(DEMO_ENDPOINT);
        removed = true;
      }
      return { stopped, removed };
    });
  }

  /** Stops the demo server if it runs (the engine stopping). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await server.close();
      this.deps.log('demo server stopped');
    }
  }
}
