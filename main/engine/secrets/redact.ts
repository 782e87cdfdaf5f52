/**
 * Redaction of known secret values (tokens, API keys, OAuth tokens and client secrets): the one
 * masking applied to everything that leaves the engine — traffic records, control-API results,
 * errors and notifications (so `status`, `lastError`, `doctor`, the UI), error messages the relay
 * sends to clients, and `engine.log`. The engine learns every value it reads from or writes to the
 * keychain; each is replaced by {@link REDACTED}.
 *
 * - A value of at least {@link MIN_REDACTED_LENGTH} characters is masked wherever it appears, in
 *   raw text and in any JSON spelling of it (`\/`, `\u00xx`, `\"`…: what a server's JSON encoder may
 *   write), and inside decoded JSON strings, keys and numbers.
 * - A shorter value would mangle ordinary text if masked everywhere; it is masked where it is
 *   clearly a credential: as a whole JSON string value, and inside the value of a member whose name
 *   looks like a credential ({@link SECRET_HEADER_RE}: `password`, `api_key`, `X-Auth`…).
 */
import { SECRET_HEADER_RE } from '../../common/schema-fields.js';
import { MAX_JSON_DEPTH, TOO_DEEP, safeStringify } from '../../common/safe-json.js';

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';

/** Secrets at least this long are masked everywhere; shorter ones as described in the module comment. */
export const MIN_REDACTED_LENGTH = 6;

/** Fields of stored JSON values that hold credentials (RFC 6749 §5.1, RFC 7591 §3.2.1, OIDC). */
const CREDENTIAL_FIELDS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'registration_access_token',
];

/** A JSON member name that looks like a credential, as it appears in JSON text. */
const CREDENTIAL_MEMBER_RE = new RegExp(`"[^"\\\\]*(?:${SECRET_HEADER_RE.source})[^"\\\\]*"\\s*:`, 'i');

/** One secret of at least {@link MIN_REDACTED_LENGTH} characters, compiled. */
interface LongSecret {
  value: string;
  /** Matches the value in any JSON spelling (global). */
  spelling: RegExp;
}

/** The secrets the engine knows, compiled for matching (see the module comment). */
export interface SecretPatterns {
  /** Longest first, so a secret that contains another is masked whole. */
  long: readonly LongSecret[];
  short: readonly string[];
}

/** No secrets known. */
export const NO_SECRETS: SecretPatterns = { long: [], short: [] };

const JSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `\uXXXX` for one UTF-16 unit, hex digits in either case (RFC 8259 §7). */
function unicodeEscapePattern(unit: number): string {
  const hex = unit.toString(16).padStart(4, '0');
  return '\\\\u' + [...hex].map((d) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d)).join('');
}

/** A regular expression matching `value` with any of its characters written as a JSON escape. */
function spellingPattern(value: string): RegExp {
  let source = '';
  for (const ch of value) {
    const alternatives = [escapeRegExp(ch)];
    const units = Array.from({ length: ch.length }, (_, i) => ch.charCodeAt(i));
    alternatives.push(units.map(unicodeEscapePattern).join(''));
    const short = JSON_SHORT_ESCAPES[ch];
    if (short) alternatives.push(escapeRegExp(short));
    source += `(?:${alternatives.join('|')})`;
  }
  return new RegExp(source, 'g');
}

/** The set of secret values the engine knows (per engine; values never leave it). */
export class KnownSecrets {
  private readonly values = new Set<string>();
  private current: SecretPatterns = NO_SECRETS;
  private readonly listeners = new Set<(patterns: SecretPatterns) => void>();

