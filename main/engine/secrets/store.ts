/**
 * The engine's only place for secrets: the OS keychain through keytar (macOS Keychain, Windows
 * Credential Manager, the freedesktop Secret Service on Linux). Entries are service `mcp-tether`,
 * account `<endpoint>/<secret name>`, so a user sees and can delete them in Seahorse or Keychain
 * Access. When no keychain can be reached every operation fails with KEYCHAIN_UNAVAILABLE: there
 * is deliberately no fallback to a file.
 *
 * keytar is a native module loaded on first use, so the engine starts without it and the CLI and
 * shim, which never touch secrets, never load it.
 */
import type { SecretInfo } from '../../common/domain.js';
import { ErrorCode, TetherError } from '../../common/errors.js';

/** The keychain service every entry of MCP Tether is filed under. */
export const KEYCHAIN_SERVICE = 'mcp-tether';

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
}

async function loadKeytar(): Promise<KeychainBackend> {
  let mod: KeychainBackend & { default?: KeychainBackend };
  try {
    mod = (await import('keytar')) as unknown as KeychainBackend & { default?: KeychainBackend };
  } catch (err) {
    // keytar is an optional dependency: its native build needs libsecret's headers on Linux.
    throw new TetherError(
      ErrorCode.KEYCHAIN_UNAVAILABLE,
      `keytar, the keychain module, could not be loaded: ${(err as Error).message.split('\n')[0]}`,
      {
        hint:
          process.platform === 'linux'
            ? 'Install libsecret-1-dev and a C++ toolchain (g++, make, python3), then run `npm rebuild keytar` in the MCP Tether folder.'
            : 'Reinstall MCP Tether (npm install), then try again.',
      },
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
    const v = await this.run((k) => k.getPassword(this.service, `${endpoint}/${name}`));
    this.seen(v);
    return v ?? undefined;
  }

  /**
   * Stores (or replaces) a secret.
   * @throws TetherError KEYCHAIN_UNAVAILABLE (nothing was stored)
   */
  async set(endpoint: string, name: string, value: string): Promise<void> {
    this.seen(value);
    await this.run((k) => k.setPassword(this.service, `${endpoint}/${name}`, value));
  }

  /**
   * Deletes a secret; resolves false when there was none.
   * @throws TetherError KEYCHAIN_UNAVAILABLE
   */
  delete(endpoint: string, name: string): Promise<boolean> {
    return this.run((k) => k.deletePassword(this.service, `${endpoint}/${name}`));
  }

  /**
   * Names of the stored secrets, of one endpoint or all, sorted. Values are not returned.
   * @throws TetherError KEYCHAIN_UNAVAILABLE
   */
  async list(endpoint?: string): Promise<SecretInfo[]> {
    const creds = await this.run((k) => k.findCredentials(this.service));
    const out: SecretInfo[] = [];
    for (const c of creds) {
      const info = parseAccount(c.account);
      if (!info || (endpoint !== undefined && info.endpoint !== endpoint)) continue;
      // findCredentials hands us the values as well: they are known secrets from now on.
      this.seen(c.password);
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
