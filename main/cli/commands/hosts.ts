/**
 * `hosts trust`: the SSH host keys on the way to an endpoint, recorded once the user confirms them
 * (on the terminal, or with --fingerprint).
 */
import type { Command } from 'commander';
import { ControlClient } from '../../common-node/control-client.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import type { CliContext } from '../context.js';
import { confirm } from '../terminal.js';

/**
 * Registers `hosts` (`trust`) on the program.
 */
export function register(program: Command, ctx: CliContext): void {
  const { paths, print } = ctx;
  const hosts = program.command('hosts').description('SSH host keys of endpoints reached over SSH');
  hosts
    .command('trust')
    .description('show the SSH host keys on the way to an endpoint and record them once you confirm')
    .argument('<endpoint>')
    .option(
      '--fingerprint <SHA256:...>',
      'confirm this fingerprint without asking (repeatable: one per hop)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--replace', 'record a changed key over the recorded one (after you verified it)')
    .action(async (endpoint: string, opts: { fingerprint?: string[]; replace?: boolean }) => {
      const client = await ControlClient.open(paths);
      try {
        for (;;) {
          const { hosts: keys } = await client.request('hosts/trust', { endpoint });
          for (const k of keys)
            print(
              `${k.role === 'jump' ? 'jump host' : 'host'} ${k.host}:${k.port}  ${k.keyType}  ${k.fingerprint}  ${k.status}`,
            );
          const unknown = keys.find((k) => k.status === 'unknown' || k.status === 'mismatch');
          if (!unknown) {
            print('all host keys on the way are trusted');
            return;
          }
          const changed = unknown.status === 'mismatch';
          // Without --replace the engine refuses a changed key, and says why and what to run.
          if (changed && !opts.replace)
            await client.request('hosts/trust', { endpoint, fingerprint: unknown.fingerprint });
          let confirmed = opts.fingerprint?.includes(unknown.fingerprint) ?? false;
          if (!confirmed && opts.fingerprint) {
            throw new TetherError(
              ErrorCode.INVALID_ARGUMENT,
              `${unknown.host}:${unknown.port} presents ${unknown.fingerprint}, which is not among the fingerprints given; nothing was recorded`,
            );
          }
          if (!confirmed && process.stdin.isTTY)
            confirmed = await confirm(
              changed
                ? `The host key of ${unknown.host}:${unknown.port} CHANGED. Replace the recorded key by ${unknown.keyType} ${unknown.fingerprint}? [y/N] `
                : `Trust ${unknown.keyType} ${unknown.fingerprint} for ${unknown.host}:${unknown.port}? [y/N] `,
            );
          if (!confirmed) {
            throw new TetherError(
              changed ? ErrorCode.HOST_KEY_MISMATCH : ErrorCode.HOST_KEY_UNKNOWN,
              `the host key of ${unknown.host}:${unknown.port} was not trusted`,
              {
                hint: `Check ${unknown.fingerprint} with the server's administrator, then run: mcp-tether hosts trust ${endpoint}${changed ? ' --replace' : ''} --fingerprint ${unknown.fingerprint}`,
              },
            );
          }
          const { trusted } = await client.request('hosts/trust', {
            endpoint,
            fingerprint: unknown.fingerprint,
            ...(changed ? { replace: true } : {}),
          });
          print(`trusted ${trusted?.host}:${trusted?.port} ${trusted?.fingerprint}`);
        }
      } finally {
        client.close();
      }
    });
}
