/**
 * Health: per endpoint its state, the server's era and versions, the RTT history of the health check
 * (`ping`, or `server/discover` for a modern server), last error and reconnects; and the engine's facts.
 */
import type { EndpointSummary, EngineInfo } from '../../../main/common/domain.js';
import { Sparkline, StateBadge } from '../components/common.js';
import { duration } from '../../../main/common/duration.js';
import { formatBytes, formatLatency } from '../components/format.js';
import { useTick } from '../engine-state.js';
import type { Transport } from '../transport/types.js';
import { ObservabilityCard } from './observability.js';

/** See the module comment. */
export function HealthView({
  endpoints,
  engine,
  transport,
}: {
  endpoints: EndpointSummary[];
  engine: EngineInfo | undefined;
  transport: Transport;
}) {
  const now = useTick(1000);
  return (
    <section className="view health-view" aria-label="Health">
      <div className="toolbar">
        <h1>Health</h1>
      </div>
      {endpoints.length === 0 && <p className="muted">No endpoints yet.</p>}
      <div className="cards">
        {endpoints.map(({ name, status: s }) => {
          const rtts = s.rttHistory;
          return (
            <article className={`card health-${s.state}`} key={name} data-endpoint={name} aria-label={name}>
              <header>
                <h2>{name}</h2>
                <StateBadge state={s.state} />
              </header>
              <dl className="meta">
                <dt>In this state</dt>
                <dd>{duration(Math.max(0, now - Date.parse(s.since)))}</dd>
                <dt>Transport</dt>
                <dd>
                  {s.transport ?? '—'}
                  {s.protocolVersion ? ` · MCP ${s.protocolVersion}` : ''}
                </dd>
                <dt>Server era</dt>
                <dd data-testid="era">
                  {s.era ?? '—'}
                  {s.era === 'modern' && s.serverVersions ? ` · MCP ${s.serverVersions.join(', ')}` : ''}
                  {s.era === 'modern' &&
                  s.protocolVersion &&
                  s.protocolVersion < '2026-07-28' &&
                  !(s.serverVersions ?? []).some((v) => v < '2026-07-28')
                    ? ' · legacy clients bridged'
                    : ''}
                </dd>
                <dt>Sessions</dt>
                <dd>
                  {s.sessions}
                  {s.pinned ? ' · kept connected' : ''}
                </dd>
                <dt>Reconnects</dt>
                <dd data-testid="reconnects">{s.reconnects}</dd>
              </dl>
              <div className="rtt">
                <div className="rtt-head">
                  <span>{s.era === 'modern' ? 'server/discover RTT' : 'Ping RTT'}</span>
                  <span className="rtt-last" data-testid="rtt">
                    {s.rttMs !== undefined ? formatLatency(s.rttMs) : '—'}
                  </span>
                </div>
                <Sparkline values={rtts} label={`Ping RTT of ${name}`} />
                {rtts.length > 1 && (
                  <div className="rtt-range muted">
                    min {formatLatency(Math.min(...rtts))} · max {formatLatency(Math.max(...rtts))} ·{' '}
                    {rtts.length} pings
                  </div>
                )}
              </div>
              <div className="last-error-block">
                <span className="label">Last error</span>
                {s.lastError ? (
                  <div className="error-text" data-testid="last-error">
                    <code>{s.lastError.code}</code> {s.lastError.message}
                    <div className="muted small-text">{new Date(s.lastError.at).toLocaleString()}</div>
                  </div>
                ) : (
                  <span className="muted"> none</span>
                )}
              </div>
            </article>
          );
        })}
      </div>
      {engine && (
        <article className="card engine-card" aria-label="Engine">
          <header>
            <h2>Engine</h2>
            <span className="muted">
              v{engine.version} · pid {engine.pid}
            </span>
          </header>
          <dl className="meta wide">
            <dt>Up for</dt>
            <dd>{duration(Math.max(0, now - Date.parse(engine.startedAt)))}</dd>
            <dt>Memory</dt>
            <dd>
              {formatBytes(engine.rssBytes)} resident · {formatBytes(engine.heapUsedBytes)} heap
            </dd>
            <dt>Traffic ring</dt>
            <dd>
              {engine.traffic.records.toLocaleString()} / {engine.traffic.maxRecords.toLocaleString()} records
              · {formatBytes(engine.traffic.bytes)} / {formatBytes(engine.traffic.maxBytes)}
            </dd>
            <dt>Config</dt>
            <dd>
              <code>{engine.configFile}</code>
            </dd>
          </dl>
        </article>
      )}
      {engine && <ObservabilityCard transport={transport} />}
    </section>
  );
}
