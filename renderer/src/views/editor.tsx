/**
 * The endpoint editor: every field of an endpoint (URL, transport, headers, credentials, timeouts,
 * SSH destination, identity, jump hosts, login shell, remote command, commands file). Validation is the engine's:
 * the form sends what was typed and shows each issue the engine reports next to its field.
 */
import { useState, type ReactNode } from 'react';
import type { EndpointSummary } from '../../../main/common/domain.js';
import type { TransportKind } from '../../../main/common/schemas.js';
import { ErrorNote, Modal } from '../components/common.js';
import { toTetherError } from '../../../main/common/errors.js';
import type { Transport } from '../transport/types.js';
import {
  TRANSPORT_CHOICES,
  configOf,
  draftOf,
  fieldErrors,
  newHeaderRow,
  type AuthChoice,
  type Draft,
  type FieldErrors,
} from './draft.js';
import { SecretsPanel } from './secrets.js';

/** Props of {@link EndpointEditor}. */
export interface EndpointEditorProps {
  transport: Transport;
  /** The endpoint to edit; absent to add one. */
  existing?: EndpointSummary;
  onClose(): void;
  /** After a save; `trust` asks to check its SSH host keys next (then the editor does not close itself). */
  onSaved(summary: EndpointSummary, next: { trust: boolean }): void;
}

