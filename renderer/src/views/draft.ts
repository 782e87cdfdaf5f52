/**
 * The endpoint editor's model, apart from React: a draft of strings as typed, the endpoint it
 * describes (the engine validates it), and the placing of the engine's validation errors on fields.
 */
import type { EndpointConfig, EndpointConfigInput, TransportKind } from '../../../main/common/schemas.js';
import type { TetherError } from '../../../main/common/errors.js';

/** The transports, as main/common/schemas.ts lists them (not imported: that loads zod), for people. */
export const TRANSPORT_CHOICES = [
  ['auto', 'Auto (Streamable HTTP, else legacy SSE)'],
  ['streamable-http', 'Streamable HTTP'],
  ['sse', 'Legacy HTTP+SSE'],
  ['websocket', 'WebSocket'],
  ['stdio', 'stdio over SSH (a remote command)'],
  ['commands', 'Allow-listed commands over SSH (a commands file)'],
] as const satisfies readonly (readonly [TransportKind, string])[];

export type AuthChoice = 'none' | 'bearer' | 'header' | 'oauth' | 'token-exchange';

/** The form's state: strings as typed, turned into an endpoint only when saved. */
export interface Draft {
  name: string;
  transport: TransportKind;
  url: string;
  headers: { key: number; name: string; value: string }[];
  auth: AuthChoice;
  authHeader: string;
  clientId: string;
  scopes: string;
  clientMetadataUrl: string;
  connectTimeoutMs: string;
  requestTimeoutMs: string;
  pingIntervalMs: string;
  ssh: boolean;
  sshDestination: string;
  sshIdentity: string;
  sshJump: string;
  sshConfigFile: string;
  loginShell: boolean;
  command: string;
  /** For the `commands` transport: the commands file's absolute path. */
  commandsFile: string;
  /** Network settings the form does not show (`--ca`, `--proxy`, `secret set --proxy`), kept as stored. */
  network?: Pick<EndpointConfig, 'ca' | 'proxy' | 'proxyAuth'>;
  /** A token-exchange `auth` as stored (set with the CLI; the form keeps it unchanged). */
  tokenExchange?: Extract<EndpointConfig['auth'], { type: 'token-exchange' }>;
}

let rowKey = 0;

/** An empty header row (its key keeps React's inputs apart). */
export function newHeaderRow(): Draft['headers'][number] {
  return { key: rowKey++, name: '', value: '' };
}

/** A draft of a stored endpoint, or an empty one. */
export function draftOf(name = '', c?: EndpointConfig): Draft {
  return {
    name,
    transport: c?.transport ?? 'auto',
    url: c?.url ?? '',
    headers: Object.entries(c?.headers ?? {}).map(([n, value]) => ({ key: rowKey++, name: n, value })),
    auth: c?.auth?.type ?? 'none',
    authHeader: c?.auth?.type === 'header' ? c.auth.name : '',
    clientId: c?.auth?.type === 'oauth' ? (c.auth.clientId ?? '') : '',
    scopes: c?.auth?.type === 'oauth' ? (c.auth.scopes ?? []).join(' ') : '',
    clientMetadataUrl: c?.auth?.type === 'oauth' ? (c.auth.clientMetadataUrl ?? '') : '',
    connectTimeoutMs: String(c?.connectTimeoutMs ?? 10_000),
    requestTimeoutMs: String(c?.requestTimeoutMs ?? 300_000),
    pingIntervalMs: String(c?.pingIntervalMs ?? 15_000),
    ssh: c?.ssh !== undefined,
    sshDestination: c?.ssh?.destination ?? '',
    sshIdentity: c?.ssh?.identityFile ?? '',
    sshJump: (c?.ssh?.jump ?? []).join(', '),
    sshConfigFile: c?.ssh?.configFile ?? '',
    loginShell: c?.loginShell ?? false,
    command: c?.command ? joinWords(c.command) : '',
    commandsFile: c?.commandsFile ?? '',
    network: Object.fromEntries(
      (['ca', 'proxy', 'proxyAuth'] as const).filter((k) => c?.[k] !== undefined).map((k) => [k, c![k]]),
    ),
    ...(c?.auth?.type === 'token-exchange' ? { tokenExchange: c.auth } : {}),
  };
}

