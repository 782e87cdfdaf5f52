/**
 * endpoints.json: load with clear errors, validate with zod, save atomically, never overwrite a
 * file that could not be parsed. The engine re-reads the file when it changes on disk (checked by
 * size and mtime on each use), so hand edits take effect without a restart.
 */
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  fsyncSync,
  closeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import { validationIssues } from '../../common/validation.js';
import { ConfigFileSchema, type ConfigFile } from '../../common/schemas.js';

/** Line and column (1-based) of a character offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}

/**
 * Where and why a text stops being valid JSON (RFC 8259), by jsonc-parser's strict mode: V8's own
 * message often has no position.
 */
export function jsonError(text: string): { offset: number; reason: string } {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return { offset: text.length, reason: 'not valid JSON' };
  // A string cut by a raw newline is reported at its opening quote: point at the newline instead.
  const offset =
    printParseErrorCode(first.error) === 'UnexpectedEndOfString' ? first.offset + first.length : first.offset;
  return { offset, reason: printParseErrorCode(first.error) };
}

/**
 * Parses and validates the text of endpoints.json.
 * @throws TetherError CONFIG_INVALID with `{ path, line, column }` for bad JSON, `{ path, at }` (the
 *   JSON path) for schema errors; the message names the file and says how to fix it
 */
export function parseConfig(text: string, path: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const { offset, reason } = jsonError(text);
    const { line, column } = lineColumn(text, offset);
    throw new TetherError(
      ErrorCode.CONFIG_INVALID,
      `${path}:${line}:${column}: not valid JSON (${reason}; ${errorMessage(err)}). Fix the file by hand; it was left untouched.`,
      { path, line, column },
      { cause: err },
    );
  }
  const result = ConfigFileSchema.safeParse(raw);
  if (!result.success) {
    const issues = validationIssues(result.error);
    const issue = issues[0]!;
    const at = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new TetherError(
      ErrorCode.CONFIG_INVALID,
      `${path}: ${at}: ${issue.message}. Fix the file by hand; it was left untouched.`,
      { path, at, issues: issues.map((i) => ({ at: i.path.join('.'), message: i.message })) },
    );
  }
  return result.data;
}

/** The default, empty config. */
export function emptyConfig(): ConfigFile {
  return ConfigFileSchema.parse({ version: 1 });
}

/**
 * `rename`, retried on Windows while the target is briefly held open: EPERM, EBUSY and EACCES
 * come from antivirus scanners, the search indexer or an editor reading the file at that moment
 * (the same errors graceful-fs retries). Up to `budgetMs` in growing steps, then the last error.
 * @param rename injectable for tests (default `fs.renameSync`)
 * @throws Error the rename's error
 */
export function renameRetrying(
  from: string,
  to: string,
  platform: NodeJS.Platform = process.platform,
  rename: (from: string, to: string) => void = renameSync,
  budgetMs = 2000,
): void {
  const deadline = Date.now() + budgetMs;
  for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
    try {
      rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = platform === 'win32' && (code === 'EPERM' || code === 'EBUSY' || code === 'EACCES');
      if (!transient || Date.now() + wait > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait); // a synchronous pause
    }
  }
}

/**
 * Writes a file atomically: a temporary file in the same directory, fsync, rename over the target
 * (retried on Windows, see {@link renameRetrying}).
 * @param mode file permissions (default 0600: the file is the user's alone)
 * @throws TetherError CONFIG_IO
 */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameRetrying(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not created
    }
    throw new TetherError(
      ErrorCode.CONFIG_IO,
      `cannot write ${path}: ${errorMessage(err)}`,
      { path },
      { cause: err },
    );
  }
}

/** Loads and saves endpoints.json. */
export class ConfigStore {
  private cache: { key: string; config: ConfigFile } | undefined;

  /** @param path absolute path of endpoints.json */
  constructor(readonly path: string) {}

  /**
   * The current config (a missing file is the empty config).
   * @throws TetherError CONFIG_INVALID, CONFIG_IO
   */
  read(): ConfigFile {
    let key: string;
    try {
      const st = statSync(this.path);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
      throw new TetherError(
        ErrorCode.CONFIG_IO,
        `cannot read ${this.path}: ${errorMessage(err)}`,
        { path: this.path },
        { cause: err },
      );
    }
    if (this.cache?.key === key) return this.cache.config;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new TetherError(
        ErrorCode.CONFIG_IO,
        `cannot read ${this.path}: ${errorMessage(err)}`,
        { path: this.path },
        { cause: err },
      );
    }
    const config = parseConfig(text, this.path);
    this.cache = { key, config };
    return config;
  }

  /**
   * Reads, applies `change` to a copy, validates and writes atomically. A file that does not parse
   * is never overwritten: the read fails first.
   * @throws TetherError CONFIG_INVALID (current file, or the changed config), CONFIG_IO, or whatever
   *   `change` throws
   */
  update(change: (config: ConfigFile) => void): ConfigFile {
    const next = structuredClone(this.read());
    change(next);
    const text = JSON.stringify(next, null, 2) + '\n';
    const validated = parseConfig(text, this.path);
    writeFileAtomic(this.path, text);
    this.cache = undefined;
    return validated;
  }
}