/** See the module comment. */
export function EndpointEditor({ transport, existing: initial, onClose, onSaved }: EndpointEditorProps) {
  const [existing, setExisting] = useState(initial);
  const [draft, setDraft] = useState<Draft>(() => draftOf(initial?.name, initial?.config));
  const [errors, setErrors] = useState<FieldErrors>({ fields: {}, other: undefined });
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<string>();
  /** The new server of an edited endpoint whose stored credentials wait for the user's consent. */
  const [moved, setMoved] = useState<string>();
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const stdio = draft.transport === 'stdio';
  /** Runs something on the SSH server (a stdio server, or allow-listed commands): no URL. */
  const remote = stdio || draft.transport === 'commands';
  const fe = errors.fields;

  const save = async () => {
    setSaving(true);
    setNotice(undefined);
    try {
      const endpoint = configOf(draft);
      let saved: EndpointSummary;
      let credentialsMoved: { from: string; to: string } | undefined;
      if (existing) {
        const r = await transport.call('endpoints/update', { name: existing.name, endpoint });
        saved = r.endpoint;
        credentialsMoved = r.credentialsMoved;
      } else {
        saved = (await transport.call('endpoints/add', { name: draft.name.trim(), endpoint })).endpoint;
      }
      setErrors({ fields: {}, other: undefined });
      // Credentials follow the server they were stored for: a new one needs the user's yes.
      if (credentialsMoved) {
        setExisting(saved);
        setMoved(credentialsMoved.to);
        onSaved(saved, { trust: false });
        return;
      }
      const needsSecret = !existing && saved.config.auth !== undefined;
      if (needsSecret) {
        // Stay open on the new endpoint: its credentials are the next step.
        setExisting(saved);
        setNotice(
          saved.config.auth?.type === 'oauth'
            ? `Added ${saved.name}. Sign in below.`
            : `Added ${saved.name}. Store its secret in the OS keychain below.`,
        );
        onSaved(saved, { trust: false });
      } else {
        const trust = !existing && saved.config.ssh !== undefined;
        onSaved(saved, { trust });
        // With `trust`, the parent replaces this dialog with the host-key prompt.
        if (!trust) onClose();
      }
    } catch (err) {
      setErrors(fieldErrors(toTetherError(err)));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal title={existing ? `Edit ${existing.name}` : 'Add endpoint'} onClose={onClose} wide>
      <form
        className="editor"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {notice && (
          <div className="notice" role="status">
            {notice}
          </div>
        )}
        <ErrorNote error={errors.other} />
        {moved && existing && (
          <div className="notice" role="alert">
            {existing.name} now points at <code>{moved}</code>. Its stored credentials are sent nowhere until
            you confirm that this server may have them.{' '}
            <button
              type="button"
              onClick={() =>
                void transport.call('secrets/rebind', { endpoint: existing.name }).then(
                  () => onClose(),
                  (err: unknown) => setErrors(fieldErrors(toTetherError(err))),
                )
              }
            >
              Send them to {moved}
            </button>
          </div>
        )}
        <div className="form-grid">
          <Field label="Name" error={fe['name']} help="What MCP clients run: mcp-tether shim <name>">
            {(id) => (
              <input
                id={id}
                value={draft.name}
                disabled={existing !== undefined}
                onChange={(e) => set('name', e.target.value)}
                placeholder="github"
                autoComplete="off"
                spellCheck={false}
              />
            )}
          </Field>
          <Field label="Transport" error={fe['transport']}>
            {(id) => (
              <select
                id={id}
                value={draft.transport}
                onChange={(e) => set('transport', e.target.value as TransportKind)}
              >
                {TRANSPORT_CHOICES.map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {!remote && (
            <Field
              label="URL"
              error={fe['url']}
              wide
              help={
                draft.ssh
                  ? 'As the SSH server sees it, e.g. http://127.0.0.1:8080/mcp'
                  : 'http(s):// for Streamable HTTP or SSE, ws(s):// for WebSocket'
              }
            >
              {(id) => (
                <input
                  id={id}
                  value={draft.url}
                  onChange={(e) => set('url', e.target.value)}
                  placeholder="https://host.example.com/mcp"
                  spellCheck={false}
                />
              )}
            </Field>
          )}
          {stdio && (
            <Field
              label="Remote command"
              error={fe['command']}
              wide
              help="Run on the SSH server; quote words with spaces, as in a shell"
            >
              {(id) => (
                <input
                  id={id}
                  value={draft.command}
                  onChange={(e) => set('command', e.target.value)}
                  placeholder="npx -y @modelcontextprotocol/server-filesystem /srv"
                  spellCheck={false}
                />
              )}
            </Field>
          )}
          {draft.transport === 'commands' && (
            <Field
              label="Commands file"
              error={fe['commandsFile']}
              wide
              help="Absolute path of a YAML or JSON file of allow-listed commands (see examples/commands.yaml); read when a session opens"
            >
              {(id) => (
                <input
                  id={id}
                  value={draft.commandsFile}
                  onChange={(e) => set('commandsFile', e.target.value)}
                  placeholder="/home/me/ops.yaml"
                  spellCheck={false}
                />
              )}
            </Field>
          )}
        </div>

        {!remote && (
          <fieldset>
            <legend>Headers</legend>
            <p className="muted small-text">
              Sent on every request. Not for secrets: those go to the OS keychain (Credentials below).
            </p>
            {draft.headers.map((h, i) => (
              <div className="header-row" key={h.key}>
                <input
                  aria-label={`Header ${i + 1} name`}
                  value={h.name}
                  placeholder="X-Api-Version"
                  spellCheck={false}
                  aria-invalid={fe[`headers.${h.name.trim()}`] ? true : undefined}
                  onChange={(e) =>
                    set(
                      'headers',
                      draft.headers.map((x) => (x.key === h.key ? { ...x, name: e.target.value } : x)),
                    )
                  }
                />
                <input
                  aria-label={`Header ${i + 1} value`}
                  value={h.value}
                  placeholder="value"
                  spellCheck={false}
                  onChange={(e) =>
                    set(
                      'headers',
                      draft.headers.map((x) => (x.key === h.key ? { ...x, value: e.target.value } : x)),
                    )
                  }
                />
                <button
                  type="button"
                  className="icon"
                  aria-label={`Remove header ${i + 1}`}
                  onClick={() =>
                    set(
                      'headers',
                      draft.headers.filter((x) => x.key !== h.key),
                    )
                  }
                >
                  ×
                </button>
                {fe[`headers.${h.name.trim()}`] && (
                  <div className="field-error" role="alert">
                    {fe[`headers.${h.name.trim()}`]}
                  </div>
                )}
              </div>
            ))}
            {fe['headers'] && (
              <div className="field-error" role="alert">
                {fe['headers']}
              </div>
            )}
            <button
              type="button"
              className="small"
              onClick={() => set('headers', [...draft.headers, newHeaderRow()])}
            >
              Add header
            </button>
          </fieldset>
        )}

        {!remote && (
          <fieldset>
            <legend>Credentials</legend>
            <div className="form-grid">
              <Field label="Authentication" error={fe['auth']}>
                {(id) => (
                  <select
                    id={id}
                    value={draft.auth}
                    onChange={(e) => set('auth', e.target.value as AuthChoice)}
                  >
                    <option value="none">None</option>
                    <option value="bearer">Bearer token (Authorization header)</option>
                    <option value="header">A secret header (API key)</option>
                    <option value="oauth">OAuth sign-in</option>
                    {draft.tokenExchange && (
                      <option value="token-exchange">OAuth token exchange (set with the CLI)</option>
                    )}
                  </select>
                )}
              </Field>
              {draft.auth === 'header' && (
                <Field label="Secret header name" error={fe['auth.name']}>
                  {(id) => (
                    <input
                      id={id}
                      value={draft.authHeader}
                      onChange={(e) => set('authHeader', e.target.value)}
                      placeholder="X-Api-Key"
                      spellCheck={false}
                    />
                  )}
                </Field>
              )}
              {draft.auth === 'oauth' && (
                <>
                  <Field label="Client id (optional)" error={fe['auth.clientId']}>
                    {(id) => (
                      <input
                        id={id}
                        value={draft.clientId}
                        onChange={(e) => set('clientId', e.target.value)}
                      />
                    )}
                  </Field>
                  <Field label="Scopes (optional)" error={fe['auth.scopes']} help="Separated by spaces">
                    {(id) => (
                      <input id={id} value={draft.scopes} onChange={(e) => set('scopes', e.target.value)} />
                    )}
                  </Field>
                  <Field label="Client metadata URL (optional)" error={fe['auth.clientMetadataUrl']} wide>
                    {(id) => (
                      <input
                        id={id}
                        value={draft.clientMetadataUrl}
                        onChange={(e) => set('clientMetadataUrl', e.target.value)}
                        placeholder="https://example.com/client.json"
                      />
                    )}
                  </Field>
                </>
              )}
            </div>
            {existing?.config.auth && draft.auth === existing.config.auth.type && (
              <SecretsPanel transport={transport} endpoint={existing} />
            )}
            {draft.auth !== 'none' && (!existing || draft.auth !== existing.config.auth?.type) && (
              <p className="muted small-text">
                The secret itself is stored in the OS keychain after saving, never in endpoints.json.
              </p>
            )}
          </fieldset>
        )}

        <fieldset className={draft.ssh || remote ? '' : 'collapsed'}>
          <legend>
            <label className="check">
              <input
                type="checkbox"
                checked={draft.ssh || remote}
                disabled={remote}
                onChange={(e) => set('ssh', e.target.checked)}
              />
              Reach it over SSH
            </label>
          </legend>
          {(draft.ssh || remote) && (
            <div className="form-grid">
              <Field
                label="SSH destination"
                error={fe['ssh.destination'] ?? fe['ssh']}
                help="[user@]host[:port], or a Host alias of ~/.ssh/config"
              >
                {(id) => (
                  <input
                    id={id}
                    value={draft.sshDestination}
                    onChange={(e) => set('sshDestination', e.target.value)}
                    placeholder="deploy@build.example.com"
                    spellCheck={false}
                  />
                )}
              </Field>
              <Field
                label="Identity file"
                error={fe['ssh.identityFile']}
                help="Like ssh -i; default: agent, ~/.ssh/id_*"
              >
                {(id) => (
                  <input
                    id={id}
                    value={draft.sshIdentity}
                    onChange={(e) => set('sshIdentity', e.target.value)}
                    placeholder="~/.ssh/id_ed25519"
                    spellCheck={false}
                  />
                )}
              </Field>
              <Field
                label="Jump hosts"
                error={fe['ssh.jump']}
                help="Like ssh -J, in order, separated by commas"
              >
                {(id) => (
                  <input
                    id={id}
                    value={draft.sshJump}
                    onChange={(e) => set('sshJump', e.target.value)}
                    placeholder="bastion.example.com"
                    spellCheck={false}
                  />
                )}
              </Field>
              <Field
                label="ssh config file"
                error={fe['ssh.configFile']}
                help="Like ssh -F; default ~/.ssh/config"
              >
                {(id) => (
                  <input
                    id={id}
                    value={draft.sshConfigFile}
                    onChange={(e) => set('sshConfigFile', e.target.value)}
                    spellCheck={false}
                  />
                )}
              </Field>
              {remote && (
                <label className="check wide">
                  <input
                    type="checkbox"
                    checked={draft.loginShell}
                    onChange={(e) => set('loginShell', e.target.checked)}
                  />
                  Run {stdio ? 'the command' : 'each command'} through the remote login shell (PATH from
                  profiles: nvm, npm prefixes)
                </label>
              )}
            </div>
          )}
        </fieldset>

        <fieldset>
          <legend>Timeouts</legend>
          <div className="form-grid three">
            <Field label="Connect timeout (ms)" error={fe['connectTimeoutMs']} help="Connect and initialize">
              {(id) => (
                <input
                  id={id}
                  type="number"
                  value={draft.connectTimeoutMs}
                  onChange={(e) => set('connectTimeoutMs', e.target.value)}
                />
              )}
            </Field>
            <Field label="Request timeout (ms)" error={fe['requestTimeoutMs']} help="One request">
              {(id) => (
                <input
                  id={id}
                  type="number"
                  value={draft.requestTimeoutMs}
                  onChange={(e) => set('requestTimeoutMs', e.target.value)}
                />
              )}
            </Field>
            <Field
              label="Ping interval (ms)"
              error={fe['pingIntervalMs']}
              help="Health probes; 0 turns them off"
            >
              {(id) => (
                <input
                  id={id}
                  type="number"
                  value={draft.pingIntervalMs}
                  onChange={(e) => set('pingIntervalMs', e.target.value)}
                />
              )}
            </Field>
          </div>
        </fieldset>

        <div className="actions">
          <button type="button" onClick={onClose}>
            {existing && notice ? 'Done' : 'Cancel'}
          </button>
          <button type="submit" className="primary" disabled={saving}>
            {existing ? 'Save' : 'Add endpoint'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

let fieldId = 0;

/** A labelled form field with its help and its error from the engine. */
function Field({
  label,
  error,
  help,
  wide,
  children,
}: {
  label: string;
  error?: string | undefined;
  help?: string;
  wide?: boolean;
  children: (id: string) => ReactNode;
}) {
  const [id] = useState(() => `f${fieldId++}`);
  return (
    <div className={`field${wide ? ' wide' : ''}${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {error ? (
        <div className="field-error" role="alert" id={`${id}-error`}>
          {error}
        </div>
      ) : (
        help && <div className="help">{help}</div>
      )}
    </div>
  );
}
