/**
 * Credential bindings: which server each endpoint's stored credentials were stored for. A secret
 * follows the origin it was given for, not the endpoint's name: after the endpoint's URL changes
 * (a hand edit of endpoints.json, the control API, the UI), nothing is sent until the user confirms
 * the new server (`mcp-tether secret rebind`, `secret set`, `login`).
 *
 * The bindings hold no secret: they live in `<state>/credential-bindings.json` (mode 0600, written
 * atomically, never overwritten when it does not parse), one entry per endpoint:
 * `{ origin, resource?, boundAt }`. `origin` is `credentialOrigin` of `common/origin.ts`;
 * `resource` is the RFC 8707 resource OAuth tokens were issued for.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import { writeFileAtomic } from '../config/store.js';

/** What an endpoint's credentials are bound to. */
export interface CredentialBinding {
  /** `credentialOrigin` (common/origin.ts) of the URL the credentials were stored for. */
  origin: string;
  /** OAuth: the RFC 8707 resource of the tokens. */
  resource?: string;
  /** When it was bound (ISO 8601). */
  boundAt: string;
}

/**
 * True when `url` is within the RFC 8707 `resource`: same origin, and the resource's path is a
 * prefix of the URL's at a segment boundary (as the MCP authorization spec's canonical server URI).
 */
export function resourceCovers(resource: string, url: string): boolean {
  let r: URL, u: URL;
  try {
    r = new URL(resource);
    u = new URL(url.replace(/^ws(s?):/i, 'http$1:'));
  } catch {
    return false;
  }
  if (r.origin !== u.origin) return false;
  const base = r.pathname.endsWith('/') ? r.pathname : `${r.pathname}/`;
  return u.pathname === r.pathname || u.pathname.startsWith(base);
}

/** The bindings file (see the module comment). One per engine. */
export class CredentialBindings {
  private cache: Record<string, CredentialBinding> | undefined;

  /** @param file `<state>/credential-bindings.json` */
  constructor(private readonly file: string) {}

  private read(): Record<string, CredentialBinding> {
    if (this.cache) return this.cache;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return (this.cache = {});
    }
    try {
      const parsed = JSON.parse(text) as { version?: unknown; endpoints?: unknown };
      if (parsed.version !== 1 || typeof parsed.endpoints !== 'object' || parsed.endpoints === null)
        throw new Error('not a version 1 bindings file');
      return (this.cache = parsed.endpoints as Record<string, CredentialBinding>);
    } catch (err) {
      throw new TetherError(
        ErrorCode.CONFIG_INVALID,
        `${this.file} does not parse (${errorMessage(err)}); no credential is sent until it does`,
        { hint: `Fix or delete it (deleting binds each endpoint's credentials to its URL on next use).` },
        { cause: err },
      );
    }
  }

  private write(next: Record<string, CredentialBinding>): void {
    writeFileAtomic(this.file, JSON.stringify({ version: 1, endpoints: next }, null, 2) + '\n');
    this.cache = next;
  }

  /**
   * The binding of an endpoint, if any.
   * @throws TetherError CONFIG_INVALID when the file does not parse
   */
  get(endpoint: string): CredentialBinding | undefined {
    return Object.hasOwn(this.read(), endpoint) ? this.read()[endpoint] : undefined;
  }

  /**
   * Binds an endpoint's credentials (replacing its binding).
   * @returns the binding it replaced, if any
   * @throws TetherError CONFIG_INVALID (the file does not parse: left as it is), CONFIG_IO
   */
  bind(endpoint: string, binding: Omit<CredentialBinding, 'boundAt'>): CredentialBinding | undefined {
    const all = this.read();
    const previous = all[endpoint];
    this.write({ ...all, [endpoint]: { ...binding, boundAt: new Date().toISOString() } });
    return previous;
  }

  /**
   * Forgets an endpoint's binding (its secrets were deleted).
   * @throws TetherError CONFIG_INVALID, CONFIG_IO
   */
  forget(endpoint: string): void {
    const all = this.read();
    if (!Object.hasOwn(all, endpoint)) return;
    const { [endpoint]: _gone, ...rest } = all;
    this.write(rest);
  }
}
