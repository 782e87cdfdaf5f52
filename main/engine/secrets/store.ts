/**
 * The engine's only place for secrets: the OS keychain through keytar (macOS Keychain, Windows
 * Credential Manager, the freedesktop Secret Service on Linux). Entries are service `mcp-tether`,
 * account `<endpoint>/<secret name>`, so a user sees and can delete them in Seahorse or Keychain
 * Access. When no keychain can be reached every operation fails with KEYCHAIN_UNAVAILABLE: there
 * is deliberately no fallback to a file. A value larger than one entry takes (Windows Credential
 * Manager: 2,560 bytes; large OAuth token responses exceed it) is split over several entries, see
 * {@link splitSecret}.
 *
 * keytar is a native module loaded on first use, so the engine starts without it and the CLI and
 * shim, which never touch secrets, never load it.
 */
import { createHash } from 'node:crypto';
import type { SecretInfo } from '../../common/domain.js';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';

/** The keychain service every entry of MCP Tether is filed under. */
const KEYCHAIN_SERVICE = 'mcp-tether';

/** The part of keytar's API the store uses (keytar's own signatures). */
export interface KeychainBackend {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<{ account: string; password: string }[]>;
}

/** Options of {@link SecretStore}. */
export interface SecretStoreOptions {
  /** Keychain service name (default {@link KEYCHAIN_SERVICE}). */
  service?: string;
  /** Loads the backend (default: keytar, imported on first use). */
  load?: () => Promise<KeychainBackend>;
  /** Told every secret value the store reads or writes, so the engine can redact it everywhere. */
  onValue?: (value: string) => void;
  /** Called before each keychain call (the engine refreshes its session environment there). */
  prepare?: () => void;
  /** The largest value one keychain entry takes, in UTF-8 bytes (default {@link maxSecretBytes}). */
  maxValueBytes?: number;
}

/**
 * Windows Credential Manager's limit of one credential's secret: CRED_MAX_CREDENTIAL_BLOB_SIZE,
 * 5 × 512 bytes (wincred.h; "CREDENTIALA structure", Microsoft Learn). keytar stores the value's
 * UTF-8 bytes there. The macOS Keychain and the Secret Service have no limit a secret reaches.
 */
export const WINDOWS_MAX_SECRET_BYTES = 2560;

/** The largest value one keychain entry takes on `platform`, in UTF-8 bytes. */
export function maxSecretBytes(platform: NodeJS.Platform = process.platform): number {
  return platform === 'win32' ? WINDOWS_MAX_SECRET_BYTES : Number.POSITIVE_INFINITY;
}

/** What the main entry of a split value holds: part count and a digest of the whole value. */
const SPLIT_MARKER = /^mcp-tether-split:v1:(\d+):([0-9a-f]{16})$/;
/** The account suffix of part `i` (1-based) of a split value. */
const partAccount = (account: string, i: number) => `${account}#part:${i}`;
const PART_NAME = /#part:\d+$/;
const digest = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);

/**
 * The size rule: a value that fits in `maxBytes` (UTF-8) is stored as it is (`undefined` here);
 * a larger one is cut, between characters, into parts of at most `maxBytes` bytes each, stored
 * under `<account>#part:<i>`, and the entry itself holds `mcp-tether-split:v1:<n>:<digest>` (the
 * first 16 hex digits of the value's SHA-256, checked when the parts are joined again).
 * @returns `{ marker, parts }`, or undefined when the value fits
 */
export function splitSecret(
  value: string,
  maxBytes: number,
): { marker: string; parts: string[] } | undefined {
  if (Buffer.byteLength(value, 'utf8') <= maxBytes) return undefined;
  const parts: string[] = [];
  let part = '';
  let bytes = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) {
      parts.push(part);
      part = '';
      bytes = 0;
    }
    part += ch;
    bytes += n;
  }
  parts.push(part);
  return { marker: `mcp-tether-split:v1:${parts.length}:${digest(value)}`, parts };
}

