/**
 * An endpoint's target in words, the same in the CLI, the engine's texts and the UI. Apart from
 * schemas.ts so that the renderer can use it without bundling the schema library.
 */
import type { EndpointConfig } from './schemas.js';

/** What an endpoint points at, for people: its URL, or `ssh dest: command` for stdio over SSH. */
export function describeTarget(e: Pick<EndpointConfig, 'url' | 'ssh' | 'command' | 'commandsFile'>): string {
  const via = e.ssh ? `ssh ${[...e.ssh.jump, e.ssh.destination].join(' → ')}` : '';
  if (e.command) return `${via}: ${e.command.join(' ')}`;
  if (e.commandsFile) return `${via}: commands of ${e.commandsFile}`;
  return via ? `${e.url} (${via})` : (e.url ?? '');
}
