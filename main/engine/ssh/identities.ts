/**
 * The identity files an SSH hop offers, in ssh(1)'s way: the ones given (`--identity`,
 * `IdentityFile`), else the default ~/.ssh/id_* that exist.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';

// ssh2 is CommonJS: its utilities come through the default export.
const { utils } = ssh2;

/** Default identity files, in ssh(1)'s order. */
const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk'];

/**
 * Reads the identities of a hop: `files` when given (each must be a readable private key), else
 * the default ~/.ssh/id_* (missing or unreadable ones are skipped).
 * @returns the private keys ssh2 can use, and the files that need a passphrase
 * @throws TetherError INVALID_ARGUMENT for a given file that cannot be read or is no private key
 */
export function readIdentities(files: string[]): { keys: Buffer[]; encrypted: string[] } {
  const explicit = files.length > 0;
  const keys: Buffer[] = [];
  const encrypted: string[] = [];
  for (const f of explicit ? files : DEFAULT_IDENTITIES.map((n) => join(homedir(), '.ssh', n))) {
    const r = readIdentity(f, explicit);
    if (r && 'key' in r) keys.push(r.key);
    else if (r) encrypted.push(r.encrypted);
  }
  return { keys, encrypted };
}

function readIdentity(file: string, explicit: boolean): { key: Buffer } | { encrypted: string } | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    if (explicit)
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `cannot read the identity file ${file}: ${errorMessage(err)}`,
        {},
        { cause: err },
      );
    return undefined;
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) {
    if (/encrypted|passphrase/i.test(parsed.message)) return { encrypted: file };
    if (explicit)
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `${file} is not a private key ssh2 can read: ${parsed.message}`,
      );
    return undefined;
  }
  return { key: data };
}
