/**
 * The explicit trust step for SSH host keys (`mcp-tether hosts trust`): connect hop by hop, show
 * each host key, and record an unknown one only when the user confirms its fingerprint.
 */
import type { HostKeyInfo } from '../../common/domain.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { EndpointConfig } from '../../common/schemas.js';
import { resolveChain } from './destination.js';
import { addKnownHost } from './known-hosts.js';
import { SshLink, hostKeyError, type SeenHostKey } from './link.js';

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
 * `fingerprint` names that unknown key, records it in `appKnownHosts`.
 * @param files known_hosts files to check (the user's, then the app's)
 * @returns the keys seen, and the key recorded (if any)
 * @throws TetherError HOST_KEY_MISMATCH (a changed or revoked key: never recorded),
 *   INVALID_ARGUMENT (the fingerprint is not the unknown key's)
 */
export async function trustHostKeys(
  config: EndpointConfig,
  files: string[],
  appKnownHosts: string,
  fingerprint?: string,
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
  if (last.status === 'mismatch' || last.status === 'revoked')
    throw hostKeyError(last, `${last.host}:${last.port}`);
  if (last.status !== 'unknown' || fingerprint === undefined) return { hosts };
  if (fingerprint !== last.fingerprint) {
    throw new TetherError(
      ErrorCode.INVALID_ARGUMENT,
      `${last.host}:${last.port} presents ${last.keyType} ${last.fingerprint}, not ${fingerprint}; nothing was recorded`,
      {
        hint: 'Check the fingerprint with the server administrator (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server).',
      },
    );
  }
  addKnownHost(appKnownHosts, last.host, last.port, last.blob);
  return {
    hosts: hosts.map((h, i) => (i === hosts.length - 1 ? { ...h, status: 'trusted' as const } : h)),
    trusted: { ...info(last), status: 'trusted' },
  };
}
