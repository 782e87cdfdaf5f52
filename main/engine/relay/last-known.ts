/**
 * The last known state of one endpoint's server (issue 9 "offline start"): the last good
 * `initialize` result (or `server/discover` answer) and the last `tools/list`, `prompts/list`,
 * `resources/list` and `resources/templates/list` results, kept in the state directory
 * (`state/last-known/<endpoint>.json`, 0600 in a 0700 directory, written atomically on each result) so a shim
 * started while the server is unreachable can still be answered. Results are stored with every
 * known secret masked, as traffic records are ({@link TrafficRecorder.mask}); nothing else of the
 * session is kept. A file bound to another server (URL, SSH destination, command or transport
 * changed) is ignored and replaced; a file that does not parse is moved aside
 * (`<endpoint>.json.broken`), never overwritten. The tools' `readOnlyHint` / `idempotentHint`
 * annotations read from the stored `tools/list` pages feed the safe-retry rule (retry-policy.ts).
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointConfig } from '../../common/schemas.js';
import { toTetherError, errorMessage } from '../../common/errors.js';
import { writeFileAtomic } from '../config/store.js';
import { targetOf } from '../protocol/era-store.js';
import type { ToolHints } from './retry-policy.js';

/** The methods whose last result is kept, and answered from it when the server cannot be reached. */
export const CACHED_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
]);

/** Most pages kept per endpoint (first pages and pages by cursor, over every method). */
const MAX_ENTRIES = 64;

/** Largest result kept (bytes of JSON text); a bigger one is not cached. */
const MAX_RESULT_BYTES = 4 * 1024 * 1024;

/** One cached result. */
export interface LastKnownEntry {
  /** The `result` member as JSON text, secrets masked. */
  result: string;
  /** When the server gave it (wall clock, ms). */
  savedAtMs: number;
}

interface FileShape {
  version: 1;
  /** Hash of the server-naming part of the config (see protocol/era-store.ts). */
  target: string;
  /** By {@link keyOf}. */
  entries: Record<string, LastKnownEntry>;
}

/** The cache key of a request: its method, and the cursor of a later page. */
function keyOf(method: string, params: unknown): string {
  const cursor = (params as { cursor?: unknown } | undefined)?.cursor;
  return typeof cursor === 'string' ? `${method} ${cursor}` : method;
}

/** Dependencies of a {@link LastKnown}. */
export interface LastKnownDeps {
  /** The JSON file; undefined keeps everything in memory. */
  file: string | undefined;
  /** Masks known secrets in a JSON text (the recorder's). */
  mask(text: string): string;
  /** Reports a file that could not be read or written (traffic event). */
  problem(detail: string): void;
}

/** The path of an endpoint's file in the state directory. */
export function lastKnownFile(stateDir: string, endpoint: string): string {
  return join(stateDir, 'last-known', `${encodeURIComponent(endpoint)}.json`);
}

/** See the module comment. */
export class LastKnown implements ToolHints {
  private entries = new Map<string, LastKnownEntry>();
  private readonly target: string;
  /** Tool name → its annotations, from the stored `tools/list` pages (rebuilt on change). */
  private hints: Map<string, { readOnlyHint?: unknown; idempotentHint?: unknown }> | undefined;

  /** @param config the endpoint's config (its server-naming part binds the file) */
  constructor(
    config: EndpointConfig,
    private readonly deps: LastKnownDeps,
  ) {
    this.target = targetOf(config);
    this.load();
  }

  private load(): void {
    const file = this.deps.file;
    if (!file || !existsSync(file)) return;
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<FileShape>;
      if (data.version !== 1 || data.target !== this.target || typeof data.entries !== 'object') return;
      for (const [k, e] of Object.entries(data.entries ?? {})) {
        if (typeof e?.result === 'string' && typeof e.savedAtMs === 'number') this.entries.set(k, e);
      }
    } catch (err) {
      this.entries.clear();
      try {
        renameSync(file, `${file}.broken`);
      } catch {
        // left as it is; nothing is cached then
      }
      this.deps.problem(`the last known state could not be read (${errorMessage(err)}); moved aside`);
    }
  }

  /** Forgets everything and removes the file (the endpoint was removed or its server changed). */
  forget(): void {
    this.entries.clear();
    this.hints = undefined;
    if (this.deps.file) rmSync(this.deps.file, { force: true });
  }

  /**
   * Keeps the result of a successful request of a {@link CACHED_METHODS} method. The state file is
   * written only when a result changed (not on every `tools/list`); a result too deep to serialize
   * is not kept.
   * @param result the response's `result` member
   */
  note(method: string, params: unknown, result: unknown): void {
    if (!CACHED_METHODS.has(method) || result === undefined) return;
    const key = keyOf(method, params);
    if (!this.entries.has(key) && this.entries.size >= MAX_ENTRIES) return;
    let text: string;
    try {
      text = this.deps.mask(JSON.stringify(result));
    } catch {
      return; // nested too deep to serialize (a hostile server): nothing worth keeping
    }
    if (Buffer.byteLength(text) > MAX_RESULT_BYTES) return;
    const unchanged = this.entries.get(key)?.result === text;
    this.entries.set(key, { result: text, savedAtMs: Date.now() });
    if (unchanged) return; // the file keeps the time the result last changed: no write per request
    if (method === 'tools/list') this.hints = undefined;
    this.save();
  }

  /** The last result of this request (same method, same cursor), if any. */
  get(method: string, params: unknown): LastKnownEntry | undefined {
    return CACHED_METHODS.has(method) ? this.entries.get(keyOf(method, params)) : undefined;
  }

  /** True when an `initialize` result (or `server/discover` answer) is known. */
  get reachedBefore(): boolean {
    return this.entries.has('initialize') || this.entries.has('server/discover');
  }

  /** {@link ToolHints}: the annotations of `name` in the last `tools/list` pages. */
  annotations(name: string): { readOnlyHint?: unknown; idempotentHint?: unknown } | undefined {
    if (!this.hints) {
      this.hints = new Map();
      for (const [k, e] of this.entries) {
        if (k !== 'tools/list' && !k.startsWith('tools/list ')) continue;
        try {
          const tools = (JSON.parse(e.result) as { tools?: unknown }).tools;
          if (!Array.isArray(tools)) continue;
          for (const t of tools as { name?: unknown; annotations?: unknown }[]) {
            if (typeof t?.name === 'string' && typeof t.annotations === 'object' && t.annotations !== null)
              this.hints.set(t.name, t.annotations as { readOnlyHint?: unknown; idempotentHint?: unknown });
          }
        } catch {
          // a page that is not JSON any more (masked inside a string it is still JSON): skipped
        }
      }
    }
    return this.hints.get(name);
  }

  private save(): void {
    if (!this.deps.file) return;
    const data: FileShape = { version: 1, target: this.target, entries: Object.fromEntries(this.entries) };
    try {
      writeFileAtomic(this.deps.file, JSON.stringify(data) + '\n');
    } catch (err) {
      this.deps.problem(`the last known state could not be saved: ${toTetherError(err).message}`);
    }
  }
}
