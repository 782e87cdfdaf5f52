/**
 * The explicit trust step for SSH host keys (`mcp-tether hosts trust`): connect hop by hop, show
 * each host key, and record an unknown one only when the user confirms its fingerprint (a changed
 * one only with `--replace` too).
 */
import type { HostKeyInfo } from '../../common/domain.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { EndpointConfig } from '../../common/schemas.js';
import { resolveChain } from './destination.js';
import { addKnownHost, entryMatches, hostKeyName, loadKnownHosts, replaceKnownHost } from './known-hosts.js';
import { hostKeyError, type SeenHostKey } from './host-keys.js';
import { SshLink } from './link.js';

function info(k: SeenHostKey): HostKeyInfo {
  return {
    host: k.host,
    port: k.port,
    role: k.role,
    keyType: k.keyType,
    fingerprint: k.fingerprint,
    status: k.status,
  };
}

/**
 * Lists the host keys on the way to an SSH endpoint, up to the first one not trusted, and, when
 * `fingerprint` names that key, records it in `appKnownHosts`. An unknown key is recorded; a
 * changed one (any other key recorded for the host, whatever its type) only with `replace`, which
 * drops the old lines of the app's own file (the user's ~/.ssh/known_hosts is never edited); a
 * revoked key never.
 * @param files known_hosts files to check (the user's, then the app's)
 * @returns the keys seen, and the key recorded (if any)
 * @throws TetherError HOST_KEY_MISMATCH (a revoked key; a changed key without `replace`, or whose
 *   old key is in a file other than the app's), INVALID_ARGUMENT (the fingerprint is not the key's)
 */
export async function trustHostKeys(
  config: EndpointConfig,
  files: string[],
  appKnownHosts: string,
  fingerprint?: string,
  replace = false,
): Promise<{ hosts: HostKeyInfo[]; trusted?: HostKeyInfo }> {
  const link = new SshLink({
    hops: resolveChain(config.ssh!),
    knownHostsFiles: files,
    connectTimeoutMs: config.connectTimeoutMs,
    keepaliveMs: 0,
    onEvent: () => undefined,
  });
  try {
    await link.connect().catch(() => undefined); // what matters here is which keys were seen
  } finally {
    link.close();
  }
  const seen = link.seen;
  const hosts = seen.map(info);
  const last = seen[seen.length - 1];
  if (!last) {
    throw new TetherError(
      ErrorCode.SSH_UNREACHABLE,
      `could not reach ${config.ssh!.destination} to read its host key`,
      {
        hint: 'Run `mcp-tether doctor <endpoint>` to see which layer fails.',
      },
    );
  }
  const where = `${last.host}:${last.port}`;
  if (last.status === 'revoked') throw hostKeyError(last, where);
  if (last.status === 'trusted' || fingerprint === undefined) return { hosts };
  if (fingerprint !== last.fingerprint) {
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `${where} presents ${last.keyType} ${last.fingerprint}, not ${fingerprint}; nothing was recorded`,
      {
        hint: 'Check the fingerprint with the server administrator (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server).',
      },
    );
  }
  if (last.status === 'mismatch') {
    if (!replace) throw changedKeyError(last, where);
    const stale = loadKnownHosts(files).filter((e) => !e.revoked && entryMatches(e, last.host, last.port));
    const elsewhere = stale.find((e) => e.file !== appKnownHosts);
    if (elsewhere) {
      throw new TetherError(
        ErrorCode.HOST_KEY_MISMATCH,
        `the old host key of ${where} is recorded in ${elsewhere.file} (line ${elsewhere.line}), which MCP Tether does not edit; nothing was recorded`,
        {
          hint: `Remove it there (ssh-keygen -R '${hostKeyName(last.host, last.port)}' -f ${elsewhere.file}), then run mcp-tether hosts trust again.`,
        },
      );
    }
    replaceKnownHost(appKnownHosts, stale, last.host, last.port, last.blob);
  } else {
    addKnownHost(appKnownHosts, last.host, last.port, last.blob);
  }
  return {
    hosts: hosts.map((h, i) => (i === hosts.length - 1 ? { ...h, status: 'trusted' as const } : h)),
    trusted: { ...info(last), status: 'trusted' },
  };
}

/**
 * The refusal to record over a changed host key without `--replace`.
 * @returns TetherError HOST_KEY_MISMATCH
 */
function changedKeyError(seen: HostKeyInfo, where: string): TetherError {
  return new TetherError(
    ErrorCode.HOST_KEY_MISMATCH,
    `the host key of ${where} has CHANGED (now ${seen.keyType} ${seen.fingerprint}); another key is recorded for it, so it was not recorded`,
    {
      host: seen.host,
      port: seen.port,
      fingerprint: seen.fingerprint,
      hint: `Someone may be intercepting the connection, or the host was reinstalled. Verify ${seen.fingerprint} with the server's administrator, then replace the old key: mcp-tether hosts trust <endpoint> --replace --fingerprint ${seen.fingerprint}`,
    },
  );
}
