/**
 * The era of each endpoint's server, cached in the state directory (`eras.json`) so a restart of
 * the engine does not probe again (MCP 2026-07-28 basic/versioning "Backward Compatibility": the
 * era is a property of the server; clients MAY persist it across restarts of the same server
 * configuration and re-probe when the cached assumption fails). An entry is bound to the part of
 * the config that names the server (URL, SSH destination, command, transport): change it and the
 * entry no longer applies. Written atomically; a file that does not parse is moved aside
 * (`eras.json.broken`), never overwritten.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { EndpointConfig } from '../../common/schemas.js';
import { writeFileAtomic } from '../config/store.js';
import type { Era } from './versions.js';

/** What is known of one endpoint's server. */
export interface EraRecord {
  era: Era;
  /** The protocol versions the server said it supports (modern servers; empty when unknown). */
  versions: string[];
  /** When it was determined (ISO 8601). */
  checkedAt: string;
}

interface Stored extends EraRecord {
  /** Hash of the server-naming part of the config. */
  target: string;
}

/** The part of a config that names the server, hashed. */
export function targetOf(config: EndpointConfig): string {
  const id = JSON.stringify([
    config.url ?? null,
    config.ssh ?? null,
    config.command ?? null,
    config.transport,
  ]);
  return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/** See the module comment. */
export class EraStore {
  private entries = new Map<string, Stored>();

  /** @param file the JSON file (in the state directory); undefined keeps everything in memory */
  constructor(private readonly file?: string) {
    if (!file || !existsSync(file)) return;
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { endpoints?: Record<string, Stored> };
      for (const [name, s] of Object.entries(data.endpoints ?? {})) {
        if ((s.era === 'legacy' || s.era === 'modern') && typeof s.target === 'string')
          this.entries.set(name, { ...s, versions: Array.isArray(s.versions) ? s.versions : [] });
      }
    } catch {
      try {
        renameSync(file, `${file}.broken`);
      } catch {
        // left as it is; nothing is cached then
      }
    }
  }

  /** The cached era of `name`, if it was determined for this same server config. */
  get(name: string, config: EndpointConfig): EraRecord | undefined {
    const s = this.entries.get(name);
    if (!s || s.target !== targetOf(config)) return undefined;
    return { era: s.era, versions: s.versions, checkedAt: s.checkedAt };
  }

  /**
   * Records the era of `name` and saves the file.
   * @throws TetherError CONFIG_IO when the file cannot be written
   */
  set(name: string, config: EndpointConfig, era: Era, versions: string[]): EraRecord {
    const rec: Stored = { era, versions, checkedAt: new Date().toISOString(), target: targetOf(config) };
    this.entries.set(name, rec);
    this.save();
    return { era, versions, checkedAt: rec.checkedAt };
  }

  /**
   * Forgets `name` (the cached assumption failed, or the endpoint was removed). Never throws: when
   * the file cannot be written, the entry is gone from memory and the file's copy is only advice
   * that the next probe corrects.
   */
  forget(name: string): void {
    if (!this.entries.delete(name)) return;
    try {
      this.save();
    } catch {
      // see above
    }
  }

  private save(): void {
    if (!this.file) return;
    writeFileAtomic(
      this.file,
      JSON.stringify({ version: 1, endpoints: Object.fromEntries(this.entries) }, null, 2) + '\n',
    );
  }
}
