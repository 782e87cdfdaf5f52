/**
 * The engine (docs/architecture.md "Processes"): one process per user that owns the config, every
 * upstream connection, the traffic recorder and health, and serves the control socket.
 * Electron-free.
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EndpointStatus, EndpointSummary } from '../common/domain.js';
import { connectSocket } from '../common-node/control-client.js';
import { ErrorCode, TetherError, errorMessage } from '../common/errors.js';
import type { TetherPaths } from '../common-node/paths.js';
import { tryAcquirePidLock, type PidLock } from '../common-node/pid-lock.js';
import { refreshSessionEnvironment } from './environment.js';
import type { ConfigFile } from '../common/schemas.js';
import { CredentialBindings } from './auth/bindings.js';
import { EndpointAuth } from './auth/endpoint-auth.js';
import { ConfigStore, emptyConfig } from './config/store.js';
import { ControlServer, type ControlConnection, type ControlHandlers } from './control/server.js';
import { authHandlers } from './control/handlers/auth.js';
import { clientHandlers } from './control/handlers/clients.js';
import type { HandlerContext } from './control/handlers/context.js';
import { demoHandlers, loadDemoHost } from './control/handlers/demo.js';
import { endpointHandlers } from './control/handlers/endpoints.js';
import { engineHandlers } from './control/handlers/engine.js';
import { healthHandlers } from './control/handlers/health.js';
import { networkHandlers } from './control/handlers/network.js';
import { secretHandlers } from './control/handlers/secrets.js';
import { shimHandlers } from './control/handlers/shim.js';
import { trafficHandlers } from './control/handlers/traffic.js';
import { ClientSetup } from './clients/index.js';
import type { DemoHost } from './demo/index.js';
import { InspectorServer } from './inspector/server.js';
import { MetricsService, type MetricsListen } from './metrics/service.js';
import { RequestTracer, tracingWanted } from './telemetry/tracing.js';
import type { Logger } from './log.js';
import { Endpoint } from './relay/endpoint.js';
import { EraStore } from './protocol/era-store.js';
import { DisconnectedStore } from './relay/disconnect.js';
import { TrafficRecorder } from './traffic/recorder.js';
import { PROXY_SECRET } from '../common-node/net.js';
import { setProxyCredentialsSource } from './net/proxy.js';
import { KnownSecrets } from './secrets/redact.js';
import { SecretStore } from './secrets/store.js';

/** Options of {@link Engine}. */
export interface EngineOptions {
  paths: TetherPaths;
  version: string;
  log: Logger;
  /** `--metrics`: serve Prometheus metrics here, whatever the settings say. */
  metrics?: MetricsListen;
}

/** How {@link Engine.start} ended; `pid` is 0 when not known (Windows, where the pipe is the lock). */
export type StartOutcome = { started: true } | { started: false; pid: number };

