/**
 * The live side of one configured endpoint: its keep-alive agents (shared by all its sessions), the
 * transport auto-detection found, its health, its shim sessions and its probe.
 */
import type { EndpointStatus } from '../../common/domain.js';
import type { EndpointConfig } from '../../common/schemas.js';
import type { EndpointCredentials } from '../auth/credentials.js';
import { EndpointHealth } from '../health/endpoint-health.js';
import { HealthProbe } from '../health/probe.js';
import type { TrafficRecorder } from '../traffic/recorder.js';
import { createAgents, type Agents } from '../upstream/http.js';
import { openUpstream, type OpenUpstreamOptions } from '../upstream/open.js';
import { resolveChain } from '../ssh/destination.js';
import { SshLink } from '../ssh/link.js';
import type {
  ConcreteTransport,
  OutboundMessage,
  UpstreamConnection,
  UpstreamHandlers,
} from '../upstream/types.js';
import type { RelaySession } from './session.js';

/** Dependencies of an {@link Endpoint}. */
export interface EndpointDeps {
  recorder: TrafficRecorder;
  /** Largest message accepted from the server (bytes). */
  maxMessageBytes: number;
  /** Called on every health change. */
  onStatus(status: EndpointStatus): void;
  /** known_hosts files for SSH endpoints: the user's, then the app's own (where trust adds keys). */
  knownHostsFiles: string[];
  /** Makes the credentials of an endpoint whose config has `auth` (keychain secrets, OAuth). */
  credentials?(name: string, config: EndpointConfig): EndpointCredentials | undefined;
}

/** See the module comment. */
export class Endpoint {
  private agents: Agents;
  /** The SSH connection, for an SSH endpoint (made on first use). */
  private link: SshLink | undefined;
  private detected: ConcreteTransport | undefined;
  readonly health: EndpointHealth;
  readonly sessions = new Set<RelaySession>();
  private probe: HealthProbe | undefined;
  /** Per-request credentials, when the config has `auth`. */
  auth: EndpointCredentials | undefined;

  constructor(
    readonly name: string,
    public config: EndpointConfig,
    private readonly deps: EndpointDeps,
  ) {
    this.health = new EndpointHealth(name, deps.onStatus);
    this.agents = this.makeAgents();
    this.auth = config.auth ? deps.credentials?.(name, config) : undefined;
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
   * Opens an upstream session of this endpoint with `first` as its first message.
   * @throws TetherError as {@link openUpstream}
   */
  open(handlers: UpstreamHandlers, first: OutboundMessage): Promise<UpstreamConnection> {
    const opts: OpenUpstreamOptions = {
      name: this.name,
      config: this.config,
      handlers,
      agents: this.agents,
      maxMessageBytes: this.deps.maxMessageBytes,
    };
    if (this.auth) opts.auth = this.auth;
    if (this.detected) opts.detected = this.detected;
    if (this.config.ssh) {
      try {
        opts.ssh = this.sshLink();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return openUpstream(opts, first);
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
    this.config = config;
    this.detected = undefined;
    this.auth = config.auth ? this.deps.credentials?.(this.name, config) : undefined;
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
    const wanted = (this.sessions.size > 0 || this.health.pinned) && this.config.pingIntervalMs > 0;
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
    this.probe?.stop();
    this.probe = undefined;
    await Promise.all([...this.sessions].map((s) => s.close()));
    this.sessions.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.link?.close();
  }
}
