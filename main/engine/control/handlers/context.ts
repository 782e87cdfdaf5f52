/**
 * What the control handlers (`control/handlers/*.ts`, one module per domain of the contract in
 * `main/common/control-api.ts`) see of the engine. {@link HandlerContext} names every part once;
 * each handler module takes a `Pick` of it, the parts its methods use, never the `Engine` itself.
 * An endpoint is seen through {@link ControlledEndpoint}, so no handler imports relay/endpoint.ts
 * (docs/architecture.md "Source layout").
 */
import type { EndpointSummary } from '../../../common/domain.js';
import type { TetherPaths } from '../../../common-node/paths.js';
import type { ConfigFile } from '../../../common/schemas.js';
import type { CredentialBindings } from '../../auth/bindings.js';
import type { EndpointCredentials } from '../../auth/credentials.js';
import type { EndpointSignIn } from '../../auth/endpoint-auth.js';
import type { ClientSetup } from '../../clients/index.js';
import type { ConfigStore } from '../../config/store.js';
import type { DemoHost } from '../../demo/index.js';
import type { EndpointHealth } from '../../health/endpoint-health.js';
import type { MetricsService } from '../../metrics/service.js';
import type { DisconnectedStore } from '../../relay/disconnect.js';
import type { SessionEndpoint } from '../../relay/endpoint-ports.js';
import type { RelaySession } from '../../relay/session.js';
import type { KnownSecrets } from '../../secrets/redact.js';
import type { SecretStore } from '../../secrets/store.js';
import type { TrafficRecorder } from '../../traffic/recorder.js';
import type { ControlConnection } from '../server.js';

/** What the control handlers need of a live endpoint (`Endpoint` implements it). */
export interface ControlledEndpoint extends SessionEndpoint {
  readonly health: SessionEndpoint['health'] & Pick<EndpointHealth, 'status'>;
  /** Per-request credentials, when the config has `auth`. */
  readonly auth: EndpointCredentials | undefined;
  /** Lifts a disconnect: the endpoint's sessions re-open in the background. */
  connect(): void;
  /** Disconnects the endpoint: requests in flight fail, upstream sessions and sockets close. */
  disconnect(): Promise<void>;
  /** Keeps the endpoint probed (and its health shown) while no session is attached. */
  setPinned(pinned: boolean): void;
  /** A shim session starts relaying through this endpoint. */
  attach(session: RelaySession): void;
  /** A shim session ended. */
  detach(session: RelaySession): void;
}

/** Every part of the engine a control handler may use; handler modules take a `Pick` of it. */
export interface HandlerContext {
  readonly version: string;
  readonly paths: TetherPaths;
  /** When the engine started (wall clock, ms). */
  readonly startedAt: number;
  log(line: string): void;
  readonly store: ConfigStore;
  /** Reads the config and brings the live endpoints in line with it. */
  sync(): ConfigFile;
  /**
   * The live endpoint `name`, after a {@link sync}.
   * @throws TetherError ENDPOINT_NOT_FOUND (data: `known`, the configured names)
   */
  endpoint(name: string): ControlledEndpoint;
  /** Every configured endpoint with its status, after a {@link sync}. */
  summaries(): EndpointSummary[];
  /** The OS keychain: the only place secrets are kept. */
  readonly keychain: SecretStore;
  /** Which server each endpoint's credentials were stored for (no secrets). */
  readonly bindings: CredentialBindings;
  /** Every secret value the engine has seen, masked in traffic records and control answers. */
  readonly knownSecrets: KnownSecrets;
  /** The endpoints the user disconnected, kept across restarts. */
  readonly disconnected: DisconnectedStore;
  readonly recorder: TrafficRecorder;
  readonly metrics: MetricsService;
  /** Writes MCP clients' config files. */
  readonly clients: ClientSetup;
  /** The connections that get `status/changed` notifications. */
  readonly statusSubscribers: Set<ControlConnection>;
  /** True while OpenTelemetry spans are exported. */
  tracing(): boolean;
  /** The longest line accepted from a shim (bytes), as of the last config read. */
  maxMessageBytes(): number;
  /**
   * Starts the browser inspector unless it runs already.
   * @returns its URL, token included
   * @throws TetherError ENGINE_START_FAILED when the port cannot be bound
   */
  startInspector(port?: number): Promise<string>;
  /** Ends every session, closes the socket, releases the lock. */
  stop(): Promise<void>;
  /**
   * The OAuth sign-in of endpoint `name`, or undefined when it does not sign in with OAuth.
   * @throws TetherError ENDPOINT_NOT_FOUND
   */
  signIn(name: string): EndpointSignIn | undefined;
  /** The user's known_hosts, then the app's own (where `hosts trust` records keys). */
  knownHostsFiles(): string[];
  /** The first-run demo, loaded on first use. */
  demoHost(): Promise<DemoHost>;
}
