/**
 * Edits an MCP client's config file (Claude Desktop, Cursor, VS Code, Claude Code, Windsurf) the way
 * a careful person would: one entry is added, replaced or removed; every other entry and key stays
 * as it was, with its order, formatting and unknown members (a text edit by jsonc-parser, not a
 * re-serialization); the content before MCP Tether's first edit is kept in `<file>.bak`, which is
 * never overwritten (so an `uninstall` after an `install` keeps the user's original entry); the new
 * content replaces the file atomically. A file that is not valid JSON is refused and never written.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import {
  MCP_CLIENT_FORMATS,
  clientEntry,
  isTetherEntry,
  type ClientConfigChange,
  type ClientEntry,
  type McpClient,
  type ShimLaunch,
} from '../../common/clients.js';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import { jsonError, lineColumn, writeFileAtomic } from '../config/store.js';
import { removeMember, setMember } from './json-edit.js';

/** A client config file as read: its text, and its parsed content (undefined: missing or empty). */
interface ClientFile {
  /** The file actually written: symlinks resolved, so a linked dotfile stays a link. */
  path: string;
  /** The full text (empty when the file does not exist). */
  text: string;
  exists: boolean;
  /** File permissions to keep. */
  mode: number;
  /** The parsed top level; `{}` for a missing or blank file. */
  root: Record<string, unknown>;
}

const BOM = '\uFEFF';

/**
 * Reads and checks a client config file. A missing or blank file reads as `{}`.
 * @throws TetherError CONFIG_INVALID (not JSON, or JSONC for clients that read it; top level or
 *   the servers member not an object) with `{ path, line, column }` or `{ path, at }`;
 *   CONFIG_IO when it cannot be read
 */
