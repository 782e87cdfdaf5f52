/** The endpoints list: every endpoint with its live state, and what can be done with it. */
import { useState } from 'react';
import type { EndpointSummary } from '../../../main/common/domain.js';
import { describeTarget } from '../../../main/common/target.js';
import { ErrorNote, StateBadge } from '../components/common.js';
import { formatLatency } from '../components/format.js';
import { toTetherError, type TetherError } from '../../../main/common/errors.js';
import type { Transport } from '../transport/types.js';

/** Props of {@link EndpointsView}. */
export interface EndpointsViewProps {
  transport: Transport;
  endpoints: EndpointSummary[];
  loaded: boolean;
  onAdd(): void;
  onEdit(endpoint: EndpointSummary): void;
  onTrust(endpoint: EndpointSummary): void;
  /** Opens client setup (install into Claude Desktop, Cursor…). */
  onSetUp(endpoint: EndpointSummary): void;
  reload(): Promise<void>;
}

/** See the module comment. */
/** True when Disconnect is what the button offers: kept connected or in use, not disconnected. */
function connected(s: EndpointSummary['status']): boolean {
  return s.state !== 'disconnected' && (s.pinned || s.sessions > 0);
}

export function EndpointsView({
  transport,
  endpoints,
  loaded,
  onAdd,
  onEdit,
  onTrust,
  onSetUp,
  reload,
}: EndpointsViewProps) {
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<TetherError>();

  const act = async (name: string, what: () => Promise<unknown>) => {
    setBusy(name);
    setError(undefined);
    try {
      await what();
      await reload();
    } catch (err) {
      setError(toTetherError(err));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section className="view endpoints-view" aria-label="Endpoints">
      <div className="toolbar">
        <h1>Endpoints</h1>
        <span className="grow" />
        <button type="button" className="primary" onClick={onAdd}>
          Add endpoint
        </button>
      </div>
      <ErrorNote error={error} />
      {loaded && endpoints.length === 0 ? (
        <div className="empty">
          <p>No endpoints yet.</p>
          <p className="muted">
            Add a remote MCP server, then point your MCP client at <code>mcp-tether shim &lt;name&gt;</code>.
          </p>
          <button type="button" className="primary" onClick={onAdd}>
            Add endpoint
          </button>
        </div>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>State</th>
              <th>Name</th>
              <th>Transport</th>
              <th>Target</th>
              <th className="num">Sessions</th>
              <th className="num">Ping</th>
              <th className="actions-col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((e) => {
              const s = e.status;
              return (
                <tr key={e.name} data-endpoint={e.name}>
                  <td>
                    <StateBadge state={s.state} />
                    {s.pinned && (
                      <span className="tag" title="Kept connected and probed">
                        connected
                      </span>
                    )}
                  </td>
                  <td className="name">{e.name}</td>
                  <td>
                    {s.transport ?? e.config.transport}
                    {s.transport && e.config.transport === 'auto' && <span className="muted"> (auto)</span>}
                  </td>
                  <td className="target" title={describeTarget(e.config)}>
                    {describeTarget(e.config)}
                    {s.lastError && s.state !== 'ready' && (
                      <div className="last-error" title={s.lastError.message}>
                        {s.lastError.code}: {s.lastError.message}
                      </div>
                    )}
                  </td>
                  <td className="num">{s.sessions}</td>
                  <td className="num">{formatLatency(s.rttMs)}</td>
                  <td className="row-actions">
                    {s.state === 'host-untrusted' || (e.config.ssh && s.state === 'idle') ? (
                      <button
                        type="button"
                        className={s.state === 'host-untrusted' ? 'warn small' : 'small'}
                        onClick={() => onTrust(e)}
                      >
                        Trust host key…
                      </button>
                    ) : null}
                    <button
                      type="button"
                      className="small"
                      disabled={busy === e.name}
                      onClick={() =>
                        void act(e.name, () =>
                          transport.call(connected(s) ? 'endpoints/disconnect' : 'endpoints/connect', {
                            name: e.name,
                          }),
                        )
                      }
                    >
                      {connected(s) ? 'Disconnect' : 'Connect'}
                    </button>
                    <button type="button" className="small" onClick={() => onSetUp(e)}>
                      Set up…
                    </button>
                    <button type="button" className="small" onClick={() => onEdit(e)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="small danger"
                      disabled={busy === e.name}
                      onClick={() => {
                        if (
                          window.confirm(
                            `Remove ${e.name}? Its sessions end${e.config.auth ? ' and its secrets are deleted from the OS keychain' : ''}.`,
                          )
                        )
                          void act(e.name, () => transport.call('endpoints/remove', { name: e.name }));
                      }}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
