/**
 * The engine (docs/architecture.md "Processes"): one process per user that owns the config, every
 * upstream connection, the traffic recorder and health, and serves the control socket.
 * Electron-free.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DoctorReport, EndpointStatus, EndpointSummary, EngineInfo } from '../common/domain.js';
import type { ObservabilitySettings } from '../common/control-api.js';
import { connectSocket } from '../common-node/control-client.js';
import { ErrorCode, JsonRpcErrorCode, TetherError, errorMessage } from '../common/errors.js';
import { errorResponseLine } from '../common/jsonrpc.js';
import type { TetherPaths } from '../common-node/paths.js';
import { tryAcquirePidLock, type PidLock } from '../common-node/pid-lock.js';
import { refreshSessionEnvironment } from './environment.js';
import { credentialOrigin } from '../common/origin.js';
import type { ConfigFile, EndpointConfig } from '../common/schemas.js';
import { openBrowser } from './auth/browser.js';
import { CredentialBindings } from './auth/bindings.js';
import { BoundCredentials, StaticCredentials, type EndpointCredentials } from './auth/credentials.js';
import { OAuthCredentials, type LoginResult, type OAuthDeps } from './auth/oauth.js';
import { TokenExchangeCredentials } from './auth/token-exchange.js';
import { ConfigStore, emptyConfig } from './config/store.js';
import { ControlServer, type ControlConnection, type ControlHandlers } from './control/server.js';
import { ClientSetup } from './clients/index.js';
import { currentLaunchContext, shimLaunch } from './clients/launch.js';
import type { DemoHost } from './demo/index.js';
import { runDoctor } from './health/doctor.js';
import { InspectorServer } from './inspector/server.js';
import { runSshDoctor } from './health/ssh-doctor.js';
import { probeSystem } from './health/system-probe.js';
import { loadCommandsFile } from './commands/spec.js';
import { MetricsService, type MetricsListen } from './metrics/service.js';
import { RequestTracer, tracingWanted } from './telemetry/tracing.js';
import { trustHostKeys } from './ssh/trust.js';
import type { Logger } from './log.js';
import { Endpoint } from './relay/endpoint.js';
import { EraStore } from './protocol/era-store.js';
import { DisconnectedStore } from './relay/disconnect.js';
import { RelaySession } from './relay/session.js';
import { TrafficRecorder } from './traffic/recorder.js';
import { PROXY_SECRET, parsePemCertificates, proxySecretCommand } from '../common-node/net.js';
import { setProxyCredentialsSource, setSystemProxies } from './net/proxy.js';
import {
  OAUTH_TOKENS_PREFIX,
  resolveSecretToSet,
  secretNameMatches,
  staticSecretName,
} from './secrets/names.js';
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

  private observability(): ObservabilitySettings {
    const { metrics, telemetry } = this.sync().settings;
    const url = this.metrics.url();
    return { metrics, telemetry, tracing: this.tracer !== undefined, ...(url ? { metricsUrl: url } : {}) };
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
            credentials: (n, ec, f) => this.credentials(n, ec, f),
            eras: this.eras,
            stateDir: this.opts.paths.stateDir,
            disconnected: this.disconnected.has(name),
            signIn: (n) => this.signIn(n),
          }),
        );
      }
    }
    return config;
  }

  /**
   * The OAuth sign-in of an endpoint (`login`, and the in-chat sign-in of relay/resilience.ts), or
   * undefined when it does not sign in with OAuth. Signing in is consent: afterwards the endpoint's
   * credentials are bound to its server and their RFC 8707 resource.
   * @throws TetherError ENDPOINT_NOT_FOUND
   */
  private signIn(
    name: string,
  ): ((opts: Parameters<OAuthCredentials['login']>[0]) => Promise<LoginResult>) | undefined {
    const ep = this.endpoint(name);
    const unbound = ep.auth instanceof BoundCredentials ? ep.auth.inner : ep.auth;
    const oauth = unbound instanceof TokenExchangeCredentials ? unbound.signIn : unbound;
    if (!(oauth instanceof OAuthCredentials)) return undefined;
    return async (opts) => {
      const result = await oauth.login(opts);
      this.bindings.bind(name, {
        origin: credentialOrigin(ep.config),
        ...(result.resource ? { resource: result.resource } : {}),
      });
      return result;
    };
  }

  /** The credentials of an endpoint with `auth`, sent only to the server they were stored for. */
  private credentials(
    name: string,
    config: EndpointConfig,
    fetchFn: typeof fetch,
  ): EndpointCredentials | undefined {
    const inner = this.unboundCredentials(name, config, fetchFn);
    return inner && new BoundCredentials(inner, name, config, this.bindings);
  }

  private unboundCredentials(
    name: string,
    config: EndpointConfig,
    fetchFn: typeof fetch,
  ): EndpointCredentials | undefined {
    const auth = config.auth;
    if (!auth) return undefined;
    if (auth.type === 'bearer' || auth.type === 'header')
      return new StaticCredentials(name, auth, this.keychain);
    const deps: Omit<OAuthDeps, 'auth'> = {
      endpoint: name,
      url: config.url ?? '',
      store: this.keychain,
      version: this.opts.version,
      fetchFn,
      ...(this.oauthSettings?.clientMetadataUrl
        ? { defaultClientMetadataUrl: this.oauthSettings.clientMetadataUrl }
        : {}),
      openBrowser: (url) => openBrowser(url),
      learn: (value) => this.knownSecrets.add(value),
      event: (type, detail) => {
        this.opts.log(`endpoint ${name}: ${detail}`);
        this.recorder.record({ endpoint: name, session: 'auth', kind: 'event', event: { type, detail } });
      },
    };
    return auth.type === 'oauth'
      ? new OAuthCredentials({ ...deps, auth })
      : new TokenExchangeCredentials({ ...deps, auth });
  }

  /** The demo host, made on first use. */
  private demoHost(): Promise<DemoHost> {
    this.demo ??= import('./demo/index.js').then(
      ({ DemoHost }) =>
        new DemoHost({
          version: this.opts.version,
          log: this.opts.log,
          endpointConfig: (name) => this.store.read().endpoints[name],
          saveEndpoint: (name, config) => {
            this.store.update((c) => {
              c.endpoints[name] = config;
            });
            this.sync();
          },
          removeEndpoint: (name) => {
            this.store.update((c) => {
              delete c.endpoints[name];
            });
            this.sync();
          },
          shimLaunch: (name) => shimLaunch(name, currentLaunchContext()),
          lastSeq: () => this.recorder.stats().lastSeq,
          queryTraffic: (filter) => this.recorder.query(filter),
          inspectorUrl: () => this.startInspector(),
          openBrowser: (url) => openBrowser(url),
        }),
    );
    return this.demo;
  }

  /** The layered doctor of one endpoint (over SSH or not). @throws TetherError ENDPOINT_NOT_FOUND */
  private runEndpointDoctor(name: string): Promise<DoctorReport> {
    const { config, auth } = this.endpoint(name);
    return config.ssh ? runSshDoctor(name, config, this.knownHostsFiles()) : runDoctor(name, config, auth);
  }

  /**
   * Stores an endpoint's proxy credentials (`user:password`) and marks the endpoint to send them.
   * @throws TetherError INVALID_ARGUMENT (an SSH endpoint, or no `:`), KEYCHAIN_UNAVAILABLE
   */
  private async setProxySecret(ep: Endpoint, value: string): Promise<{ endpoint: string; name: string }> {
    if (ep.config.ssh)
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `${ep.name} is reached over SSH: no HTTP proxy applies to it`,
      );
    const colon = value.indexOf(':');
    if (colon <= 0)
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, 'proxy credentials are USER:PASSWORD', {
        hint: proxySecretCommand(ep.name),
      });
    this.knownSecrets.add(value.slice(colon + 1));
    await this.keychain.set(ep.name, PROXY_SECRET, value);
    if (!ep.config.proxyAuth) {
      this.store.update((c) => {
        const e = c.endpoints[ep.name];
        if (e) e.proxyAuth = true;
      });
      this.sync();
    }
    this.opts.log(`secret ${ep.name}/${PROXY_SECRET} stored in the OS keychain`);
    return { endpoint: ep.name, name: PROXY_SECRET };
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

  /**
   * Checks the endpoint a traffic filter names: refused only when it is neither configured nor in
   * the ring, so the records of a removed endpoint stay readable until evicted.
   * @throws TetherError ENDPOINT_NOT_FOUND
   */
  private trafficEndpoint(name: string | undefined): void {
    if (name !== undefined && !this.recorder.holds(name)) this.endpoint(name);
  }

  private broadcastStatus(status: EndpointStatus): void {
    for (const c of this.statusSubscribers) c.notify('status/changed', { endpoint: status });
  }

  private info(): EngineInfo {
    const t = this.recorder.stats();
    return {
      pid: process.pid,
      version: this.opts.version,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: Date.now() - this.startedAt,
      socketPath: this.opts.paths.socketPath,
      configFile: this.opts.paths.configFile,
      ...(({ rss, heapUsed, external }) => ({
        rssBytes: rss,
        heapUsedBytes: heapUsed,
        externalBytes: external,
      }))(process.memoryUsage()),
      traffic: { records: t.records, bytes: t.bytes, maxRecords: t.maxRecords, maxBytes: t.maxBytes },
    };
  }

  private summaries(): EndpointSummary[] {
    const config = this.sync();
    return Object.entries(config.endpoints).map(([name, c]) => ({
      name,
      config: c,
      status: this.endpoints.get(name)!.health.status(),
    }));
  }

  private summary(name: string): EndpointSummary {
    return this.summaries().find((s) => s.name === name)!;
  }

  private handlers(): ControlHandlers {
    return {
      'engine/info': () => this.info(),
      'engine/inspector': async ({ port }) => ({ url: await this.startInspector(port) }),
      'engine/shutdown': () => {
        setImmediate(() => void this.stop());
        return {};
      },
      'endpoints/list': () => ({ endpoints: this.summaries() }),
      'endpoints/add': ({ name, endpoint }) => {
        if (endpoint.commandsFile) loadCommandsFile(endpoint.commandsFile);
        if (endpoint.ca) parsePemCertificates(endpoint.ca, `the CA certificates (ca) of ${name}`);
        this.store.update((c) => {
          if (c.endpoints[name]) {
            throw new TetherError(ErrorCode.ENDPOINT_EXISTS, `an endpoint named "${name}" exists already`, {
              hint: `Remove it first (mcp-tether remove ${name}) or choose another name.`,
            });
          }
          c.endpoints[name] = endpoint;
        });
        this.opts.log(`endpoint ${name} added (${endpoint.transport} ${endpoint.url})`);
        return { endpoint: this.summary(name) };
      },
      'endpoints/update': ({ name, endpoint }) => {
        if (endpoint.ca) parsePemCertificates(endpoint.ca, `the CA certificates (ca) of ${name}`);
        this.endpoint(name);
        if (endpoint.commandsFile) loadCommandsFile(endpoint.commandsFile);
        this.store.update((c) => {
          c.endpoints[name] = endpoint;
        });
        const bound = endpoint.auth && endpoint.url ? this.bindings.get(name) : undefined;
        const to = bound && credentialOrigin(endpoint);
        return {
          endpoint: this.summary(name),
          ...(bound && to !== bound.origin ? { credentialsMoved: { from: bound.origin, to: to! } } : {}),
        };
      },
      'endpoints/remove': async ({ name, keepSecrets }) => {
        const { config } = this.endpoint(name);
        let deletedSecrets: string[] | undefined;
        // An endpoint without auth never touched the keychain: removing it does not either.
        if ((config.auth || config.proxyAuth) && !keepSecrets) {
          try {
            deletedSecrets = await this.keychain.deleteAll(name);
          } catch (err) {
            const e = err as TetherError;
            throw new TetherError(
              e.code,
              `${e.message}; ${name} was not removed, so its secrets are not orphaned`,
              {
                hint: `${e.hint ?? ''} Or remove it and leave its secrets: mcp-tether remove ${name} --keep-secrets`.trim(),
              },
            );
          }
        }
        this.store.update((c) => {
          delete c.endpoints[name];
        });
        this.sync();
        if (deletedSecrets) this.bindings.forget(name);
        if (deletedSecrets?.length)
          this.opts.log(`endpoint ${name}: ${deletedSecrets.length} secret(s) deleted`);
        return deletedSecrets ? { deletedSecrets } : {};
      },
      'secrets/set': async ({ endpoint: name, name: given, value }) => {
        const ep = this.endpoint(name);
        if (given === PROXY_SECRET) return this.setProxySecret(ep, value);
        const secret = resolveSecretToSet(name, ep.config.auth, given);
        await this.keychain.set(name, secret, value);
        // The user gave this value for the server the endpoint names now.
        this.bindings.bind(name, { origin: credentialOrigin(ep.config) });
        ep.auth?.invalidate();
        this.opts.log(`secret ${name}/${secret} stored in the OS keychain`);
        return { endpoint: name, name: secret };
      },
      'secrets/delete': async ({ endpoint: name, name: given, all }) => {
        const ep = this.sync().endpoints[name] ? this.endpoints.get(name) : undefined;
        let wanted: (stored: string) => boolean;
        if (all) wanted = () => true;
        else if (given !== undefined) wanted = (stored) => secretNameMatches(stored, given);
        else {
          const auth = this.endpoint(name).config.auth;
          if (!auth)
            throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${name} has no credentials configured`, {
              hint: `Name the secret (--name), or delete all of ${name}'s: mcp-tether secret delete ${name} --all`,
            });
          const own =
            auth.type === 'oauth' || auth.type === 'token-exchange' ? undefined : staticSecretName(auth);
          // For OAuth, deleting the endpoint's secret means signing out: its tokens go.
          wanted = (stored) => (own ? stored === own : stored.startsWith(OAUTH_TOKENS_PREFIX));
        }
        const deleted: string[] = [];
        for (const s of await this.keychain.list(name)) {
          if (wanted(s.name) && (await this.keychain.delete(name, s.name))) deleted.push(s.name);
        }
        ep?.auth?.invalidate();
        if (deleted.length && (all || given === undefined)) this.bindings.forget(name);
        if (deleted.length) this.opts.log(`secret(s) of ${name} deleted: ${deleted.join(', ')}`);
        return { deleted };
      },
      'secrets/list': async ({ endpoint }) => ({ secrets: await this.keychain.list(endpoint) }),
      'auth/login': async ({ endpoint: name, openBrowser: open, timeoutMs }, conn) => {
        const signIn = this.signIn(name);
        if (!signIn) {
          throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${name} does not sign in with OAuth`, {
            hint: `Only endpoints added with --auth oauth sign in; for a token: mcp-tether secret set ${name}`,
          });
        }
        return signIn({
          openBrowser: open,
          timeoutMs,
          onUrl: (url) => conn.notify('auth/authorize', { endpoint: name, url }),
        });
      },
      'secrets/rebind': ({ endpoint: name }) => {
        const ep = this.endpoint(name);
        if (!ep.config.auth)
          throw new TetherError(ErrorCode.INVALID_ARGUMENT, `${name} has no credentials configured`, {
            hint: `Nothing to rebind; add credentials with mcp-tether add ${name} … --auth bearer|header:NAME|oauth.`,
          });
        const origin = credentialOrigin(ep.config);
        const url = ep.config.url!.replace(/^ws(s?):/i, 'http$1:');
        const previous = this.bindings.bind(name, {
          origin,
          ...(ep.config.auth.type === 'oauth' ? { resource: url } : {}),
        });
        ep.auth?.invalidate();
        this.opts.log(`credentials of ${name} bound to ${origin} (were ${previous?.origin ?? 'unbound'})`);
        return {
          endpoint: name,
          origin,
          ...(previous ? { previous: previous.resource ?? previous.origin } : {}),
        };
      },
      'net/system-proxies': ({ proxies }) => {
        setSystemProxies(proxies);
        return {};
      },
      'endpoints/connect': ({ name }) => {
        const ep = this.endpoint(name);
        this.disconnected.set(name, false);
        ep.connect();
        ep.setPinned(true);
        return ep.health.status();
      },
      'endpoints/disconnect': async ({ name }) => {
        const ep = this.endpoint(name);
        this.disconnected.set(name, true);
        await ep.disconnect();
        return ep.health.status();
      },
      'status/get': async ({ endpoint }) => {
        const list = endpoint
          ? [this.endpoint(endpoint).health.status()]
          : this.summaries().map((s) => s.status);
        const requests = (await this.metrics.counters()).filter((c) => !endpoint || c.endpoint === endpoint);
        const url = this.metrics.url();
        return { engine: this.info(), endpoints: list, metrics: url ? { url, requests } : { requests } };
      },
      'settings/get': () => this.observability(),
      'settings/update': async ({ metrics, telemetry }) => {
        const config = this.store.update((c) => {
          if (metrics) c.settings.metrics = metrics;
          if (telemetry) c.settings.telemetry = telemetry;
        });
        // Served here, not by the next sync, so a failure reaches the caller.
        await this.metrics.apply(config.settings.metrics);
        this.sync();
        return this.observability();
      },
      'status/subscribe': (_p, conn) => {
        this.statusSubscribers.add(conn);
        conn.onClose(() => this.statusSubscribers.delete(conn));
        return { endpoints: this.summaries().map((s) => s.status) };
      },
      'traffic/query': (filter) => {
        this.trafficEndpoint(filter.endpoint);
        return { records: this.recorder.query(filter) };
      },
      'traffic/subscribe': (filter, conn) => {
        this.trafficEndpoint(filter.endpoint);
        const { limit: _l, afterSeq: _a, ...live } = filter;
        const unsubscribe = this.recorder.subscribe(live, (record) =>
          conn.notify('traffic/record', { record }),
        );
        conn.onClose(unsubscribe);
        return { lastSeq: this.recorder.stats().lastSeq };
      },
      'clients/install': ({ endpoint, client, configFile }) => {
        this.endpoint(endpoint);
        const change = this.clients.install(endpoint, client, configFile);
        this.opts.log(`client ${client}: ${endpoint} ${change.action} in ${change.configFile}`);
        return change;
      },
      'clients/uninstall': ({ endpoint, client, configFile }) => {
        const change = this.clients.uninstall(endpoint, client, configFile);
        this.opts.log(`client ${client}: ${endpoint} ${change.action} in ${change.configFile}`);
        return change;
      },
      'clients/snippet': ({ endpoint, client }) => {
        this.endpoint(endpoint);
        return this.clients.snippet(endpoint, client);
      },
      'clients/list': ({ endpoint }) => ({ clients: this.clients.list(endpoint) }),
      'doctor/run': ({ name }) => this.runEndpointDoctor(name),
      'doctor/system': ({ runtime }) =>
        probeSystem({
          paths: this.opts.paths,
          readConfig: () => this.store.read(),
          keychainList: () => this.keychain.list(),
          clientPaths: { platform: process.platform, env: process.env, home: homedir() },
          doctor: (name) => this.runEndpointDoctor(name),
          ...(runtime
            ? { callerRuntime: { ...runtime, role: 'CLI', platform: runtime.platform as NodeJS.Platform } }
            : {}),
        }),
      'demo/run': async (params, conn) =>
        (await this.demoHost()).run(params, (step) => conn.notify('demo/step', { step })),
      'demo/stop': async ({ remove }) => (await this.demoHost()).stop(remove),
      'hosts/trust': ({ endpoint: name, fingerprint, replace }) => {
        const { config } = this.endpoint(name);
        if (!config.ssh)
          throw new TetherError(
            ErrorCode.INVALID_ARGUMENT,
            `${name} is not reached over SSH: it has no host keys to trust`,
          );
        const files = this.knownHostsFiles();
        return trustHostKeys(config, files, files[files.length - 1]!, fingerprint, replace);
      },
      'shim/attach': ({ endpoint: name, resume }, conn) => {
        const ep = this.endpoint(name);
        const id = randomUUID().slice(0, 8);
        const session = new RelaySession({
          endpoint: ep,
          session: id,
          recorder: this.recorder,
          // `#<id>` before an answer tells the shim which request it settles (see shim/attach).
          write: (line, answers) =>
            answers === undefined
              ? conn.writeLine(line)
              : conn.writeLine(`#${JSON.stringify(answers)}`, line),
          end: () => conn.end(),
        });
        if (resume) session.resume(resume.initialize);
        ep.attach(session);
        this.opts.log(`session ${id} attached to ${name}`);
        const maxMessageBytes = this.maxMessageBytes;
        const { maxQueuedBytes, stalledClientMs } = this.store.read().settings;
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
                  this.opts.log(`session ${id} of ${name}: ${e.message}`);
                  session.endStalled(e);
                }, stalledClientMs);
              },
            },
            closed: () => {
              clearTimeout(stall);
              void session.close();
              ep.detach(session);
              this.opts.log(`session ${id} detached from ${name}`);
            },
          },
        };
      },
    };
  }
}
