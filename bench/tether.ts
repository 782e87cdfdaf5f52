/**
 * MCP Tether under test: a private MCP_TETHER_HOME (test/helpers/tether.ts `makeHome`) with the
 * bench's ring settings and one endpoint, `bench`, pointing at the upstream; its engine runs
 * detached for the whole bench, and is restarted where a case needs a fresh one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineInfo } from '../main/common/domain.js';
import { cliOk, enginePid, makeHome, pidsForHome, type Home } from '../test/helpers/tether.js';
import { disown, isAlive, killHard, onExit, own } from './procs.js';
import { MiB } from './options.js';
import { sleep } from './stats.js';

/** The endpoint name the shims use. */
export const ENDPOINT = 'bench';

/** The engine-wide settings the bench home starts with (bytes, records). */
export interface BenchSettings {
  maxRecords: number;
  maxBytes: number;
  /** Longest JSON-RPC line the engine accepts (bytes): the big-message case needs more than 16 MiB. */
  maxMessageBytes: number;
}

/** The ring of the main home: 100,000 records / 64 MiB (the engine memory case fills it). */
const BENCH_SETTINGS: BenchSettings = {
  maxRecords: 100_000,
  maxBytes: 64 * MiB,
  maxMessageBytes: 64 * MiB,
};

/** A bench home with its engine. */
export interface Tether {
  home: Home;
  settings: BenchSettings;
  /** The running engine's pid (from its lock file). @throws Error when none runs */
  enginePid(): number;
  /** `mcp-tether status --json`'s engine facts. */
  status(): Promise<EngineInfo>;
  /** Stops the engine and starts a fresh one (an empty ring, a new peak RSS). */
  restartEngine(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Writes `endpoints.json` with `settings` into `home` (before any engine reads it) and gives the
 * home its own HOME, so nothing of the user's is read.
 */
export function prepareHome(home: Home, settings: BenchSettings): void {
  const { maxRecords, maxBytes, maxMessageBytes } = settings;
  const config = {
    version: 1,
    settings: { traffic: { maxRecords, maxBytes }, maxMessageBytes },
    endpoints: {},
  };
  writeFileSync(join(home.dir, 'endpoints.json'), `${JSON.stringify(config, null, 2)}\n`);
  const user = join(home.dir, 'u');
  mkdirSync(user);
  home.env['HOME'] = user;
  // Processes of this home are ended even when the bench is interrupted.
  onExit(() => {
    for (const pid of pidsForHome(home.dir)) killHard(pid);
  });
}

/** Makes the home, adds the endpoint, and starts the engine. */
export async function setupTether(upstreamUrl: string, settings = BENCH_SETTINGS): Promise<Tether> {
  const home = makeHome();
  prepareHome(home, settings);
  await cliOk(home.env, ['add', ENDPOINT, upstreamUrl, '--transport', 'streamable-http']);
  const status = async () => {
    const parsed = JSON.parse(await cliOk(home.env, ['status', '--json'])) as { engine?: EngineInfo };
    if (!parsed.engine) throw new Error('mcp-tether status --json shows no running engine');
    return parsed.engine;
  };
  const pidOf = () => {
    const pid = enginePid(home.dir);
    if (pid === undefined || !isAlive(pid)) throw new Error(`no engine runs for ${home.dir}`);
    return pid;
  };
  if (enginePid(home.dir) === undefined) await cliOk(home.env, ['engine', '--detach']);
  own(pidOf());
  return {
    home,
    settings,
    enginePid: pidOf,
    status,
    restartEngine: async () => {
      const old = pidOf();
      await cliOk(home.env, ['shutdown']);
      for (let i = 0; i < 100 && isAlive(old); i++) await sleep(50);
      killHard(old);
      disown(old);
      await cliOk(home.env, ['engine', '--detach']);
      own(pidOf());
    },
    cleanup: () => home.cleanup(),
  };
}