/**
 * Joins a split value again.
 * @param part reads part `i` (1-based)
 * @returns the value, the stored value itself when it is not a split marker, or undefined when a
 *   part is missing or the digest does not match (a damaged entry reads as none)
 */
export async function joinSecret(
  stored: string,
  part: (i: number) => Promise<string | null | undefined>,
): Promise<string | undefined> {
  const m = SPLIT_MARKER.exec(stored);
  if (!m) return stored;
  let value = '';
  for (let i = 1; i <= Number(m[1]); i++) {
    const p = await part(i);
    if (p === null || p === undefined) return undefined;
    value += p;
  }
  return digest(value) === m[2] ? value : undefined;
}

async function loadKeytar(): Promise<KeychainBackend> {
  let mod: KeychainBackend & { default?: KeychainBackend };
  try {
    mod = (await import('keytar')) as unknown as KeychainBackend & { default?: KeychainBackend };
  } catch (err) {
    // keytar is an optional dependency: its native build needs libsecret's headers on Linux.
    throw new TetherError(
      ErrorCode.KEYCHAIN_UNAVAILABLE,
      `keytar, the keychain module, could not be loaded: ${errorMessage(err).split('\n')[0]}`,
      {
        hint:
          process.platform === 'linux'
            ? 'Install libsecret-1-dev and a C++ toolchain (g++, make, python3), then run `npm rebuild keytar` in the MCP Tether folder.'
            : 'Reinstall MCP Tether (npm install), then try again.',
      },
      { cause: err },
    );
  }
  return mod.default ?? mod;
}

/** What a user can do when the keychain cannot be used, per OS. */
export function keychainHint(platform: NodeJS.Platform = process.platform): string {
  const never = 'MCP Tether keeps secrets only in the OS keychain, never in a file.';
  switch (platform) {
    case 'darwin':
      return `${never} Unlock the login keychain (Keychain Access), then try again.`;
    case 'win32':
      return `${never} Windows Credential Manager refused the request: sign in to Windows with your own account, then try again.`;
    default:
      return (
        `${never} On Linux that is a Secret Service (GNOME Keyring, KWallet, KeePassXC) on the session ` +
        'D-Bus: start and unlock one (a desktop session sets DBUS_SESSION_BUS_ADDRESS), then try again. ' +
        'The engine uses the environment it was started from: `mcp-tether shutdown` so the next command starts it from yours.'
      );
  }
}

/** Splits an account `<endpoint>/<name>`; undefined for entries that are not ours. */
export function parseAccount(account: string): SecretInfo | undefined {
  const i = account.indexOf('/');
  if (i <= 0 || i === account.length - 1) return undefined;
  return { endpoint: account.slice(0, i), name: account.slice(i + 1) };
}

/** See the module comment. */
export class SecretStore {
  private backend: Promise<KeychainBackend> | undefined;
  /** Keychain calls run one at a time: libsecret's D-Bus calls are not meant to race. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly service: string;

  /** @param opts service name, backend loader, value observer */
  constructor(private readonly opts: SecretStoreOptions = {}) {
    this.service = opts.service ?? KEYCHAIN_SERVICE;
  }

  private unavailable(err: unknown): TetherError {
    if (err instanceof TetherError) return err;
    const reason = err instanceof Error ? err.message : String(err);
    return new TetherError(ErrorCode.KEYCHAIN_UNAVAILABLE, `the OS keychain cannot be used: ${reason}`, {
      hint: keychainHint(),
    });
  }

