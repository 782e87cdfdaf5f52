/**
 * The `mcp-tether` CLI's entry (dist/main/cli/index.js): bin/mcp-tether.js imports it, and the
 * engine launcher runs it as `node dist/main/cli/index.js engine` (main/common-node/control-client.ts).
 * Loading it runs the CLI on the process's arguments and standard streams; the program itself is
 * main/cli/program.ts, which tests load without running anything.
 */
import { readFileSync } from 'node:fs';
import { resolvePaths } from '../common-node/paths.js';
import { runCli } from './program.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

process.exitCode = await runCli(process.argv, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  paths: resolvePaths(),
  version,
});