/**
 * Splits a command line into words as a POSIX shell would for quoting: single quotes keep
 * everything, double quotes keep all but `\"` and `\\`, a backslash escapes the next character.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      word += line.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? line.length : end;
      inWord = true;
    } else if (ch === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        word += line[i];
      }
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The inverse of {@link splitWords}: quotes a word only when it needs it. */
export function joinWords(words: string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The endpoint a draft describes; the engine validates it. */
export function configOf(d: Draft): EndpointConfigInput {
  const c: EndpointConfigInput = { transport: d.transport };
  const stdio = d.transport === 'stdio';
  const commands = d.transport === 'commands';
  if (!stdio && !commands && d.url.trim()) c.url = d.url.trim();
  if (stdio && d.command.trim()) c.command = splitWords(d.command);
  if (commands && d.commandsFile.trim()) c.commandsFile = d.commandsFile.trim();
  if (stdio || commands) c.loginShell = d.loginShell;
  if (d.ssh || stdio || commands) {
    c.ssh = {
      destination: d.sshDestination.trim(),
      jump: d.sshJump.split(/[\s,]+/).filter(Boolean),
    };
    if (d.sshIdentity.trim()) c.ssh.identityFile = d.sshIdentity.trim();
    if (d.sshConfigFile.trim()) c.ssh.configFile = d.sshConfigFile.trim();
  }
  const headers: Record<string, string> = {};
  for (const h of d.headers) if (h.name.trim()) headers[h.name.trim()] = h.value;
  c.headers = headers;
  if (d.auth === 'bearer') c.auth = { type: 'bearer' };
  else if (d.auth === 'header') c.auth = { type: 'header', name: d.authHeader.trim() };
  else if (d.auth === 'token-exchange' && d.tokenExchange) c.auth = d.tokenExchange;
  else if (d.auth === 'oauth') {
    const oauth: EndpointConfigInput['auth'] = { type: 'oauth' };
    if (d.clientId.trim()) oauth.clientId = d.clientId.trim();
    const scopes = d.scopes.split(/\s+/).filter(Boolean);
    if (scopes.length) oauth.scopes = scopes;
    if (d.clientMetadataUrl.trim()) oauth.clientMetadataUrl = d.clientMetadataUrl.trim();
    c.auth = oauth;
  }
  // Empty means the default; anything else goes as a number (a non-number fails validation there).
  const ms = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const connect = ms(d.connectTimeoutMs);
  const request = ms(d.requestTimeoutMs);
  const ping = ms(d.pingIntervalMs);
  if (connect !== undefined) c.connectTimeoutMs = connect;
  if (request !== undefined) c.requestTimeoutMs = request;
  if (ping !== undefined) c.pingIntervalMs = ping;
  return { ...c, ...d.network };
}

/** Field errors by field key (`url`, `ssh.destination`, `headers.X-Key`…), and the rest. */
export interface FieldErrors {
  fields: Record<string, string>;
  other: TetherError | undefined;
}

/**
 * Places the engine's validation errors: each issue's path (`endpoint.ssh.destination`) names a
 * field. Without structured issues, the message's `path: ` prefix does.
 */
export function fieldErrors(err: TetherError): FieldErrors {
  const fields: Record<string, string> = {};
  const place = (path: string[], message: string): boolean => {
    const p = path[0] === 'endpoint' ? path.slice(1) : path;
    if (p.length === 0) return false;
    const key =
      p[0] === 'headers' && p.length > 1 ? `headers.${p.slice(1).join('.')}` : p.slice(0, 2).join('.');
    fields[key] ??= message;
    return true;
  };
  const issues = err.data['issues'];
  let placed = false;
  if (Array.isArray(issues)) {
    for (const i of issues as { path?: unknown; message?: unknown }[]) {
      if (Array.isArray(i.path) && typeof i.message === 'string')
        placed = place(i.path.map(String), i.message) || placed;
    }
  } else {
    const m = /^([\w.-]+(?:\.[^:\s]+)?): (.*)$/s.exec(err.message);
    if (m) placed = place(m[1]!.split('.'), m[2]!);
  }
  if (err.code === 'ENDPOINT_EXISTS') {
    fields['name'] = err.message;
    placed = true;
  }
  // A field key for an ssh subfield is `ssh.x`; for the command's items, `command`.
  for (const k of Object.keys(fields)) {
    const base = /^(command|jump)\.\d+$/.exec(k);
    if (base) {
      fields[base[1]!] ??= fields[k]!;
    }
  }
  return { fields, other: placed ? undefined : err };
}
