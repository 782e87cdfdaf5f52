/**
 * The Health screen's observability card: where the engine serves Prometheus metrics and exports
 * OpenTelemetry traces (the `metrics` and `telemetry` settings of endpoints.json, through
 * `settings/get` and `settings/update`; the engine validates them).
 */
import { useEffect, useState } from 'react';
import type { ObservabilitySettings } from '../../../main/common/control-api.js';
import { ErrorNote } from '../components/common.js';
import { toTetherError, type TetherError } from '../../../main/common/errors.js';
import type { Transport } from '../transport/types.js';

/** See the module comment. */
export function ObservabilityCard({ transport }: { transport: Transport }) {
  const [current, setCurrent] = useState<ObservabilitySettings>();
  const [listen, setListen] = useState('');
  const [otlp, setOtlp] = useState('');
  const [error, setError] = useState<TetherError>();
  const [saving, setSaving] = useState(false);

  const show = (s: ObservabilitySettings) => {
    setCurrent(s);
    setListen(s.metrics.listen ?? '');
    setOtlp(s.telemetry.otlpEndpoint ?? '');
  };
  useEffect(() => {
    transport.call('settings/get', {}).then(show, (err: unknown) => setError(toTetherError(err)));
  }, [transport]);

  const save = async () => {
    if (!current) return;
    setSaving(true);
    setError(undefined);
    try {
      const metrics = { ...current.metrics, listen: listen.trim() || undefined };
      const telemetry = { ...current.telemetry, otlpEndpoint: otlp.trim() || undefined };
      if (!metrics.listen) delete metrics.listen;
      if (!telemetry.otlpEndpoint) delete telemetry.otlpEndpoint;
      show(await transport.call('settings/update', { metrics, telemetry }));
    } catch (err) {
      setError(toTetherError(err));
      transport.call('settings/get', {}).then(setCurrent, () => undefined);
    } finally {
      setSaving(false);
    }
  };

  const tracesPending = current && (current.telemetry.otlpEndpoint !== undefined) !== current.tracing;
  return (
    <article className="card engine-card" aria-label="Observability">
      <header>
        <h2>Observability</h2>
      </header>
      <form
        className="editor"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <ErrorNote error={error} />
        <div className="form-grid">
          <div className="field">
            <label htmlFor="metrics-listen">Prometheus metrics address</label>
            <input
              id="metrics-listen"
              value={listen}
              onChange={(e) => setListen(e.target.value)}
              placeholder="127.0.0.1:9464"
              spellCheck={false}
            />
            <div className="help" data-testid="metrics-url">
              {current?.metricsUrl ? `Serving ${current.metricsUrl}` : 'Off. Loopback addresses only.'}
            </div>
          </div>
          <div className="field">
            <label htmlFor="otlp-endpoint">OTLP/HTTP trace endpoint</label>
            <input
              id="otlp-endpoint"
              value={otlp}
              onChange={(e) => setOtlp(e.target.value)}
              placeholder="http://127.0.0.1:4318"
              spellCheck={false}
            />
            <div className="help">
              {current?.tracing ? 'Exporting a span per request.' : 'Off.'}
              {tracesPending ? ' Takes effect when the engine restarts.' : ''}
            </div>
          </div>
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={saving || !current}>
            Save
          </button>
        </div>
      </form>
    </article>
  );
}
