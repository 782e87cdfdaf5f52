/**
 * The live side of one configured endpoint: its keep-alive agents (shared by all its sessions), the
 * transport auto-detection found, the era of its server (legacy or modern, MCP 2026-07-28
 * basic/versioning), its health, its shim sessions and its probe. {@link Endpoint.open} puts the
 * bridge of `main/engine/protocol/` between a client and a server of different eras.
 */
import type { EndpointStatus } from '../../common/domain.js';
import type { EndpointConfig } from '../../common/schemas.js';
import type { EndpointCredentials } from '../auth/credentials.js';
import { EndpointHealth } from '../health/endpoint-health.js';
import { HealthProbe } from '../health/probe.js';
import type { TrafficRecorder } from '../traffic/recorder.js';
import { agentFetch } from '../net/agent-fetch.js';
import { createAgents, type Agents } from '../upstream/http.js';
import { openUpstream, type OpenUpstreamOptions } from '../upstream/open.js';
import { ToolParamHeaders } from '../upstream/param-headers.js';
import { resolveChain } from '../ssh/destination.js';
import { SshLink } from '../ssh/link.js';
import type {
  ConcreteTransport,
  OutboundMessage,
  UpstreamConnection,
  UpstreamHandlers,
} from '../upstream/types.js';
import type { EraRecord, EraStore } from '../protocol/era-store.js';
import { targetOf } from '../protocol/era-store.js';
import type { RelaySession } from './session.js';
import type { ProbedEndpoint, SessionEndpoint, SignIn } from './endpoint-ports.js';
import { EndpointEra, openInEra } from './endpoint-era.js';
import { LastKnown, lastKnownFile } from './last-known.js';

/** Dependencies of an {@link Endpoint}. */
export interface EndpointDeps {
  recorder: TrafficRecorder;
  /** Largest message accepted from the server (bytes). */
  maxMessageBytes: number;
  /** Called on every health change. */
  onStatus(status: EndpointStatus): void;
  /** known_hosts files for SSH endpoints: the user's, then the app's own (where trust adds keys). */
  knownHostsFiles: string[];
  /**
   * Makes the credentials of an endpoint whose config has `auth` (keychain secrets, OAuth);
   * `fetchFn` goes the endpoint's way (its CAs, proxy and SSH tunnel: net/agent-fetch.ts), for the
   * requests OAuth makes outside MCP sessions.
   */
  credentials?(name: string, config: EndpointConfig, fetchFn: typeof fetch): EndpointCredentials | undefined;
  /** Where the era of each endpoint's server is cached (in memory only when absent). */
  eras?: EraStore;
  /** The state directory, for the last known state (relay/last-known.ts); in memory when absent. */
  stateDir?: string;
  /** Starts disconnected (the user's choice, kept across engine restarts: relay/disconnect.ts). */
  disconnected?: boolean;
  /**
   * Signs an OAuth endpoint in, as `mcp-tether login` does (and binds its credentials to the
   * endpoint's server); undefined when the endpoint does not sign in with OAuth.
   */
  signIn?(name: string): SignIn | undefined;
}

/** See the module comment. */
export class Endpoint implements ProbedEndpoint, SessionEndpoint {
  private agents: Agents;
  /** The SSH connection, for an SSH endpoint (made on first use). */
  private link: SshLink | undefined;
  private detected: ConcreteTransport | undefined;
  readonly health: EndpointHealth;
  readonly sessions = new Set<RelaySession>();
  private probe: HealthProbe | undefined;
  /** Set by {@link close}: a session detaching afterwards must not start a new probe. */
  private closed = false;
  /** Per-request credentials, when the config has `auth`. */
  auth: EndpointCredentials | undefined;
  /** The era of the server: what is known, and its detection (relay/endpoint-era.ts). */
  private readonly era: EndpointEra;
  /** The `x-mcp-header` annotations learned from `tools/list`, shared by the endpoint's connections. */
  private toolHeaders = new ToolParamHeaders();
  /** The last known state of the server: offline start and the tools' annotations (last-known.ts). */
  lastKnown: LastKnown;
  /** Disconnected by the user: nothing is sent to the server (see {@link disconnect}). */
  disconnected = false;