  /** Runs one backend call, serialized, with every failure as KEYCHAIN_UNAVAILABLE. */
  private run<T>(op: (k: KeychainBackend) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      let k: KeychainBackend;
      try {
        this.opts.prepare?.();
        this.backend ??= (this.opts.load ?? loadKeytar)();
        k = await this.backend;
      } catch (err) {
        this.backend = undefined; // a later call may find it installed
        throw this.unavailable(err);
      }
      try {
        return await op(k);
      } catch (err) {
        throw this.unavailable(err);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private seen(value: string | null | undefined): void {
    if (value) this.opts.onValue?.(value);
  }

  /**
   * The value of a secret, or undefined when there is none. A locked Secret Service collection
   * also reads as none (libsecret cannot prompt without a desktop).
   * @throws TetherError KEYCHAIN_UNAVAILABLE
   */
  async get(endpoint: string, name: string): Promise<string | undefined> {
    const account = `${endpoint}/${name}`;
    const v = await this.run(async (k) => {
      const stored = await k.getPassword(this.service, account);
      return stored === null
        ? undefined
        : joinSecret(stored, (i) => k.getPassword(this.service, partAccount(account, i)));
    });
    this.seen(v);
    return v;
  }

  /**
   * Stores (or replaces) a secret.
   * @throws TetherError KEYCHAIN_UNAVAILABLE (nothing was stored)
   */
  async set(endpoint: string, name: string, value: string): Promise<void> {
    this.seen(value);
    const account = `${endpoint}/${name}`;
    const split = splitSecret(value, this.opts.maxValueBytes ?? maxSecretBytes());
    await this.run(async (k) => {
      const before = await this.partCount(k, account);
      // Parts first, the entry that names them last: a failure midway leaves the old value readable.
      if (split)
        for (const [i, part] of split.parts.entries())
          await k.setPassword(this.service, partAccount(account, i + 1), part);
      await k.setPassword(this.service, account, split ? split.marker : value);
      for (let i = (split?.parts.length ?? 0) + 1; i <= before; i++)
        await k.deletePassword(this.service, partAccount(account, i));
    });
  }

  /** How many parts the entry at `account` names (0 when it is not split or absent). */
  private async partCount(k: KeychainBackend, account: string): Promise<number> {
    const m = SPLIT_MARKER.exec((await k.getPassword(this.service, account)) ?? '');
    return m ? Number(m[1]) : 0;
  }

  /**
   * Deletes a secret (with its parts when it was split); resolves false when there was none.
   * @throws TetherError KEYCHAIN_UNAVAILABLE
   */
  delete(endpoint: string, name: string): Promise<boolean> {
    const account = `${endpoint}/${name}`;
    return this.run(async (k) => {
      const parts = await this.partCount(k, account);
      for (let i = 1; i <= parts; i++) await k.deletePassword(this.service, partAccount(account, i));
      return k.deletePassword(this.service, account);
    });
  }

  /**
   * Names of the stored secrets, of one endpoint or all, sorted. Values are not returned.
   * @throws TetherError KEYCHAIN_UNAVAILABLE
   */
  async list(endpoint?: string): Promise<SecretInfo[]> {
    const creds = await this.run((k) => k.findCredentials(this.service));
    const byAccount = new Map(creds.map((c) => [c.account, c.password]));
    const out: SecretInfo[] = [];
    for (const c of creds) {
      if (PART_NAME.test(c.account)) continue; // a part of a split value, listed under its entry
      const info = parseAccount(c.account);
      if (!info || (endpoint !== undefined && info.endpoint !== endpoint)) continue;
      // findCredentials hands us the values as well: they are known secrets from now on.
      this.seen(await joinSecret(c.password, async (i) => byAccount.get(partAccount(c.account, i))));
      out.push(info);
    }
    return out.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.name.localeCompare(b.name));
  }

  /**
   * Deletes every secret of an endpoint; resolves with the names deleted.
   * @throws TetherError KEYCHAIN_UNAVAILABLE
   */
  async deleteAll(endpoint: string): Promise<string[]> {
    const deleted: string[] = [];
    for (const s of await this.list(endpoint)) {
      if (await this.delete(endpoint, s.name)) deleted.push(s.name);
    }
    return deleted;
  }
}
