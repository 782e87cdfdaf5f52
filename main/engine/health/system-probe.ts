/**
 * Gathers the facts of the system doctor (see system-doctor.ts for the findings): the engine's
 * runtime, its directories as stat sees them, one keychain call, each MCP client's config file,
 * and every endpoint's layered doctor (four at a time).
 */
import { statSync } from 'node:fs';
import { MCP_CLIENTS } from '../../common/clients.js';
import { clientConfigPath, type ClientPathContext } from '../../common-node/client-paths.js';
import type { DoctorReport, SecretInfo } from '../../common/domain.js';
import type { TetherPaths } from '../../common-node/paths.js';
import type { ConfigFile } from '../../common/schemas.js';
import type { SystemFinding, SystemReport } from '../../common/system-doctor.js';
import { TetherError, errorMessage } from '../../common/errors.js';
import { readClientServers } from '../clients/config-file.js';
import {
  clientFindings,
  endpointVerdict,
  keychainFinding,
  pathFinding,
  runtimeFinding,
  type ClientFacts,
  type PathFacts,
  type RuntimeFacts,
} from './system-doctor.js';

/** What {@link probeSystem} reads through the engine. */
export interface SystemProbeDeps {
  paths: TetherPaths;
  /** endpoints.json, validated. @throws TetherError CONFIG_INVALID, CONFIG_IO */
  readConfig(): ConfigFile;
  /** The names of MCP Tether's keychain entries. @throws TetherError KEYCHAIN_UNAVAILABLE */
  keychainList(): Promise<SecretInfo[]>;
  /** Where the clients' config files are. */
  clientPaths: ClientPathContext;
  /** The layered doctor of one endpoint. */
  doctor(name: string): Promise<DoctorReport>;
  /** The caller's runtime (the CLI's), checked besides the engine's. */
  callerRuntime?: RuntimeFacts;
}

/** The running process's runtime. */
function currentRuntime(role: string): RuntimeFacts {
  const electron = process.versions['electron'];
  return {
    role,
    node: process.versions.node,
    ...(electron ? { electron } : {}),
    execPath: process.execPath,
    platform: process.platform,
    arch: process.arch,
  };
}

function statPath(
  label: string,
  path: string,
  kind: PathFacts['kind'],
  expect: PathFacts['expect'],
): PathFacts {
  try {
    const st = statSync(path);
    const uid = process.getuid?.();
    return {
      label,
      path,
      kind,
      expect,
      exists: true,
      mode: st.mode & 0o777,
      ...(uid !== undefined ? { ownedByUser: st.uid === uid } : {}),
    };
  } catch {
    return { label, path, kind, expect, exists: false };
  }
}

/** Runs `op` on every item, at most `limit` at a time, keeping the order of the results. */
async function pooled<T, R>(items: T[], limit: number, op: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await op(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Probes the whole setup; never rejects (each failure is a finding). */
export async function probeSystem(deps: SystemProbeDeps): Promise<SystemReport> {
  const { paths } = deps;
  const findings: SystemFinding[] = [];
  if (deps.callerRuntime) findings.push(runtimeFinding(deps.callerRuntime));
  findings.push(runtimeFinding(currentRuntime('engine')));

  let config: ConfigFile | undefined;
  const configFacts = statPath('endpoints.json', paths.configFile, 'file', 'user');
  if (configFacts.exists) {
    try {
      config = deps.readConfig();
      configFacts.content = { endpoints: Object.keys(config.endpoints).length };
    } catch (err) {
      const e = err as TetherError;
      const hint = e instanceof TetherError ? e.hint : undefined;
      configFacts.content = { error: e.message, ...(hint !== undefined ? { hint } : {}) };
    }
  }
  for (const facts of [
    statPath('config directory', paths.configDir, 'dir', 'user'),
    configFacts,
    statPath('state directory', paths.stateDir, 'dir', 'private'),
    statPath('log directory', paths.logDir, 'dir', 'private'),
    statPath('runtime directory', paths.runtimeDir, 'dir', 'private'),
  ])
    findings.push(pathFinding(facts, process.platform));

  const endpoints = config?.endpoints ?? {};
  let result: Parameters<typeof keychainFinding>[0]['result'];
  try {
    result = { ok: true, entries: (await deps.keychainList()).length };
  } catch (err) {
    const hint = err instanceof TetherError ? err.hint : undefined;
    result = { ok: false, message: errorMessage(err), ...(hint !== undefined ? { hint } : {}) };
  }
  const bus = process.env['DBUS_SESSION_BUS_ADDRESS'];
  findings.push(
    keychainFinding({
      platform: process.platform,
      ...(bus ? { busAddress: bus } : {}),
      result,
      endpointsWithAuth: Object.entries(endpoints)
        .filter(([, c]) => c.auth)
        .map(([n]) => n),
    }),
  );

  for (const client of MCP_CLIENTS) {
    const configFile = clientConfigPath(client, deps.clientPaths);
    const exists = statPath(client, configFile, 'file', 'user').exists;
    const facts: ClientFacts = { client, configFile, exists };
    if (exists) {
      try {
        facts.servers = readClientServers(client, configFile);
      } catch (err) {
        facts.error = errorMessage(err);
      }
    }
    findings.push(...clientFindings(facts, config?.endpoints));
  }

  const names = Object.keys(endpoints);
  if (names.length === 0) {
    const unread = configFacts.exists && !config;
    findings.push({
      area: 'endpoints',
      subject: 'endpoints',
      status: 'info',
      detail: unread ? 'not checked: endpoints.json could not be read (above)' : 'none yet',
      hint: unread
        ? `Fix ${paths.configFile} by hand, then run mcp-tether doctor again.`
        : 'See one work with `mcp-tether demo`, or add yours: mcp-tether add <name> <url>',
    });
  }
  const reports = await pooled(names, 4, (n) =>
    deps.doctor(n).catch((err: unknown): DoctorReport => ({
      endpoint: n,
      url: endpoints[n]?.url ?? '',
      ok: false,
      steps: [{ layer: 'config', ok: false, detail: errorMessage(err), ms: 0 }],
    })),
  );
  findings.push(...reports.map(endpointVerdict));
  return { ok: findings.every((f) => f.status !== 'fail'), findings };
}