  constructor(
    readonly name: string,
    public config: EndpointConfig,
    private readonly deps: EndpointDeps,
  ) {
    this.health = new EndpointHealth(name, (status) => {
      deps.onStatus(status);
      // The server answers again (the probe, another session): offline sessions re-open now.
      if (status.state === 'ready') for (const s of this.sessions) s.reconnect();
    });
    this.era = new EndpointEra({
      name,
      config: () => this.config,
      ...(deps.eras ? { store: deps.eras } : {}),
      openTransport: (handlers, first) => this.openTransport(handlers, first),
      found: (era, versions) => this.health.era(era, versions),
      event: (type, detail) => this.event(type, detail),
    });
    this.agents = this.makeAgents();
    this.auth = config.auth ? deps.credentials?.(name, config, this.authFetch(config)) : undefined;
    this.health.oauth = config.auth?.type === 'oauth';
    const known = this.knownEra();
    if (known) this.health.era(known.era, known.versions);
    this.lastKnown = this.makeLastKnown();
    if (deps.disconnected) {
      this.disconnected = true;
      this.health.setDisconnected(true);
    }
  }

  /** The last known state, in the state directory unless the config opts out (`offlineStart: false`). */
  private makeLastKnown(): LastKnown {
    const dir = this.config.offlineStart === false ? undefined : this.deps.stateDir;
    return new LastKnown(this.config, {
      file: dir ? lastKnownFile(dir, this.name) : undefined,
      mask: (text) => this.deps.recorder.mask(text),
      problem: (detail) => this.event('last-known', detail),
    });
  }

  /**
   * Disconnects the endpoint (issue 9 "Disconnect means disconnected"): its sessions' requests in
   * flight get ENDPOINT_DISCONNECTED and their upstream sessions end, the probe stops, the SSH
   * connection closes and the keep-alive sockets are destroyed; from then on its sessions answer
   * every request themselves (relay/resilience.ts). Health: `disconnected`.
   */
  async disconnect(): Promise<void> {
    this.disconnected = true;
    this.health.pinned = false;
    this.health.setDisconnected(true);
    this.updateProbe();
    await Promise.all([...this.sessions].map((s) => s.disconnect()));
    this.link?.close();
    this.link = undefined;
    const old = this.agents;
    this.agents = this.makeAgents();
    old.http.destroy();
    old.https.destroy();
  }

  /** Lifts {@link disconnect}: sessions re-open in the background and carry on. */
  connect(): void {
    if (!this.disconnected) return;
    this.disconnected = false;
    this.health.setDisconnected(false);
    for (const s of this.sessions) s.reconnect();
    this.updateProbe();
  }

  /** The endpoint's OAuth sign-in (what `mcp-tether login` runs), if it signs in with OAuth. */
  signIn(): SignIn | undefined {
    return this.deps.signIn?.(this.name);
  }

  /** A `fetch` over this endpoint's agents (its CAs, proxy and SSH tunnel), for OAuth requests. */
  private authFetch(config: EndpointConfig): typeof fetch {
    return agentFetch(() => this.agents, config.connectTimeoutMs);
  }

  /** Keep-alive agents; for an SSH endpoint their connections are channels of its SSH link. */
  private makeAgents(): Agents {
    return this.config.ssh
      ? createAgents((host, port) => this.sshLink().forwardOut(host, port), this)
      : createAgents(undefined, this);
  }

  /**
   * The endpoint's SSH connection, shared by all its sessions.
   * @throws TetherError INVALID_ARGUMENT, CONFIG_INVALID (the ssh destination or config)
   */
  sshLink(): SshLink {
    if (!this.link) {
      this.link = new SshLink({
        hops: resolveChain(this.config.ssh!),
        knownHostsFiles: this.deps.knownHostsFiles,
        connectTimeoutMs: this.config.connectTimeoutMs,
        keepaliveMs: 15_000,
        onEvent: (type, detail) =>
          this.deps.recorder.record({
            endpoint: this.name,
            session: 'ssh',
            kind: 'event',
            event: { type, detail },
          }),
      });
    }
    return this.link;
  }

