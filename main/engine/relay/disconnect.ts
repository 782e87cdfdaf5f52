/**
 * Which endpoints the user disconnected (`mcp-tether disconnect`, the tray, the UI), kept in the
 * state directory (`disconnected.json`, 0600, written atomically) so the choice survives engine
 * restarts until `mcp-tether connect`. A file that does not parse is moved aside
 * (`disconnected.json.broken`), never overwritten. What disconnecting does is
 * {@link Endpoint.disconnect} and relay/resilience.ts.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { writeFileAtomic } from '../config/store.js';
import { errorMessage } from '../../common/errors.js';

/** See the module comment. */
export class DisconnectedStore {
  private readonly names = new Set<string>();

  /**
   * @param file the JSON file (in the state directory)
   * @param log reports a file moved aside
   */
  constructor(
    private readonly file: string,
    log: (line: string) => void,
  ) {
    if (!existsSync(file)) return;
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { endpoints?: unknown };
      if (!Array.isArray(data.endpoints)) throw new Error('no "endpoints" array');
      for (const n of data.endpoints) if (typeof n === 'string') this.names.add(n);
    } catch (err) {
      try {
        renameSync(file, `${file}.broken`);
      } catch {
        // left as it is
      }
      log(`${file} could not be read (${errorMessage(err)}); moved aside, every endpoint is connected`);
    }
  }

  /** True when `name` was disconnected by the user. */
  has(name: string): boolean {
    return this.names.has(name);
  }

  /**
   * Records `name` as disconnected (true) or not, and saves the file.
   * @throws TetherError CONFIG_IO when the file cannot be written
   */
  set(name: string, disconnected: boolean): void {
    if (disconnected === this.names.has(name)) return;
    if (disconnected) this.names.add(name);
    else this.names.delete(name);
    writeFileAtomic(
      this.file,
      JSON.stringify({ version: 1, endpoints: [...this.names].sort() }, null, 2) + '\n',
    );
  }
}
