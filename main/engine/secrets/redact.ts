/**
 * Redaction of known secret values (tokens, API keys) from text the engine keeps or shows: traffic
 * records, event details, error messages. The engine learns every value it reads from or writes to
 * the keychain; any of them found in a message is replaced by {@link REDACTED}.
 */

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not searched for: masking every "abc" would mangle messages, and no
 * real credential is that short.
 */
export const MIN_REDACTED_LENGTH = 6;

/** Fields of stored JSON values that hold credentials (RFC 6749 §5.1, RFC 7591 §3.2.1, OIDC). */
const CREDENTIAL_FIELDS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'registration_access_token',
];

/** The set of secret values the engine knows (per engine; values never leave it). */
export class KnownSecrets {
  private readonly values = new Set<string>();
  private list: readonly string[] = [];
  private readonly listeners = new Set<(values: readonly string[]) => void>();

  /** Adds a value (and its JSON-escaped spelling, as it appears inside JSON text). */
  add(value: string): void {
    if (value.length < MIN_REDACTED_LENGTH) return;
    const escaped = JSON.stringify(value).slice(1, -1);
    let changed = false;
    for (const v of escaped === value ? [value] : [value, escaped]) {
      if (!this.values.has(v)) {
        this.values.add(v);
        changed = true;
      }
    }
    if (!changed) return;
    // Longest first, so a secret that contains another is masked whole.
    this.list = [...this.values].sort((a, b) => b.length - a.length);
    for (const l of this.listeners) l(this.list);
  }

  /**
   * Adds a value as stored in the keychain: a JSON object (an OAuth token set, a client
   * registration) contributes its credential fields, anything else is added whole.
   */
  addStored(value: string): void {
    this.add(value);
    if (!value.startsWith('{')) return;
    try {
      const o = JSON.parse(value) as Record<string, unknown>;
      for (const k of CREDENTIAL_FIELDS) if (typeof o[k] === 'string') this.add(o[k]);
    } catch {
      // not JSON after all: added whole above
    }
  }

  /** The values, longest first. */
  get all(): readonly string[] {
    return this.list;
  }

  /** Calls `cb` with the new list on every change (and once now). */
  subscribe(cb: (values: readonly string[]) => void): void {
    this.listeners.add(cb);
    cb(this.list);
  }

  /** `text` with every known value masked. */
  redact(text: string): string {
    return redactText(text, this.list);
  }
}

/** `text` with every value of `secrets` (longest first) replaced by {@link REDACTED}. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

function redactValue(v: unknown, secrets: readonly string[]): unknown {
  if (typeof v === 'string') return redactText(v, secrets);
  if (Array.isArray(v)) return v.map((x) => redactValue(x, secrets));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[redactText(k, secrets)] = redactValue(x, secrets);
    return o;
  }
  return v;
}

/**
 * A JSON text with every secret masked, still valid JSON: the value is masked string by string.
 * Returns `json` itself (no copy) when it contains no secret, which is the common case.
 */
export function redactJson(json: string, secrets: readonly string[]): string {
  if (secrets.length === 0 || !secrets.some((s) => json.includes(s))) return json;
  let masked: string;
  try {
    masked = JSON.stringify(redactValue(JSON.parse(json), secrets));
  } catch {
    masked = JSON.stringify(redactText(json, secrets));
  }
  // A secret made only of digits may still sit in a number: withhold the whole message then.
  if (secrets.some((s) => masked.includes(s)))
    return JSON.stringify({ redacted: 'this message contained a secret and was withheld' });
  return masked;
}