function readClientFile(client: McpClient, file: string): ClientFile {
  let path = file;
  let text = '';
  let exists = false;
  let mode = 0o600;
  try {
    path = realpathSync(file);
    text = readFileSync(path, 'utf8');
    exists = true;
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TetherError(
        ErrorCode.CONFIG_IO,
        `cannot read ${file}: ${errorMessage(err)}`,
        { path: file },
        { cause: err },
      );
    }
  }
  const body = text.startsWith(BOM) ? text.slice(BOM.length) : text;
  if (body.trim() === '') return { path, text, exists, mode, root: {} };
  const format = MCP_CLIENT_FORMATS[client];
  const label = format.label;
  let parsed: unknown;
  if (format.jsonc) {
    const errors: ParseError[] = [];
    parsed = parseJsonc(body, errors, { allowTrailingComma: true, disallowComments: false });
    const first = errors[0];
    if (first) throw notJson(label, path, body, first.offset, 'not valid JSON with comments');
  } else {
    try {
      parsed = JSON.parse(body);
    } catch {
      const { offset, reason } = jsonError(body);
      throw notJson(label, path, body, offset, `not valid JSON (${reason})`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TetherError(
      ErrorCode.CONFIG_INVALID,
      `${path}: the top level of ${label}'s config is not a JSON object; it was left untouched.`,
      { path, at: '(top level)' },
    );
  }
  const servers = (parsed as Record<string, unknown>)[format.key];
  if (servers !== undefined && (typeof servers !== 'object' || servers === null || Array.isArray(servers))) {
    throw new TetherError(
      ErrorCode.CONFIG_INVALID,
      `${path}: "${format.key}" in ${label}'s config is not a JSON object; it was left untouched.`,
      { path, at: format.key },
    );
  }
  return { path, text, exists, mode, root: parsed as Record<string, unknown> };
}

function notJson(label: string, path: string, body: string, offset: number, why: string): TetherError {
  const { line, column } = lineColumn(body, offset);
  return new TetherError(
    ErrorCode.CONFIG_INVALID,
    `${path}:${line}:${column}: ${label}'s config is ${why}. Fix it by hand (or move it away); it was left untouched.`,
    { path, line, column },
  );
}

/** Sets (or with `undefined`, removes) one member of the file's text, keeping everything else. */
function edit(text: string, jsonPath: string[], value: unknown): string {
  const bom = text.startsWith(BOM) ? BOM : '';
  const body = bom ? text.slice(BOM.length) : text;
  if (body.trim() === '') {
    // A blank file: write a fresh document rather than splice into whitespace.
    const doc = value === undefined ? {} : { [jsonPath[0]!]: { [jsonPath[1]!]: value } };
    return JSON.stringify(doc, null, 2) + '\n';
  }
  return bom + (value === undefined ? removeMember(body, jsonPath) : setMember(body, jsonPath, value));
}

/**
 * Writes `next` over the file, after keeping its previous content in `<file>.bak` when there is no
 * `.bak` yet: an existing one holds an older state (the user's own entries before MCP Tether's
 * first edit) and is never overwritten.
 * @returns the backup's path, when one was written now
 * @throws TetherError CONFIG_IO
 */
function replaceFile(file: ClientFile, next: string): string | undefined {
  let backupFile: string | undefined;
  if (file.exists && !existsSync(`${file.path}.bak`)) {
    backupFile = `${file.path}.bak`;
    writeFileAtomic(backupFile, file.text, file.mode);
  }
  writeFileAtomic(file.path, next, file.mode);
  return backupFile;
}

/** True when the file's text is still `text` (or it is still missing). */
function unchangedSince(file: ClientFile): boolean {
  try {
    return readFileSync(file.path, 'utf8') === file.text && file.exists;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && !file.exists;
  }
}

/** Runs a read-modify-write, again if the file changed under it (a few times at most). */
function withRetries<T>(attempt: () => { result: T; commit?: () => void; file: ClientFile }): T {
  for (let tries = 0; ; tries++) {
    const { result, commit, file } = attempt();
    if (!commit) return result;
    if (unchangedSince(file)) {
      commit();
      return result;
    }
    if (tries >= 4) {
      throw new TetherError(
        ErrorCode.CONFIG_IO,
        `${file.path} kept changing while MCP Tether was editing it; it was left as it is now`,
        { path: file.path, hint: 'Quit the client that is writing it and try again.' },
      );
    }
  }
}

/**
 * Adds (or replaces) the entry `name` that starts the shim, in a client's config file; creates the
 * file and its folders when missing. Installing what is already there does not write anything.
 * @param file the client's config file (absolute)
 * @throws TetherError CONFIG_INVALID (the file is not valid JSON: it was left untouched), CONFIG_IO
 */
export function installClientEntry(
  client: McpClient,
  file: string,
  name: string,
  launch: ShimLaunch,
): ClientConfigChange {
  const { key } = MCP_CLIENT_FORMATS[client];
  const entry: ClientEntry = clientEntry(client, launch);
  return withRetries<ClientConfigChange>(() => {
    const current = readClientFile(client, file);
    const servers = (current.root[key] ?? {}) as Record<string, unknown>;
    const previous = Object.hasOwn(servers, name) ? servers[name] : undefined;
    const base = { client, name, configFile: current.path, entry };
    if (previous !== undefined && isDeepStrictEqual(previous, entry)) {
      return { file: current, result: { ...base, action: 'unchanged' as const } };
    }
    const next = edit(current.text, [key, name], entry);
    const result: ClientConfigChange = {
      ...base,
      action: !current.exists ? 'created' : previous === undefined ? 'added' : 'updated',
      ...(previous !== undefined && !isTetherEntry(previous, name) ? { replacedForeign: true } : {}),
    };
    return {
      file: current,
      result,
      commit: () => {
        const backupFile = replaceFile(current, next);
        if (backupFile) result.backupFile = backupFile;
      },
    };
  });
}

/**
 * Removes the entry `name` from a client's config file, when it is MCP Tether's (an entry of that
 * name that starts something else is left alone). A missing file or entry is `absent`.
 * @throws TetherError CONFIG_INVALID (not valid JSON; untouched), INVALID_ARGUMENT (the entry is not
 *   MCP Tether's; untouched), CONFIG_IO
 */
export function uninstallClientEntry(client: McpClient, file: string, name: string): ClientConfigChange {
  const { key, label } = MCP_CLIENT_FORMATS[client];
  return withRetries<ClientConfigChange>(() => {
    const current = readClientFile(client, file);
    const servers = current.root[key] as Record<string, unknown> | undefined;
    const base = { client, name, configFile: current.path };
    if (!servers || !Object.hasOwn(servers, name)) {
      return { file: current, result: { ...base, action: 'absent' as const } };
    }
    if (!isTetherEntry(servers[name], name)) {
      throw new TetherError(
        ErrorCode.INVALID_ARGUMENT,
        `the entry "${name}" in ${current.path} does not start MCP Tether's shim; it was left untouched`,
        { path: current.path, hint: `Edit ${label}'s config by hand to remove it.` },
      );
    }
    const next = edit(current.text, [key, name], undefined);
    const result: ClientConfigChange = { ...base, action: 'removed' };
    return {
      file: current,
      result,
      commit: () => {
        const backupFile = replaceFile(current, next);
        if (backupFile) result.backupFile = backupFile;
      },
    };
  });
}

/**
 * Whether a client's config file holds MCP Tether's entry for `name`.
 * @throws TetherError CONFIG_INVALID, CONFIG_IO as {@link installClientEntry}
 */
export function hasClientEntry(client: McpClient, file: string, name: string): boolean {
  const servers = readClientServers(client, file);
  return Object.hasOwn(servers, name) && isTetherEntry(servers[name], name);
}

/**
 * The MCP servers a client's config file holds: its servers member (name → entry), `{}` when the
 * file is missing or has none.
 * @throws TetherError CONFIG_INVALID, CONFIG_IO as {@link installClientEntry}
 */
export function readClientServers(client: McpClient, file: string): Record<string, unknown> {
  const { key } = MCP_CLIENT_FORMATS[client];
  return (readClientFile(client, file).root[key] as Record<string, unknown> | undefined) ?? {};
}
