/**
 * The tray app's link to the engine: starts it (the app's own binary run as Node, through
 * `connectEngine`) or attaches to a running one, keeps the endpoints' status current, and restarts
 * the engine when its connection drops, by the policy of supervision.ts. Electron-free, so it is
 * tested against a real engine under plain Node.
 */
import type { Socket } from 'node:net';
import type { ControlMethod, ControlParams, ControlResult } from '../common/control-api.js';
import { ControlClient, connectEngine } from '../common-node/control-client.js';
import type { EndpointStatus } from '../common/domain.js';
import { ErrorCode, TetherError, errorMessage } from '../common/errors.js';
import type { TetherPaths } from '../common-node/paths.js';
import { DEFAULT_RESTART_POLICY, restartDecision, type RestartPolicy } from './supervision.js';
import type { EngineState } from './tray-model.js';

/** Options of {@link EngineSupervisor}. */
export interface SupervisorOptions {
  paths: TetherPaths;
  policy?: RestartPolicy;
  /** Connects to the engine, starting it when none runs (default: `connectEngine`). */
  connect?: (paths: TetherPaths) => Promise<Socket>;
  /** A monotonic clock (ms). */
  now?: () => number;
  /** How often the endpoint list is re-read, to see endpoints added or removed elsewhere (ms). */
  refreshMs?: number;
  log?: (line: string) => void;
}

/** What the supervisor reports on each change. */
export interface SupervisorSnapshot {
  engine: EngineState;
  engineError?: string;
  /** Every endpoint's status, in the config's order (empty until connected). */
  endpoints: EndpointStatus[];
}

/** See the module comment. */
export class EngineSupervisor {
  private client: ControlClient | undefined;
  private state: EngineState = 'starting';
  private error: string | undefined;
  private statuses: EndpointStatus[] = [];
  private deaths: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Bumped on every (re)connection, so a late event of an old connection is ignored. */
  private generation = 0;
  private readonly listeners = new Set<(s: SupervisorSnapshot) => void>();
  private readonly policy: RestartPolicy;
  private readonly connect: (paths: TetherPaths) => Promise<Socket>;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SupervisorOptions) {
    this.policy = opts.policy ?? DEFAULT_RESTART_POLICY;
    this.connect = opts.connect ?? ((paths) => connectEngine(paths));
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? (() => undefined);
  }

  /** Starts (or attaches to) the engine. Resolves after the first attempt, successful or not. */
  start(): Promise<void> {
    this.stopped = false;
    return this.attempt();
  }

  /** Stops supervising and closes the connection; the engine keeps running for its shims. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.refreshTimer);
    this.client?.close();
    this.client = undefined;
  }

  /** After the app gave up: forget the deaths and try again now. */
  restart(): Promise<void> {
    clearTimeout(this.timer);
    this.deaths = [];
    this.stopped = false;
    return this.attempt();
  }

  /** The current state. */
  snapshot(): SupervisorSnapshot {
    return {
      engine: this.state,
      ...(this.error ? { engineError: this.error } : {}),
      endpoints: [...this.statuses],
    };
  }

  /** Calls `cb` on every change of state or endpoint status. @returns unsubscribe */
  onChange(cb: (s: SupervisorSnapshot) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * Calls a control method on the supervisor's connection.
   * @throws TetherError ENGINE_UNAVAILABLE while the engine is not running, or the engine's error
   */
  async request<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    if (!this.client || this.state !== 'running') {
      throw new TetherError(ErrorCode.ENGINE_UNAVAILABLE, 'The MCP Tether engine is not running.');
    }
    return this.client.request(method, params);
  }

  /** Re-reads the endpoint list now (after the app changed it). */
  async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const { endpoints } = await client.request('endpoints/list', {});
      if (client !== this.client) return;
      this.statuses = endpoints.map((e) => e.status);
      this.emit();
    } catch {
      // The connection is going away: its close event restarts.
    }
  }

  private emit(): void {
    const s = this.snapshot();
    for (const l of this.listeners) l(s);
  }

  private setState(state: EngineState, error?: string): void {
    this.state = state;
    this.error = error;
    this.emit();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    let client: ControlClient;
    try {
      client = new ControlClient(await this.connect(this.opts.paths));
      client.onNotification('status/changed', ({ endpoint }) => {
        if (generation !== this.generation) return;
        const i = this.statuses.findIndex((s) => s.name === endpoint.name);
        if (i >= 0) this.statuses[i] = endpoint;
        else void this.refresh();
        this.emit();
      });
      await client.request('status/subscribe', {});
      const { endpoints } = await client.request('endpoints/list', {});
      if (this.stopped || generation !== this.generation) {
        client.close();
        return;
      }
      this.client = client;
      this.statuses = endpoints.map((e) => e.status);
    } catch (err) {
      if (generation === this.generation) this.died(errorMessage(err));
      return;
    }
    this.log('engine connected');
    this.setState('running');
    clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 5000);
    this.refreshTimer.unref();
    void client.closed().then(() => {
      if (generation !== this.generation || this.stopped) return;
      this.client = undefined;
      clearInterval(this.refreshTimer);
      this.died('the connection to the engine closed');
    });
  }

  private died(reason: string): void {
    if (this.stopped) return;
    const decision = restartDecision(this.deaths, this.now(), this.policy);
    this.deaths = decision.recent;
    this.statuses = [];
    if (decision.action === 'give-up') {
      this.log(`engine: ${reason}; ${decision.recent.length} times in a row, giving up`);
      this.setState('stopped', reason);
      return;
    }
    this.log(`engine: ${reason}; restarting in ${decision.delayMs} ms`);
    this.setState('restarting', reason);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attempt(), decision.delayMs);
  }
}
