/**
 * Client setup for one endpoint: each supported MCP client (Claude Desktop, Cursor, VS Code, Claude
 * Code, Windsurf) with its config file on this machine and whether the endpoint is in it; Install
 * merges the entry that starts the shim (the engine writes it atomically, with a backup), Remove
 * takes it out, Copy puts the JSON snippet on the clipboard.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ClientInfo, McpClient } from '../../../main/common/clients.js';
import type { EndpointSummary } from '../../../main/common/domain.js';
import { copyText, ErrorNote, Modal } from '../components/common.js';
import { toTetherError, type TetherError } from '../../../main/common/errors.js';
import type { Transport } from '../transport/types.js';

const DONE: Record<string, string> = {
  created: 'created the file with the entry',
  added: 'added the entry',
  updated: 'updated the entry',
  unchanged: 'the entry was already there',
  removed: 'removed the entry',
  absent: 'there was no entry to remove',
};

/** See the module comment. */
export function ClientsDialog({
  transport,
  endpoint,
  onClose,
}: {
  transport: Transport;
  endpoint: EndpointSummary;
  onClose(): void;
}) {
  const [clients, setClients] = useState<ClientInfo[]>();
  const [error, setError] = useState<TetherError>();
  const [note, setNote] = useState<{ text: string; warning?: string | undefined }>();
  const [busy, setBusy] = useState<McpClient>();

  const refresh = useCallback(async () => {
    try {
      setClients((await transport.call('clients/list', { endpoint: endpoint.name })).clients);
    } catch (err) {
      setError(toTetherError(err));
    }
  }, [transport, endpoint.name]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const run = async (
    client: McpClient,
    what: () => Promise<{ text: string; warning?: string | undefined }>,
  ) => {
    setBusy(client);
    setError(undefined);
    setNote(undefined);
    try {
      setNote(await what());
      await refresh();
    } catch (err) {
      setError(toTetherError(err));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <Modal title={`Set up ${endpoint.name} in an MCP client`} onClose={onClose} wide>
      <div className="clients">
        <p className="muted small-text">
          The entry starts <code>mcp-tether shim {endpoint.name}</code> by absolute paths. Every other entry
          of the file stays as it was; the previous file is kept as <code>.bak</code>. Restart the client
          afterwards.
        </p>
        <ErrorNote error={error} />
        {note && (
          <div className={note.warning ? 'error-note' : 'notice'} role="status">
            {note.text}
            {note.warning && <div className="hint">{note.warning}</div>}
          </div>
        )}
        <table className="grid compact">
          <thead>
            <tr>
              <th>Client</th>
              <th>Config file</th>
              <th>Status</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {clients?.map((c) => (
              <tr key={c.client} data-client={c.client}>
                <td className="name">{c.label}</td>
                <td>
                  <code className="path">{c.configFile}</code>
                </td>
                <td data-testid="client-status">
                  {c.error ? (
                    <span className="field-error">{c.error}</span>
                  ) : c.installed ? (
                    <span className="ok-line">installed</span>
                  ) : (
                    <span className="muted">{c.exists ? 'not installed' : 'no file yet'}</span>
                  )}
                </td>
                <td className="row-actions">
                  <button
                    type="button"
                    className="small"
                    disabled={busy !== undefined}
                    onClick={() =>
                      void run(c.client, async () => {
                        const s = await transport.call('clients/snippet', {
                          endpoint: endpoint.name,
                          client: c.client,
                        });
                        await copyText(s.snippet);
                        return {
                          text: `Copied the ${c.label} entry for ${s.configFile}.`,
                          warning: s.warning,
                        };
                      })
                    }
                  >
                    Copy config
                  </button>
                  {c.installed ? (
                    <button
                      type="button"
                      className="small danger"
                      disabled={busy !== undefined}
                      onClick={() =>
                        void run(c.client, async () => {
                          const r = await transport.call('clients/uninstall', {
                            endpoint: endpoint.name,
                            client: c.client,
                          });
                          return { text: `${c.label}: ${DONE[r.action] ?? r.action} (${r.configFile}).` };
                        })
                      }
                    >
                      Remove
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="small primary"
                      disabled={busy !== undefined || c.error !== undefined}
                      onClick={() =>
                        void run(c.client, async () => {
                          const r = await transport.call('clients/install', {
                            endpoint: endpoint.name,
                            client: c.client,
                          });
                          return {
                            text: `${c.label}: ${DONE[r.action] ?? r.action} (${r.configFile})${r.backupFile ? `; the previous file is ${r.backupFile}` : ''}.`,
                            warning: r.warning,
                          };
                        })
                      }
                    >
                      Install
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="actions">
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Modal>
  );
}