/** See the module comment. */
export class Engine {
  private readonly store: ConfigStore;
  private readonly recorder: TrafficRecorder;
  /** Every secret value the engine has seen, masked in traffic records. */
  private readonly knownSecrets = new KnownSecrets();
  /** The OS keychain: the only place secrets are kept. */
  private readonly keychain: SecretStore;
  /** Which server each endpoint's credentials were stored for (no secrets). */
  private readonly bindings: CredentialBindings;
  /** Each endpoint's credentials and OAuth sign-in. */
  private readonly auth: EndpointAuth;
  private readonly endpoints = new Map<string, Endpoint>();
  /** The era of each endpoint's server, cached in the state directory. */
  private readonly eras: EraStore;
  /** The endpoints the user disconnected, kept across restarts. */
  private readonly disconnected: DisconnectedStore;
  private readonly metrics: MetricsService;
  /** OpenTelemetry spans of relayed requests, when enabled (see telemetry/tracing.ts). */
  private tracer: RequestTracer | undefined;
  /** Writes MCP clients' config files (`clients/*`). */
  private readonly clients = new ClientSetup();
  private readonly statusSubscribers = new Set<ControlConnection>();
  private readonly server: ControlServer;
  /** The browser inspector, once asked for. */
  private inspector: Promise<string> | undefined;
  private inspectorServer: InspectorServer | undefined;
  private lock: PidLock | undefined;
  /** The first-run demo, loaded on first use (it brings the MCP SDK's server and stdio client). */
  private demo: Promise<DemoHost> | undefined;
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  private maxMessageBytes: number;
  /** Engine-wide OAuth defaults (settings `oauth`), as of the last config read. */
  private oauthSettings: ConfigFile['settings']['oauth'];
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(private readonly opts: EngineOptions) {
    this.eras = new EraStore(join(opts.paths.stateDir, 'eras.json'));
    // engine.log gets what every other output gets: known secrets masked.
    this.opts = { ...opts, log: (line) => opts.log(this.knownSecrets.redact(line)) };
    this.disconnected = new DisconnectedStore(join(opts.paths.stateDir, 'disconnected.json'), opts.log);
    this.store = new ConfigStore(opts.paths.configFile);
    let settings: ConfigFile['settings'];
    try {
      settings = this.store.read().settings;
    } catch (err) {
      opts.log(`config: ${errorMessage(err)}`);
      settings = emptyConfig().settings;
    }
    this.maxMessageBytes = settings.maxMessageBytes;
    this.recorder = new TrafficRecorder(settings.traffic);
    this.metrics = new MetricsService(
      {
        statuses: () => [...this.endpoints.values()].map((e) => e.health.status()),
        traffic: () => this.recorder.stats(),
      },
      this.opts.log,
      opts.metrics,
    );
    this.recorder.observe((input) => this.metrics.observe(input));
    this.recorder.observe((input) => this.tracer?.observe(input));
    this.knownSecrets.subscribe((patterns) => this.recorder.setSecrets(patterns));
    this.keychain = new SecretStore({
      onValue: (v) => this.knownSecrets.addStored(v),
      // The tray app may have saved the session bus since we started (see environment.ts).
      prepare: refreshSessionEnvironment,
    });
    setProxyCredentialsSource((name) => this.keychain.get(name, PROXY_SECRET));
    this.bindings = new CredentialBindings(join(opts.paths.stateDir, 'credential-bindings.json'));
    this.auth = new EndpointAuth({
      keychain: this.keychain,
      bindings: this.bindings,
      version: opts.version,
      oauthSettings: () => this.oauthSettings,
      learn: (value) => this.knownSecrets.add(value),
      log: (line) => this.opts.log(line),
      recorder: this.recorder,
    });
    this.server = new ControlServer(
      this.handlers(),
      () => this.maxMessageBytes,
      this.opts.log,
      () => this.knownSecrets.patterns,
    );
    this.stopped = new Promise((r) => (this.resolveStopped = r));
  }

