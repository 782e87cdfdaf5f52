/**
 * Credentials of an endpoint: a write-only secret entry (the value goes to the OS keychain through
 * the engine and is never read back: only the names of stored secrets are listed), and OAuth
 * sign-in and sign-out.
 */
import { useCallback, useEffect, useState } from 'react';
import type { EndpointSummary, SecretInfo } from '../../../main/common/domain.js';
import { ErrorNote } from '../components/common.js';
import { toTetherError, type TetherError } from '../../../main/common/errors.js';
import type { Transport } from '../transport/types.js';

/** See the module comment. */
export function SecretsPanel({ transport, endpoint }: { transport: Transport; endpoint: EndpointSummary }) {
  const auth = endpoint.config.auth;
  const [value, setValue] = useState('');
  /** Undefined while loading; null when the keychain could not be read. */
  const [stored, setStored] = useState<SecretInfo[] | null>();
  const [error, setError] = useState<TetherError>();
  const [status, setStatus] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [authorizeUrl, setAuthorizeUrl] = useState<string>();

  const refresh = useCallback(async () => {
    try {
      setStored((await transport.call('secrets/list', { endpoint: endpoint.name })).secrets);
    } catch (err) {
      setStored(null);
      setError(toTetherError(err));
    }
  }, [transport, endpoint.name]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(
    () =>
      transport.onAuthorizeUrl?.((name, url) => {
        if (name === endpoint.name) setAuthorizeUrl(url);
      }),
    [transport, endpoint.name],
  );

  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setError(undefined);
    setStatus(undefined);
    try {
      setStatus(await what());
      await refresh();
    } catch (err) {
      setError(toTetherError(err));
    } finally {
      setBusy(false);
    }
  };

  if (!auth) return null;
  const label = auth.type === 'header' ? `${auth.name} value` : 'Bearer token';

  return (
    <div className="secrets" aria-label="Secrets">
      {auth.type === 'oauth' ? (
        <div className="secret-entry">
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                setAuthorizeUrl(undefined);
                // In a browser on another machine the engine cannot open one: the link below can.
                const r = await transport.call('auth/login', {
                  endpoint: endpoint.name,
                  openBrowser: transport.kind !== 'browser',
                });
                setAuthorizeUrl(undefined);
                return `Signed in (authorization server ${r.issuer}).`;
              })
            }
          >
            {busy ? 'Waiting for sign-in…' : 'Sign in'}
          </button>
          {authorizeUrl && (
            <a href={authorizeUrl} target="_blank" rel="noreferrer noopener">
              Open the sign-in page
            </a>
          )}
        </div>
      ) : (
        <div className="secret-entry">
          <label>
            {label}
            <input
              type="password"
              value={value}
              autoComplete="new-password"
              spellCheck={false}
              placeholder="stored in the OS keychain, never shown again"
              onChange={(e) => setValue(e.target.value)}
            />
          </label>
          <button
            type="button"
            className="primary"
            disabled={busy || value.length === 0}
            onClick={() =>
              void run(async () => {
                const r = await transport.call('secrets/set', { endpoint: endpoint.name, value });
                // Write-only: the value leaves the page as soon as it is stored.
                setValue('');
                return `Stored ${r.endpoint}/${r.name} in the OS keychain.`;
              })
            }
          >
            Store in keychain
          </button>
        </div>
      )}
      {status && (
        <div className="notice" role="status">
          {status}
        </div>
      )}
      <ErrorNote error={error} />
      <div className="stored">
        <span className="muted">Stored:</span>{' '}
        {stored === undefined
          ? '…'
          : stored === null
            ? 'unknown'
            : stored.length === 0
              ? 'nothing yet'
              : stored.map((s) => (
                  <span className="secret-name" key={s.name}>
                    <code>{s.name}</code>
                    <button
                      type="button"
                      className="icon"
                      aria-label={`Delete ${s.name}`}
                      title={auth.type === 'oauth' ? 'Sign out (delete)' : 'Delete'}
                      disabled={busy}
                      onClick={() =>
                        void run(async () => {
                          const { deleted } = await transport.call('secrets/delete', {
                            endpoint: endpoint.name,
                            name: s.name,
                          });
                          return deleted.length ? `Deleted ${deleted.join(', ')}.` : 'Nothing to delete.';
                        })
                      }
                    >
                      ×
                    </button>
                  </span>
                ))}
      </div>
    </div>
  );
}
