/**
 * The engine's metrics as one object: the counters (always kept, for `status --json`) and the
 * scrape endpoint, started, moved or stopped as the `--metrics` option or the `metrics` setting of
 * endpoints.json says.
 */
import type { RequestCounters } from '../../common/domain.js';
import type { Settings } from '../../common/schemas.js';
import type { Logger } from '../log.js';
import type { RecordInput } from '../traffic/recorder.js';
import { EngineMetrics, type MetricsSources } from './metrics.js';
import { MetricsServer } from './server.js';

/** Where to serve, from the command line or the settings. */
export type MetricsListen = Settings['metrics'];

/** See the module comment. */
export class MetricsService {
  private readonly metrics: EngineMetrics;
  private server: MetricsServer | undefined;
  /** The listen setting last applied (JSON), served or not, to skip no-op changes. */
  private applied = JSON.stringify({});
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param fixed the `--metrics` option: when given, settings changes are ignored
   */
  constructor(
    sources: MetricsSources,
    private readonly log: Logger,
    private readonly fixed?: MetricsListen,
  ) {
    this.metrics = new EngineMetrics(sources);
  }

  /** Counts one traffic record (see EngineMetrics.observe). */
  observe(input: RecordInput): void {
    this.metrics.observe(input);
  }

  /** The scrape URL, when serving. */
  url(): string | undefined {
    if (!this.server) return undefined;
    const { host, port } = this.server.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
  }

  /** The request counters per endpoint and method. */
  counters(): Promise<RequestCounters[]> {
    return this.metrics.counters();
  }

  /**
   * Serves as the `metrics` setting says; ignored when the `--metrics` option was given. No-op
   * when the setting did not change since it was last tried (served or failed).
   * @throws TetherError INVALID_ARGUMENT, ENGINE_START_FAILED (see MetricsServer.listen)
   */
  apply(setting: MetricsListen): Promise<void> {
    return this.fixed ? Promise.resolve() : this.serve(setting);
  }

  /**
   * Serves at the `--metrics` address (nothing without the option).
   * @throws TetherError INVALID_ARGUMENT, ENGINE_START_FAILED (see MetricsServer.listen)
   */
  serveOption(): Promise<void> {
    return this.fixed ? this.serve(this.fixed) : Promise.resolve();
  }

  private serve(wanted: MetricsListen): Promise<void> {
    const key = JSON.stringify(wanted.listen ? wanted : {});
    const run = this.queue.then(async () => {
      if (key === this.applied) return;
      await this.server?.close();
      this.server = undefined;
      this.applied = key;
      if (!wanted.listen) return;
      this.server = await MetricsServer.listen(wanted.listen, {
        registry: this.metrics.registry,
        allowNonLoopback: wanted.allowNonLoopback,
      });
      this.log(`metrics served on ${this.url()}`);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops serving. */
  async close(): Promise<void> {
    await this.queue;
    await this.server?.close();
    this.server = undefined;
    this.applied = JSON.stringify({});
  }
}