  /** Adds a value (an empty one is ignored). */
  add(value: string): void {
    if (value.length === 0 || this.values.has(value)) return;
    this.values.add(value);
    const all = [...this.values].sort((a, b) => b.length - a.length);
    this.current = {
      long: all
        .filter((v) => v.length >= MIN_REDACTED_LENGTH)
        .map((v) => ({ value: v, spelling: spellingPattern(v) })),
      short: all.filter((v) => v.length < MIN_REDACTED_LENGTH),
    };
    for (const l of this.listeners) l(this.current);
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

  /** The compiled secrets. */
  get patterns(): SecretPatterns {
    return this.current;
  }

  /** Calls `cb` with the new patterns on every change (and once now). */
  subscribe(cb: (patterns: SecretPatterns) => void): void {
    this.listeners.add(cb);
    cb(this.current);
  }

  /** `text` with every known value masked (see {@link redactText}). */
  redact(text: string): string {
    return redactText(text, this.current);
  }
}

/**
 * Plain text (an error message, a log line, an event detail) with every secret of at least
 * {@link MIN_REDACTED_LENGTH} characters masked, in raw or JSON-escaped spelling.
 */
export function redactText(text: string, secrets: SecretPatterns): string {
  let out = text;
  for (const s of secrets.long) {
    if (out.includes(s.value)) out = out.split(s.value).join(REDACTED);
    if (out.includes('\\') && out.search(s.spelling) >= 0) out = out.replace(s.spelling, REDACTED);
  }
  return out;
}

/** True when a JSON text holds a long secret in any spelling, or a short one as a whole string. */
function holdsSecret(json: string, secrets: SecretPatterns): boolean {
  const escaped = json.includes('\\');
  for (const s of secrets.long)
    if (json.includes(s.value) || (escaped && json.search(s.spelling) >= 0)) return true;
  return secrets.short.some((s) => json.includes(JSON.stringify(s)));
}

/** True when a JSON text may hold a secret: {@link redactJson} and friends then look closer. */
function mayContainSecret(json: string, secrets: SecretPatterns): boolean {
  if (holdsSecret(json, secrets)) return true;
  return secrets.short.some((s) => json.includes(s)) && CREDENTIAL_MEMBER_RE.test(json);
}

function maskString(v: string, secrets: SecretPatterns, inCredential: boolean): string {
  let out = v;
  for (const s of secrets.long) if (out.includes(s.value)) out = out.split(s.value).join(REDACTED);
  for (const s of secrets.short) if (inCredential ? out.includes(s) : out === s) return REDACTED;
  return out;
}

/**
 * A copy of a decoded JSON value with secrets masked in every string, key and number (a number
 * holding a secret becomes the string {@link REDACTED}); values deeper than {@link MAX_JSON_DEPTH}
 * become {@link TOO_DEEP}. Never throws.
 */
function redactValue(v: unknown, secrets: SecretPatterns, depth = 0, inCredential = false): unknown {
  if (typeof v === 'string') return maskString(v, secrets, inCredential);
  if (typeof v === 'number' || typeof v === 'bigint') {
    const s = String(v);
    return secrets.long.some((x) => s.includes(x.value)) ? REDACTED : v;
  }
  if (!v || typeof v !== 'object') return v;
  if (depth >= MAX_JSON_DEPTH) return TOO_DEEP;
  if (Array.isArray(v)) return v.map((x) => redactValue(x, secrets, depth + 1, inCredential));
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const credential = inCredential || SECRET_HEADER_RE.test(k);
    o[maskString(k, secrets, false)] = redactValue(x, secrets, depth + 1, credential);
  }
  return o;
}

const WITHHELD = JSON.stringify({ redacted: 'this message contained a secret and was withheld' });

/**
 * A JSON text (a recorded message) with every secret masked, still valid JSON: masked value by
 * value after decoding, so escaped spellings are caught. Returns `json` itself (no copy) when it
 * holds no secret, the common case; a text that still holds one after masking (or that does not
 * parse) is withheld whole.
 */
export function redactJson(json: string, secrets: SecretPatterns): string {
  if (!mayContainSecret(json, secrets)) return json;
  let masked: string;
  try {
    masked = safeStringify(redactValue(JSON.parse(json), secrets));
  } catch {
    return WITHHELD;
  }
  return holdsSecret(masked, secrets) ? WITHHELD : masked;
}

/**
 * `serialized`, the JSON text of `value`, unless it holds a secret: then `value` is masked
 * ({@link redactValue}) and serialized again. For what the engine sends (control-API results,
 * errors, notifications), where withholding the whole line would lose its id.
 */
export function redactSerialized(value: unknown, serialized: string, secrets: SecretPatterns): string {
  if (!mayContainSecret(serialized, secrets)) return serialized;
  return safeStringify(redactValue(value, secrets));
}
