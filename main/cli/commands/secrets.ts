/**
 * Credentials: `secret set|list|delete|rebind` over the OS keychain (values never on a command
 * line), and `login`, the OAuth sign-in in a browser.
 */
import type { Command } from 'commander';
import { ControlClient } from '../../common-node/control-client.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { PROXY_SECRET } from '../../common-node/net.js';
import { parseMs } from '../arguments.js';
import { call, type CliContext } from '../context.js';
import { readSecretValue } from '../terminal.js';

/**
 * Registers `secret` (`set`, `list`, `delete`, `rebind`) and `login` on the program.
 */
export function register(program: Command, ctx: CliContext): void {
  const { paths, print, setExitCode } = ctx;
  const secret = program
    .command('secret')
    .description(
      'secrets of endpoints, kept in the OS keychain (service mcp-tether, account <endpoint>/<name>)',
    );
  secret
    .command('set')
    .description(
      'store the token (or secret header value) of an endpoint: read from stdin, or asked for on a terminal',
    )
    .argument('<endpoint>')
    .option('--header <name>', 'the secret header of an --auth header:NAME endpoint')
    .option('--proxy', "the proxy's credentials, USER:PASSWORD (HTTP Basic), for the endpoint's proxy")
    .addHelpText(
      'after',
      '\nThe value never goes on a command line: printf \'%s\' "$TOKEN" | mcp-tether secret set <endpoint>',
    )
    .action(async (endpoint: string, opts: { header?: string; proxy?: boolean }) => {
      if (opts.proxy && opts.header)
        throw new TetherError(ErrorCode.INVALID_ARGUMENT, 'give --proxy or --header, not both');
      const what = opts.proxy ? 'Proxy USER:PASSWORD' : (opts.header ?? 'Token');
      const value = await readSecretValue(`${what} for ${endpoint} (input hidden): `);
      if (value.length === 0)
        throw new TetherError(ErrorCode.INVALID_ARGUMENT, 'no secret was given (stdin was empty)');
      const name = opts.proxy ? PROXY_SECRET : opts.header;
      const r = await call(paths, 'secrets/set', name ? { endpoint, name, value } : { endpoint, value });
      print(`stored ${r.endpoint}/${r.name} in the OS keychain`);
    });
  secret
    .command('list')
    .description('names of the stored secrets (never their values)')
    .argument('[endpoint]', 'only this endpoint')
    .option('--json', 'one JSON document')
    .action(async (endpoint: string | undefined, opts: { json?: boolean }) => {
      const { secrets } = await call(paths, 'secrets/list', endpoint ? { endpoint } : {});
      if (opts.json) print(JSON.stringify(secrets, null, 2));
      else
        print(
          secrets.length ? secrets.map((x) => `${x.endpoint}/${x.name}`).join('\n') : 'no secrets stored',
        );
    });
  secret
    .command('delete')
    .description('delete a secret of an endpoint (default: its token; for OAuth: sign out)')
    .argument('<endpoint>')
    .option('--header <name>', 'the secret header to delete')
    .option('--name <name>', 'the secret to delete, as `secret list` shows it after the endpoint')
    .option('--all', 'every secret of the endpoint, OAuth tokens and client registration included')
    .action(async (endpoint: string, opts: { header?: string; name?: string; all?: boolean }) => {
      const given = opts.name ?? opts.header;
      const { deleted } = await call(
        paths,
        'secrets/delete',
        opts.all ? { endpoint, all: true } : given ? { endpoint, name: given } : { endpoint },
      );
      print(
        deleted.length
          ? deleted.map((n) => `deleted ${endpoint}/${n}`).join('\n')
          : `no such secret of ${endpoint}`,
      );
      if (!deleted.length) setExitCode(1);
    });
  secret
    .command('rebind')
    .description("let an endpoint's stored credentials go to the server its URL names now")
    .argument('<endpoint>')
    .addHelpText(
      'after',
      "\nAfter an endpoint's URL changes, its credentials are sent nowhere until you run this (or secret set / login).",
    )
    .action(async (endpoint: string) => {
      const r = await call(paths, 'secrets/rebind', { endpoint });
      print(
        `credentials of ${r.endpoint} now go to ${r.origin}${r.previous ? ` (they were stored for ${r.previous})` : ''}`,
      );
    });

  program
    .command('login')
    .description('sign in to an OAuth endpoint in your browser; tokens go to the OS keychain')
    .argument('<name>')
    .option('--no-browser', 'print the URL to open instead of starting a browser')
    .option('--timeout <ms>', 'how long to wait for the sign-in to finish (default 300000)', parseMs)
    .action(async (name: string, opts: { browser: boolean; timeout?: number }) => {
      const client = await ControlClient.open(paths);
      try {
        client.onNotification('auth/authorize', ({ endpoint, url }) => {
          if (endpoint !== name) return;
          print(
            opts.browser
              ? `Opening your browser to sign in to ${name}. If it does not open, visit:\n${url}`
              : `Open this URL in a browser to sign in to ${name}:\n${url}`,
          );
        });
        const r = await client.request('auth/login', {
          endpoint: name,
          openBrowser: opts.browser,
          ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout } : {}),
        });
        print(
          `signed in to ${name} (authorization server ${r.issuer}${r.scope ? `, scope ${r.scope}` : ''})`,
        );
      } finally {
        client.close();
      }
    });
}