  /**
   * Opens a transport to the server with `first` as its first message, whatever the eras.
   * @throws TetherError as {@link openUpstream}
   */
  openTransport(handlers: UpstreamHandlers, first: OutboundMessage): Promise<UpstreamConnection> {
    const opts: OpenUpstreamOptions = {
      name: this.name,
      config: this.config,
      handlers,
      agents: this.agents,
      maxMessageBytes: this.deps.maxMessageBytes,
    };
    if (this.auth) opts.auth = this.auth;
    if (this.detected) opts.detected = this.detected;
    opts.toolHeaders = this.toolHeaders;
    if (this.config.ssh) {
      try {
        opts.ssh = this.sshLink();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return openUpstream(opts, first);
  }

  /** The server's era as cached for the current config, if known. */
  knownEra(): EraRecord | undefined {
    return this.era.known();
  }

  /** The cached era proved wrong: forget it, so the next open probes again. */
  forgetEra(why: string): void {
    this.toolHeaders = new ToolParamHeaders();
    this.era.forget(why);
  }

  private event(type: string, detail: string): void {
    this.deps.recorder.record({
      endpoint: this.name,
      session: 'era',
      kind: 'event',
      event: { type, detail },
    });
  }

  /**
   * Finds the era of the server (see {@link EndpointEra.detect}).
   * @throws TetherError when the server cannot be reached (nothing is cached then)
   */
  detectEra(): Promise<EraRecord> {
    return this.era.detect();
  }

  /**
   * Opens an upstream session of this endpoint with `first` as its first message, through the era
   * bridge when client and server differ ({@link openInEra}).
   * @throws TetherError as {@link openUpstream}
   */
  open(handlers: UpstreamHandlers, first: OutboundMessage): Promise<UpstreamConnection> {
    return openInEra(this, handlers, first);
  }

  /** Remembers the transport a session ended up on, so later sessions skip detection. */
  noteTransport(transport: ConcreteTransport, protocolVersion?: string): void {
    this.detected = transport;
    this.health.negotiated(transport, protocolVersion);
  }

  /** A shim session attached. */
  attach(session: RelaySession): void {
    this.sessions.add(session);
    this.health.sessions = this.sessions.size;
    this.health.touched();
    this.updateProbe();
  }

  /** A shim session ended. */
  detach(session: RelaySession): void {
    this.sessions.delete(session);
    this.health.sessions = this.sessions.size;
    this.updateProbe();
    if (this.sessions.size === 0 && !this.health.pinned) this.health.idle();
    else this.health.touched();
  }

  /** Keeps the endpoint connected and probed with no session attached (or stops doing so). */
  setPinned(pinned: boolean): void {
    this.health.pinned = pinned;
    this.updateProbe();
    if (!pinned && this.sessions.size === 0) this.health.idle();
    else this.health.touched();
  }

  /** Applies a changed config: sessions re-open on their next message, detection starts over. */
  reconfigure(config: EndpointConfig): void {
    if (JSON.stringify(config) === JSON.stringify(this.config)) return;
    // Another server, or the opt-out: what was known of the old one goes (last-known.ts).
    if (targetOf(config) !== targetOf(this.config) || config.offlineStart === false) this.lastKnown.forget();
    this.config = config;
    this.lastKnown = this.makeLastKnown();
    this.detected = undefined;
    this.era.reset();
    this.auth = config.auth ? this.deps.credentials?.(this.name, config, this.authFetch(config)) : undefined;
    this.health.oauth = config.auth?.type === 'oauth';
    const old = this.agents;
    this.link?.close();
    this.link = undefined;
    this.agents = this.makeAgents();
    for (const s of this.sessions) s.dropUpstream();
    this.probe?.stop();
    this.probe = undefined;
    this.updateProbe();
    setTimeout(() => {
      old.http.destroy();
      old.https.destroy();
    }, 5000).unref();
  }

  private updateProbe(): void {
    const wanted =
      (this.sessions.size > 0 || this.health.pinned) &&
      this.config.pingIntervalMs > 0 &&
      !this.disconnected &&
      !this.closed;
    if (wanted && !this.probe) {
      this.probe = new HealthProbe(this, this.deps.recorder);
      this.probe.start();
    } else if (!wanted && this.probe) {
      this.probe.stop();
      this.probe = undefined;
    }
  }

  /** Ends every session and the probe; frees sockets. */
  async close(): Promise<void> {
    this.closed = true;
    this.probe?.stop();
    this.probe = undefined;
    await Promise.all([...this.sessions].map((s) => s.close()));
    this.sessions.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.link?.close();
  }
}
