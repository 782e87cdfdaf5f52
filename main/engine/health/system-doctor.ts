/**
 * The system doctor's findings (`mcp-tether doctor` with no endpoint), as pure functions of facts
 * that system-probe.ts gathers: the runtime, MCP Tether's directories and their modes, the OS
 * keychain, each MCP client's config (which servers it already reaches through MCP Tether, and
 * which it reaches otherwise: an `mcp-remote` entry, with the commands that move it), and a
 * one-line verdict per endpoint from its layered doctor. Each finding carries a hint.
 */
import { MCP_CLIENT_FORMATS, isTetherEntry, type McpClient } from '../../common/clients.js';
import type { DoctorReport } from '../../common/domain.js';
import { DEMO_ENDPOINT, demoServerPort } from '../../common/demo.js';
import type { SystemFinding } from '../../common/system-doctor.js';
import { ENDPOINT_NAME_RE, type EndpointConfig } from '../../common/schemas.js';

/** The oldest Node.js MCP Tether supports (package.json `engines`). */
const MIN_NODE = '20.19.0';

/** True when version `a` (`v20.19.1` or `20.19.1`) is at least `b`. */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** A process's runtime, as `process.versions` and `process.execPath` tell. */
export interface RuntimeFacts {
  /** Which process: `engine` or `CLI`. */
  role: string;
  /** `process.versions.node`. */
  node: string;
  /** `process.versions.electron`, when the process is the app's binary run as Node. */
  electron?: string;
  execPath: string;
  platform: NodeJS.Platform;
  arch: string;
}

/** Whether a process's Node.js is new enough, and whether it is the app's Electron. */
export function runtimeFinding(f: RuntimeFacts): SystemFinding {
  const what = f.electron ? `Electron ${f.electron} (Node.js ${f.node}) run as Node` : `Node.js ${f.node}`;
  const base = { area: 'runtime' as const, subject: `${f.role} runtime` };
  if (!versionAtLeast(f.node, MIN_NODE))
    return {
      ...base,
      status: 'fail',
      detail: `${what} at ${f.execPath}, older than the ${MIN_NODE} MCP Tether needs`,
      hint: `Install Node.js ${MIN_NODE} or later (nodejs.org, or nvm install 20), then npm install again.`,
    };
  return {
    ...base,
    status: 'ok',
    detail: `${what} on ${f.platform}-${f.arch} (${f.execPath})`,
    hint: 'MCP clients start the shim with this binary by absolute path (see `mcp-tether config-snippet`).',
  };
}

