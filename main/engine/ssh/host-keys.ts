/**
 * Host keys met while connecting, and the errors for the untrusted ones (HOST_KEY_UNKNOWN,
 * HOST_KEY_MISMATCH).
 */
import type { HostKeyInfo } from '../../common/domain.js';
import { ErrorCode, TetherError } from '../../common/errors.js';

/** A host key seen while connecting, and what known_hosts says of it. */
export interface SeenHostKey extends HostKeyInfo {
  /** The public key blob (to record it when the user trusts it). */
  blob: Buffer;
}

/** The error for a host key that is not trusted. */
export function hostKeyError(seen: SeenHostKey, where: string): TetherError {
  const data = {
    host: seen.host,
    port: seen.port,
    fingerprint: seen.fingerprint,
    keyType: seen.keyType,
    role: seen.role,
  };
  if (seen.status === 'unknown') {
    return new TetherError(
      ErrorCode.HOST_KEY_UNKNOWN,
      `the host key of ${where} is not known: ${seen.keyType} ${seen.fingerprint}`,
      {
        ...data,
        hint: "Check the fingerprint with the server's administrator, then run `mcp-tether hosts trust <endpoint>`.",
      },
    );
  }
  return new TetherError(
    ErrorCode.HOST_KEY_MISMATCH,
    `the host key of ${where} ${seen.status === 'revoked' ? 'is revoked' : 'has CHANGED'} (${seen.keyType} ${seen.fingerprint}); refusing to connect`,
    {
      ...data,
      hint:
        seen.status === 'revoked'
          ? 'This key is marked @revoked in known_hosts. Do not connect.'
          : 'Someone may be intercepting the connection, or the host was reinstalled. Verify the new fingerprint with the server’s administrator, then: mcp-tether hosts trust <endpoint> --replace --fingerprint <it>.',
    },
  );
}
