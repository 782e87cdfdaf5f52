/**
 * The SSH host-key trust prompt: the keys on the way to an endpoint, hop by hop, each with its
 * fingerprint; the first unknown one can be trusted after the user compares it with what the
 * server's administrator says. A changed or revoked key is shown and never offered for trust.
 */
import { useCallback, useEffect, useState } from 'react';
import type { EndpointSummary, HostKeyInfo } from '../../../main/common/domain.js';
import { ErrorNote, Modal } from '../components/common.js';
import { toTetherError, type TetherError } from '../../../main/common/errors.js';
import type { Transport } from '../transport/types.js';

/** See the module comment. */
export function TrustDialog({
  transport,
  endpoint,
  onClose,
}: {
  transport: Transport;
  endpoint: EndpointSummary;
  onClose(): void;
}) {
  const [hosts, setHosts] = useState<HostKeyInfo[]>();
  const [error, setError] = useState<TetherError>();
  const [busy, setBusy] = useState(true);
  const [trusted, setTrusted] = useState<HostKeyInfo[]>([]);

  const check = useCallback(
    async (fingerprint?: string) => {
      setBusy(true);
      setError(undefined);
      try {
        const r = await transport.call(
          'hosts/trust',
          fingerprint ? { endpoint: endpoint.name, fingerprint } : { endpoint: endpoint.name },
        );
        if (r.trusted) {
          const t = r.trusted;
          setTrusted((prev) => [...prev, t]);
          // The next hop's key shows only once this one is trusted: ask again.
          const again = await transport.call('hosts/trust', { endpoint: endpoint.name });
          setHosts(again.hosts);
        } else {
          setHosts(r.hosts);
        }
      } catch (err) {
        setError(toTetherError(err));
      } finally {
        setBusy(false);
      }
    },
    [transport, endpoint.name],
  );

  useEffect(() => {
    void check();
  }, [check]);

  const unknown = hosts?.find((h) => h.status === 'unknown');
  const bad = hosts?.find((h) => h.status === 'mismatch' || h.status === 'revoked');
  const allTrusted = hosts !== undefined && hosts.length > 0 && hosts.every((h) => h.status === 'trusted');

  return (
    <Modal title={`SSH host keys of ${endpoint.name}`} onClose={onClose}>
      <div className="trust">
        {busy && !hosts && <p className="muted">Connecting to read the host keys…</p>}
        <ErrorNote error={error} />
        {hosts && (
          <table className="grid compact">
            <thead>
              <tr>
                <th>Host</th>
                <th>Key</th>
                <th>Fingerprint</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => (
                <tr key={`${h.host}:${h.port}:${h.fingerprint}`} className={`key-${h.status}`}>
                  <td>
                    {h.role === 'jump' ? 'jump host ' : ''}
                    {h.host}:{h.port}
                  </td>
                  <td>{h.keyType}</td>
                  <td>
                    <code className="fingerprint">{h.fingerprint}</code>
                  </td>
                  <td>{h.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {bad && (
          <div className="error-note" role="alert">
            The host key of {bad.host}:{bad.port} is{' '}
            {bad.status === 'revoked' ? 'revoked' : 'NOT the one recorded'}. Someone may be intercepting the
            connection, or the server was reinstalled. It cannot be trusted from here: check with the
            server&apos;s administrator, then fix known_hosts.
          </div>
        )}
        {unknown && !bad && (
          <div className="trust-prompt">
            <p>
              {unknown.role === 'jump' ? 'The jump host' : 'The server'}{' '}
              <strong>
                {unknown.host}:{unknown.port}
              </strong>{' '}
              presents a {unknown.keyType} key never seen before:
            </p>
            <code className="fingerprint big" data-testid="fingerprint">
              {unknown.fingerprint}
            </code>
            <p className="muted">
              Compare it with the fingerprint the server&apos;s administrator gives you (on the server:{' '}
              <code>ssh-keygen -lf /etc/ssh/ssh_host_{unknown.keyType.replace(/^ssh-/, '')}_key.pub</code>).
              Trust it only if they match.
            </p>
          </div>
        )}
        {trusted.length > 0 && (
          <div className="notice" role="status">
            Trusted {trusted.map((t) => `${t.host}:${t.port}`).join(', ')}.
          </div>
        )}
        {allTrusted && <p className="ok-line">All host keys on the way are trusted.</p>}
        <div className="actions">
          <button type="button" onClick={onClose}>
            {allTrusted ? 'Done' : 'Cancel'}
          </button>
          {unknown && !bad && (
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={() => void check(unknown.fingerprint)}
            >
              Trust this key
            </button>
          )}
        </div>
      </div>
    </Modal>
  );
}