/** One of MCP Tether's directories or files, as stat saw it. */
export interface PathFacts {
  /** `config directory`, `endpoints.json`, `state directory`, `log directory`, `runtime directory`. */
  label: string;
  path: string;
  kind: 'dir' | 'file';
  /** False when it does not exist (yet). */
  exists: boolean;
  /** Permission bits (`mode & 0o777`). */
  mode?: number;
  /** True when it belongs to the user running the engine. */
  ownedByUser?: boolean;
  /**
   * `private`: must be 0700 (the runtime directory: the control socket lives there; the state
   * directory: the app's known_hosts); `user`: must not be writable by others (the config).
   */
  expect: 'private' | 'user';
  /** For endpoints.json: how many endpoints it holds, or why it cannot be read. */
  content?: { endpoints: number } | { error: string; hint?: string };
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/**
 * Each directory: present, owned by the user, and with the mode it needs. The runtime directory
 * must be private (others could reach the control socket); others writing the config could point
 * endpoints elsewhere. Modes are not checked on Windows (ACLs).
 */
export function pathFinding(f: PathFacts, platform: NodeJS.Platform): SystemFinding {
  const base = { area: 'directories' as const, subject: f.label };
  if (!f.exists)
    return {
      ...base,
      status: f.kind === 'file' ? 'info' : 'ok',
      detail: `${f.path} does not exist yet`,
      hint:
        f.kind === 'file'
          ? 'It is written when you add the first endpoint (mcp-tether add, or mcp-tether demo).'
          : 'The engine creates it when it needs it.',
    };
  if (f.content && 'error' in f.content)
    return {
      ...base,
      status: 'fail',
      detail: f.content.error,
      hint: f.content.hint ?? `Fix ${f.path} by hand; MCP Tether never overwrites a file it cannot parse.`,
    };
  const what =
    f.content && 'endpoints' in f.content
      ? `${f.path}, ${f.content.endpoints} endpoint${f.content.endpoints === 1 ? '' : 's'}`
      : f.path;
  if (platform === 'win32')
    return {
      ...base,
      status: 'ok',
      detail: what,
      hint: 'On Windows your profile folder’s permissions protect it.',
    };
  const mode = f.mode ?? 0;
  const fix = `chmod ${f.expect === 'private' ? '700' : 'go-w'} '${f.path}'`;
  if (f.ownedByUser === false)
    return {
      ...base,
      status: 'fail',
      detail: `${what} belongs to another user`,
      hint: `It must be yours: sudo chown "$USER" '${f.path}'`,
      command: `sudo chown "$USER" '${f.path}'`,
    };
  if (f.expect === 'private' && (mode & 0o077) !== 0)
    return {
      ...base,
      status: f.label === 'runtime directory' ? 'fail' : 'warn',
      detail: `${what} has mode ${octal(mode)}: other users can look inside`,
      hint: `Make it private: ${fix}`,
      command: fix,
    };
  if (f.expect === 'user' && (mode & 0o022) !== 0)
    return {
      ...base,
      status: 'warn',
      detail: `${what} has mode ${octal(mode)}: other users can change it`,
      hint: `Only you should write it: ${fix}`,
      command: fix,
    };
  return { ...base, status: 'ok', detail: `${what} (mode ${octal(mode)})`, hint: 'Nothing to do.' };
}

/** What trying the OS keychain gave. */
export interface KeychainFacts {
  platform: NodeJS.Platform;
  /** On Linux, `DBUS_SESSION_BUS_ADDRESS` of the engine (where the Secret Service is looked for). */
  busAddress?: string;
  /** The probe: the number of MCP Tether's entries found, or the failure. */
  result: { ok: true; entries: number } | { ok: false; message: string; hint?: string };
  /** Endpoints that keep credentials in the keychain (with `auth`). */
  endpointsWithAuth: string[];
}

/** The keychain backend keytar uses on this platform, for people. */
function keychainBackend(platform: NodeJS.Platform, busAddress?: string): string {
  if (platform === 'darwin') return 'the macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return `the Secret Service (libsecret) on the session D-Bus${busAddress ? ` ${busAddress}` : ', but DBUS_SESSION_BUS_ADDRESS is not set'}`;
}

/**
 * Whether the keychain answers. Unreachable is a failure when an endpoint needs it, a warning
 * otherwise (nothing is stored there yet).
 */
export function keychainFinding(f: KeychainFacts): SystemFinding {
  const backend = keychainBackend(f.platform, f.busAddress);
  const base = { area: 'keychain' as const, subject: 'OS keychain' };
  if (f.result.ok)
    return {
      ...base,
      status: 'ok',
      detail: `reachable: ${backend}; ${f.result.entries} entr${f.result.entries === 1 ? 'y' : 'ies'} of service mcp-tether`,
      hint: 'See the names with `mcp-tether secret list` (never the values).',
    };
  const needed = f.endpointsWithAuth.length > 0;
  return {
    ...base,
    status: needed ? 'fail' : 'warn',
    detail: `not reachable (${backend}): ${f.result.message}${needed ? `; needed by ${f.endpointsWithAuth.join(', ')}` : '; no endpoint needs it yet'}`,
    hint: f.result.hint ?? 'Secrets are kept only in the OS keychain, never in a file.',
  };
}

/** How one entry of a client's config reaches its MCP server. */
export type ClientEntryKind =
  | { kind: 'tether'; endpoint: string }
  | { kind: 'mcp-remote'; url: string; secretHeaders: string[] }
  | { kind: 'url'; url: string }
  | { kind: 'command'; command: string }
  | { kind: 'unknown' };

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** Header names whose values are credentials (as `add` refuses them in `--header`). */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|token|api[-_]?key|secret|password/i;

/**
 * What an entry runs: MCP Tether's shim (`… mcp-tether … shim <endpoint>`), `mcp-remote <url>`
 * (also through npx, pnpm dlx or bunx), a direct URL (`url` or Windsurf's `serverUrl`), or another
 * command. Never keeps a header's value: only the names of `--header` options that carry secrets.
 */
export function classifyClientEntry(entry: unknown): ClientEntryKind {
  if (typeof entry !== 'object' || entry === null) return { kind: 'unknown' };
  const e = entry as Record<string, unknown>;
  const args = strings(e['args']);
  const endpoint = args.at(-1);
  if (endpoint !== undefined && isTetherEntry(entry, endpoint)) return { kind: 'tether', endpoint };
  const command = typeof e['command'] === 'string' ? e['command'] : undefined;
  const words = command ? [command, ...args] : args;
  const remoteAt = words.findIndex((w) => /(^|[\\/])mcp-remote(@[^\s/]*)?$/.test(w));
  if (remoteAt >= 0) {
    const rest = words.slice(remoteAt + 1);
    const url = rest.find((w) => /^https?:\/\//i.test(w));
    if (url) {
      const secretHeaders: string[] = [];
      rest.forEach((w, i) => {
        if (w !== '--header') return;
        const name = (rest[i + 1] ?? '').split(':')[0]!.trim();
        if (name && SECRET_HEADER.test(name)) secretHeaders.push(name);
      });
      return { kind: 'mcp-remote', url, secretHeaders };
    }
  }
  const url =
    typeof e['url'] === 'string' ? e['url'] : typeof e['serverUrl'] === 'string' ? e['serverUrl'] : undefined;
  if (url) return { kind: 'url', url };
  if (command) return { kind: 'command', command };
  return { kind: 'unknown' };
}

/** A client's config file as the probe found it. */
export interface ClientFacts {
  client: McpClient;
  configFile: string;
  exists: boolean;
  /** Its servers (name → entry), when it could be read. */
  servers?: Record<string, unknown>;
  /** Why it could not be read (not JSON, unreadable). */
  error?: string;
}

/** A valid endpoint name for a client entry's name (ENDPOINT_NAME_RE): odd characters become `-`. */
export function endpointNameFor(entryName: string): string {
  const name = entryName
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return ENDPOINT_NAME_RE.test(name) ? name : 'remote';
}

/** The commands that move a remote server of a client's config to MCP Tether. */
function migration(
  client: McpClient,
  entryName: string,
  url: string,
  secretHeaders: string[],
  endpoints: Record<string, EndpointConfig>,
): { command: string; hint: string } {
  let name = endpointNameFor(entryName);
  const same = Object.entries(endpoints).find(([, c]) => c.url === url && !c.ssh)?.[0];
  const install = (n: string) => `mcp-tether install ${n} --client ${client}`;
  if (same !== undefined) {
    return {
      command: install(same),
      hint: `Endpoint ${same} already points at ${url}: install it in place of this entry (the old file is kept as .bak).`,
    };
  }
  if (endpoints[name]) name = `${name}-2`;
  const [secret] = secretHeaders;
  const auth = !secret ? '' : /^authorization$/i.test(secret) ? ' --auth bearer' : ` --auth header:${secret}`;
  const store = !secret
    ? ''
    : /^authorization$/i.test(secret)
      ? ` Then store its token in the OS keychain: printf '%s' "$TOKEN" | mcp-tether secret set ${name}.`
      : ` Then store its ${secret} in the OS keychain: printf '%s' "$KEY" | mcp-tether secret set ${name} --header ${secret}.`;
  return {
    command: `mcp-tether add ${name} ${url}${auth} && ${install(name)}`,
    hint: `One shared connection in the engine, live traffic and health instead of a process per client; install replaces the entry and keeps the old file as .bak.${store}`,
  };
}

/**
 * Per client: whether its config exists and which MCP servers it reaches, and how (through MCP
 * Tether or not). A Tether entry for an endpoint that does not exist, and an `mcp-remote` entry
 * (with the commands that move it), get findings of their own. `endpoints` is undefined when
 * endpoints.json could not be read: then no entry is said to lack its endpoint.
 */
export function clientFindings(
  f: ClientFacts,
  endpoints: Record<string, EndpointConfig> | undefined,
): SystemFinding[] {
  const label = MCP_CLIENT_FORMATS[f.client].label;
  const base = { area: 'clients' as const, subject: label };
  if (f.error)
    return [
      {
        ...base,
        status: 'fail',
        detail: f.error,
        hint: `${label} cannot read it either. Fix it by hand; MCP Tether never writes a file it cannot parse.`,
      },
    ];
  if (!f.exists)
    return [
      {
        ...base,
        status: 'info',
        detail: `no config at ${f.configFile}`,
        hint: `If you use ${label}: mcp-tether install <endpoint> --client ${f.client} creates it.`,
      },
    ];
  const entries = Object.entries(f.servers ?? {});
  const through: string[] = [];
  const other: string[] = [];
  const extra: SystemFinding[] = [];
  for (const [name, entry] of entries) {
    const k = classifyClientEntry(entry);
    const sub = { area: 'clients' as const, subject: `${label}: ${name}` };
    if (k.kind === 'tether') {
      through.push(k.endpoint === name ? name : `${name} (→ ${k.endpoint})`);
      if (endpoints && !endpoints[k.endpoint])
        extra.push({
          ...sub,
          status: 'warn',
          detail: `starts mcp-tether shim ${k.endpoint}, but there is no endpoint ${k.endpoint}`,
          hint: `Add it (mcp-tether add ${k.endpoint} <url>) or remove the entry.`,
          command: `mcp-tether uninstall ${k.endpoint} --client ${f.client}`,
        });
    } else if (k.kind === 'mcp-remote') {
      other.push(`${name} (mcp-remote ${k.url})`);
      const m = migration(f.client, name, k.url, k.secretHeaders, endpoints ?? {});
      extra.push({
        ...sub,
        status: 'info',
        detail: `reaches ${k.url} through mcp-remote; it could go through MCP Tether`,
        hint: m.hint,
        command: m.command,
      });
    } else if (k.kind === 'url') {
      other.push(`${name} (${k.url}, directly)`);
    } else if (k.kind === 'command') {
      other.push(`${name} (runs ${k.command})`);
    } else {
      other.push(`${name} (not an entry MCP Tether understands)`);
    }
  }
  const parts: string[] = [];
  if (through.length) parts.push(`through MCP Tether: ${through.join(', ')}`);
  if (other.length) parts.push(`not through MCP Tether: ${other.join(', ')}`);
  return [
    {
      ...base,
      status: 'ok',
      detail: `${f.configFile}: ${entries.length ? parts.join('; ') : 'no MCP servers'}`,
      hint: through.length
        ? `Restart ${label} after changing endpoints' names; the URL and credentials can change freely.`
        : `Set one up: mcp-tether install <endpoint> --client ${f.client}`,
    },
    ...extra,
  ];
}

/**
 * One line per endpoint from its layered doctor: all layers fine, or the first that failed. The
 * `demo` endpoint whose demo server does not answer is no problem: that server runs only during
 * `mcp-tether demo` (and after it with `--keep`, until the engine stops).
 */
export function endpointVerdict(r: DoctorReport): SystemFinding {
  const base = { area: 'endpoints' as const, subject: r.endpoint };
  if (r.ok) {
    const last = r.steps.find((s) => s.layer === 'ping') ?? r.steps.at(-1);
    return {
      ...base,
      status: 'ok',
      detail: `all layers OK${last ? ` (${last.layer}: ${last.detail})` : ''}`,
      hint: `Details: mcp-tether doctor ${r.endpoint}`,
    };
  }
  const failed = r.steps.find((s) => !s.ok);
  if (r.endpoint === DEMO_ENDPOINT && demoServerPort(r.url) !== undefined && failed?.layer === 'tcp')
    return {
      ...base,
      status: 'info',
      detail:
        'the demo server is not running: it runs during `mcp-tether demo`, and after it with --keep until the engine stops',
      hint: 'Run the demo again (--keep leaves its server running), or remove the demo endpoint: mcp-tether demo --remove',
      command: 'mcp-tether demo --keep',
    };
  return {
    ...base,
    status: 'fail',
    detail: failed ? `${failed.layer}: ${failed.detail}` : 'failed',
    hint: failed?.hint
      ? `${failed.hint} (details: mcp-tether doctor ${r.endpoint})`
      : `Details: mcp-tether doctor ${r.endpoint}`,
  };
}