  /**
   * Takes the single-instance lock and listens on the control socket.
   * @returns `{ started: false, pid }` when another engine already serves this socket
   * @throws TetherError ENGINE_START_FAILED when the socket cannot be bound
   */
  async start(): Promise<StartOutcome> {
    const { paths, log } = this.opts;
    mkdirSync(paths.runtimeDir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') chmodSync(paths.runtimeDir, 0o700);
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
    for (let tries = 0; ; tries++) {
      // Windows: the control pipe itself is the lock (see tryAcquirePipeLock); listen() below
      // fails with EADDRINUSE while another engine holds it.
      const lock =
        process.platform === 'win32' ? { path: '', release() {} } : tryAcquirePidLock(paths.lockFile);
      if ('release' in lock) {
        this.lock = lock;
        break;
      }
      // Another engine holds the lock: it is running, or starting (then wait for its socket).
      try {
        (await connectSocket(paths.socketPath)).destroy();
        return { started: false, pid: lock.heldBy };
      } catch {
        if (tries > 100) {
          throw new TetherError(
            ErrorCode.ENGINE_START_FAILED,
            `engine lock ${paths.lockFile} is held by pid ${lock.heldBy}, which does not answer on ${paths.socketPath}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (process.platform !== 'win32') {
      try {
        unlinkSync(paths.socketPath); // left by an engine that crashed: we hold the lock, so it is stale
      } catch {
        // none
      }
    }
    try {
      await this.server.listen(paths.socketPath);
    } catch (err) {
      this.lock.release();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && process.platform === 'win32') {
        try {
          (await connectSocket(paths.socketPath)).destroy();
          return { started: false, pid: 0 };
        } catch {
          // a pipe that does not answer: report the listen error
        }
      }
      throw new TetherError(
        ErrorCode.ENGINE_START_FAILED,
        `cannot listen on ${paths.socketPath}: ${errorMessage(err)}`,
        {},
        { cause: err },
      );
    }
    log(`engine ${this.opts.version} listening on ${paths.socketPath}`);
    let telemetry = emptyConfig().settings.telemetry;
    try {
      const config = this.sync();
      telemetry = config.settings.telemetry;
      // The keychain is not read at start (a background engine must not make it prompt; macOS
      // asks per item): each value is read, and so learned for redaction, before it is first sent.
    } catch (err) {
      log(`config: ${errorMessage(err)}`);
    }
    if (tracingWanted(telemetry.otlpEndpoint)) {
      try {
        this.tracer = await RequestTracer.start({ ...telemetry, version: this.opts.version, log });
      } catch (err) {
        log(`tracing: ${errorMessage(err)}`);
      }
    }
    if (this.opts.metrics) {
      try {
        await this.metrics.serveOption();
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
    return { started: true };
  }

  /**
   * Starts the browser inspector unless it runs already (then `port` is ignored).
   * @returns its URL, token included
   * @throws TetherError ENGINE_START_FAILED when the port cannot be bound
   */
  startInspector(port?: number): Promise<string> {
    if (!this.inspector) {
      const server = new InspectorServer({
        control: this.server,
        maxMessageBytes: () => this.maxMessageBytes,
        log: this.opts.log,
      });
      this.inspector = server.listen(port).then(
        (url) => {
          this.opts.log(`inspector listening on 127.0.0.1:${new URL(url).port}`);
          return url;
        },
        (err: unknown) => {
          this.inspector = undefined;
          throw err;
        },
      );
      this.inspectorServer = server;
    }
    return this.inspector;
  }

  /** The Prometheus scrape URL, while metrics are served. */
  metricsUrl(): string | undefined {
    return this.metrics.url();
  }

  /** Resolves when the engine has stopped. */
  whenStopped(): Promise<void> {
    return this.stopped;
  }

  /** Ends every session, closes the socket, releases the lock. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.opts.log('engine stopping');
      await this.inspectorServer?.close();
      await (await this.demo)?.close();
      await this.metrics.close();
      await this.server.close();
      await this.tracer?.shutdown().catch((err: unknown) => this.opts.log(`tracing: ${errorMessage(err)}`));
      await Promise.all([...this.endpoints.values()].map((e) => e.close()));
      this.endpoints.clear();
      if (process.platform !== 'win32') {
        try {
          unlinkSync(this.opts.paths.socketPath);
        } catch {
          // gone
        }
      }
      this.lock?.release();
      this.resolveStopped();
    })();
    return this.stopping;
  }

  /** Reads the config and brings the live endpoints in line with it. */
  private sync(): ConfigFile {
    const config = this.store.read();
    this.maxMessageBytes = config.settings.maxMessageBytes;
    this.oauthSettings = config.settings.oauth;
    this.recorder.setLimits(config.settings.traffic);
    this.metrics
      .apply(config.settings.metrics)
      .catch((err: unknown) => this.opts.log(`metrics: ${errorMessage(err)}`));
    for (const [name, ep] of this.endpoints) {
      const c = config.endpoints[name];
      if (!c) {
        this.endpoints.delete(name);
        this.opts.log(`endpoint ${name} removed`);
        this.eras.forget(name);
        try {
          ep.lastKnown.forget();
          this.disconnected.set(name, false);
        } catch (err) {
          this.opts.log(`endpoint ${name}: ${errorMessage(err)}`);
        }
        void ep.close();
      } else {
        ep.reconfigure(c);
      }
    }
    for (const [name, c] of Object.entries(config.endpoints)) {
      if (!this.endpoints.has(name)) {
        this.endpoints.set(
          name,
          new Endpoint(name, c, {
            recorder: this.recorder,
            maxMessageBytes: config.settings.maxMessageBytes,
            onStatus: (s) => this.broadcastStatus(s),
            knownHostsFiles: this.knownHostsFiles(),
            credentials: (n, ec, f) => this.auth.credentials(n, ec, f),
            eras: this.eras,
            stateDir: this.opts.paths.stateDir,
            disconnected: this.disconnected.has(name),
            signIn: (n) => this.auth.signIn(n, this.endpoint(n)),
          }),
        );
      }
    }
    return config;
  }

  /** The user's known_hosts, then the app's own (where `hosts trust` records keys). */
  private knownHostsFiles(): string[] {
    return [join(homedir(), '.ssh', 'known_hosts'), join(this.opts.paths.stateDir, 'known_hosts')];
  }

  private endpoint(name: string): Endpoint {
    this.sync();
    const ep = this.endpoints.get(name);
    if (!ep) {
      const known = [...this.endpoints.keys()];
      throw new TetherError(
        ErrorCode.ENDPOINT_NOT_FOUND,
        `no endpoint named "${name}"; ${known.length ? `known endpoints: ${known.join(', ')}` : 'no endpoints are configured yet'}`,
        { known, hint: 'Add one with `mcp-tether add <name> <url>`; list them with `mcp-tether list`.' },
      );
    }
    return ep;
  }

  private broadcastStatus(status: EndpointStatus): void {
    for (const c of this.statusSubscribers) c.notify('status/changed', { endpoint: status });
  }

  private summaries(): EndpointSummary[] {
    const config = this.sync();
    return Object.entries(config.endpoints).map(([name, c]) => ({
      name,
      config: c,
      status: this.endpoints.get(name)!.health.status(),
    }));
  }

  /** The control handlers, one module per domain (control/handlers/*.ts), over one context. */
  private handlers(): ControlHandlers {
    const ctx: HandlerContext = {
      version: this.opts.version,
      paths: this.opts.paths,
      startedAt: this.startedAt,
      log: (line) => this.opts.log(line),
      store: this.store,
      sync: () => this.sync(),
      endpoint: (name) => this.endpoint(name),
      summaries: () => this.summaries(),
      keychain: this.keychain,
      bindings: this.bindings,
      knownSecrets: this.knownSecrets,
      disconnected: this.disconnected,
      recorder: this.recorder,
      metrics: this.metrics,
      clients: this.clients,
      statusSubscribers: this.statusSubscribers,
      tracing: () => this.tracer !== undefined,
      maxMessageBytes: () => this.maxMessageBytes,
      startInspector: (port) => this.startInspector(port),
      stop: () => this.stop(),
      signIn: (name) => this.auth.signIn(name, this.endpoint(name)),
      knownHostsFiles: () => this.knownHostsFiles(),
      demoHost: () => (this.demo ??= loadDemoHost(ctx)),
    };
    return {
      ...engineHandlers(ctx),
      ...endpointHandlers(ctx),
      ...secretHandlers(ctx),
      ...authHandlers(ctx),
      ...networkHandlers(ctx),
      ...healthHandlers(ctx),
      ...trafficHandlers(ctx),
      ...clientHandlers(ctx),
      ...demoHandlers(ctx),
      ...shimHandlers(ctx),
    };
  }
}
