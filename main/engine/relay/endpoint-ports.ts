/**
 * The narrow views (ports) of an endpoint that its parts get: the health probe and a relay session
 * see only what they need of their endpoint (open a connection, read the config, report an outcome
 * to its health), never the `Endpoint` class, so neither imports relay/endpoint.ts and `main/` has no
 * import cycle (docs/architecture.md "Source layout"). `Endpoint` implements both.
 */
import type { EndpointConfig } from '../../common/schemas.js';
import type { EndpointHealth } from '../health/endpoint-health.js';
import type { EraRecord } from '../protocol/era-store.js';
import type {
  ConcreteTransport,
  OutboundMessage,
  UpstreamConnection,
  UpstreamHandlers,
} from '../upstream/types.js';
import type { LastKnown } from './last-known.js';

/** Starts (or joins) an endpoint's OAuth sign-in; `onUrl` gets the authorization URL. */
export type SignIn = (opts: {
  openBrowser: boolean;
  timeoutMs: number;
  onUrl(url: string): void;
}) => Promise<unknown>;

/** What the health probe (health/probe.ts) needs of its endpoint. */
export interface ProbedEndpoint {
  readonly name: string;
  /** The current config (read at each use: a reconfigure replaces it). */
  readonly config: EndpointConfig;
  /** Where the probe reports its outcomes. */
  readonly health: Pick<EndpointHealth, 'connecting' | 'pinged' | 'failed'>;
  /**
   * Opens a transport to the server with `first` as its first message, whatever the eras.
   * @throws TetherError as upstream/open.ts `openUpstream`
   */
  openTransport(handlers: UpstreamHandlers, first: OutboundMessage): Promise<UpstreamConnection>;
  /** The server's era as cached for the current config, if known. */
  knownEra(): EraRecord | undefined;
  /**
   * Finds the server's era (cached).
   * @throws TetherError when the server cannot be reached
   */
  detectEra(): Promise<EraRecord>;
  /** The cached era proved wrong: the next open probes again. */
  forgetEra(why: string): void;
  /** Remembers the transport a connection ended up on (shown in status). */
  noteTransport(transport: ConcreteTransport, protocolVersion?: string): void;
}

/** What a relay session (relay/session.ts, relay/resilience.ts) needs of its endpoint. */
export interface SessionEndpoint {
  readonly name: string;
  /** The current config (read at each use: a reconfigure replaces it). */
  readonly config: EndpointConfig;
  /** Where the session reports its outcomes. */
  readonly health: Pick<
    EndpointHealth,
    'connecting' | 'failed' | 'negotiated' | 'ok' | 'reconnected' | 'servedFromCache'
  >;
  /** True while the user has disconnected the endpoint: nothing is sent to the server. */
  readonly disconnected: boolean;
  /** The last known state of the server (relay/last-known.ts). */
  readonly lastKnown: LastKnown;
  /**
   * Opens an upstream session with `first` as its first message, bridged when the eras differ.
   * @throws TetherError as upstream/open.ts `openUpstream`
   */
  open(handlers: UpstreamHandlers, first: OutboundMessage): Promise<UpstreamConnection>;
  /** Remembers the transport a session ended up on, so later sessions skip detection. */
  noteTransport(transport: ConcreteTransport, protocolVersion?: string): void;
  /** The endpoint's OAuth sign-in, if it signs in with OAuth. */
  signIn(): SignIn | undefined;
}
