/**
 * The endpoint commands: `add` (every transport, SSH, credentials, OAuth, network options),
 * `remove`, `list`, `status`, `connect` and `disconnect`.
 */
import { resolve as resolvePath } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { proxySecretCommand, readCaFile } from '../../common-node/net.js';
import { TRANSPORTS, type AuthConfig, type EndpointConfigInput } from '../../common/schemas.js';
import { describeTarget } from '../../common/target.js';
import { parseMs } from '../arguments.js';
import { call, type CliContext } from '../context.js';
import { formatEndpoints, formatStatus } from '../format.js';
import { oauthConfig, pickOAuthOptions, type OAuthOptions } from '../oauth-options.js';
import { readSecretValue } from '../terminal.js';

/** `--header 'Name: value'`, added to the headers of the earlier ones. */
function parseHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf(':');
  if (i <= 0) throw new InvalidArgumentError(`"${value}" is not "Name: value"`);
  return { ...previous, [value.slice(0, i).trim()]: value.slice(i + 1).trim() };
}

/** `--auth`: bearer, header:NAME, oauth or token-exchange (completed from the other options). */
function parseAuth(value: string): AuthConfig | { type: 'token-exchange' } {
  if (value === 'bearer' || value === 'oauth' || value === 'token-exchange')
    return { type: value } as AuthConfig;
  const m = /^header:(.+)$/i.exec(value);
  if (m) return { type: 'header', name: m[1]!.trim() };
  throw new InvalidArgumentError('expected bearer, header:NAME, oauth or token-exchange');
}

/**
 * Registers `add`, `remove`, `list`, `status`, `connect` and `disconnect` on the program.
 */
export function register(program: Command, ctx: CliContext): void {
  const { paths, print } = ctx;
  program
    .command('add')
    .description('add a remote MCP endpoint')
    .argument('<name>', 'what `mcp-tether shim <name>` will take')
    .argument(
      '[url]',
      'http(s):// for Streamable HTTP or SSE, ws(s):// for WebSocket; over --ssh, as the SSH server sees it',
    )
    .addOption(new Option('--transport <kind>', 'transport').choices([...TRANSPORTS]).default('auto'))
    .option('--ssh <destination>', 'reach it over SSH: [user@]host[:port] or a Host alias of ~/.ssh/config')
    .option('--identity <file>', 'SSH private key (like ssh -i)')
    .option(
      '--jump <destination>',
      'SSH jump host, [user@]host[:port] (like ssh -J; repeatable, in order)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--ssh-config <file>', 'read this ssh config instead of ~/.ssh/config')
    .option('--login-shell', 'run the remote command (after --) through the remote login shell')
    .option(
      '--commands <file>',
      'with --ssh: serve the allow-listed commands of this YAML or JSON file as tools (no shell access)',
    )
    .addHelpText(
      'after',
      '\nA stdio MCP server on the SSH host: mcp-tether add <name> --ssh <host> -- <command> [args...]' +
        '\nAllow-listed commands on the SSH host as tools: mcp-tether add <name> --ssh <host> --commands ops.yaml',
    )
    .option(
      '--header <header>',
      "a non-secret header sent on every request, 'Name: value' (repeatable)",
      parseHeader,
    )
    .option(
      '--auth <kind>',
      'credentials from the OS keychain: bearer, header:NAME (a secret header), oauth (mcp-tether login) or token-exchange (RFC 8693)',
      parseAuth,
    )
    .option('--issuer <url>', 'with --auth token-exchange: the authorization server that exchanges the token')
    .option(
      '--audience <name>',
      'with --auth token-exchange: the service token’s audience (RFC 8693 audience)',
    )
    .option('--client-id <id>', 'with --auth oauth: a client id registered with the authorization server')
    .option(
      '--scope <scope>',
      'with --auth oauth: a scope to ask for (repeatable; default: what the server asks for)',
      (v: string, prev: string[] = []) => [...prev, ...v.split(/\s+/).filter(Boolean)],
    )
    .option(
      '--client-metadata-url <url>',
      'with --auth oauth: an https URL serving this client’s Client ID Metadata Document (default: settings oauth.clientMetadataUrl)',
    )
    .option(
      '--client-secret-stdin',
      'with --client-id: the client secret of a confidential client, read from stdin into the OS keychain',
    )
    .addOption(
      new Option(
        '--grant <grant>',
        'with --auth oauth: authorization-code (sign in in a browser; default), client-credentials (machine to machine) or jwt-bearer (enterprise-managed)',
      ).choices(['authorization-code', 'client-credentials', 'jwt-bearer']),
    )
    .option(
      '--private-key-file <file>',
      'with --grant client-credentials: a PEM private key for private_key_jwt, stored in the OS keychain (the file can go)',
    )
    .option('--idp-token-endpoint <url>', 'with --grant jwt-bearer: the enterprise IdP’s token endpoint')
    .option('--idp-client-id <id>', 'with --grant jwt-bearer: this client’s id at the IdP')
    .option(
      '--id-token-stdin',
      'with --grant jwt-bearer: the IdP ID token to exchange, read from stdin (after the client secret, one a line)',
    )
    .option('--ca <file>', 'trust this PEM CA certificate (or bundle) too, e.g. a private CA')
    .option(
      '--proxy <url>',
      'HTTP(S) proxy for this endpoint, http://host:port (default: HTTPS_PROXY/HTTP_PROXY, else the OS settings in the app)',
    )
    .option('--connect-timeout <ms>', 'time to connect and initialize', parseMs)
    .option('--request-timeout <ms>', 'time for one request before UPSTREAM_TIMEOUT', parseMs)
    .option('--ping-interval <ms>', 'health ping interval while in use (0: off)', parseMs)
    .option(
      '--no-offline-start',
      'never answer initialize and lists from the last known state (none is kept)',
    )
    .option('--no-safe-retry', 'never send a request lost to a connection failure again')
    .action(
      async (
        name: string,
        url: string | undefined,
        opts: OAuthOptions & {
          transport: EndpointConfigInput['transport'];
          header?: Record<string, string>;
          auth?: AuthConfig;
          issuer?: string;
          audience?: string;
          connectTimeout?: number;
          requestTimeout?: number;
          pingInterval?: number;
          ssh?: string;
          identity?: string;
          jump?: string[];
          sshConfig?: string;
          loginShell?: boolean;
          commands?: string;
          ca?: string;
          proxy?: string;
          offlineStart: boolean;
          safeRetry: boolean;
        },
      ) => {
        const endpoint: EndpointConfigInput = { transport: opts.transport };
        if (url !== undefined) endpoint.url = url;
        if (opts.commands !== undefined) {
          endpoint.commandsFile = resolvePath(opts.commands);
          if (opts.transport === 'auto') endpoint.transport = 'commands';
        }
        if (ctx.remoteCommand.length > 0) {
          endpoint.command = [...ctx.remoteCommand];
          if (opts.transport === 'auto') endpoint.transport = 'stdio';
        }
        if (opts.ssh) {
          endpoint.ssh = { destination: opts.ssh, jump: opts.jump ?? [] };
          if (opts.identity) endpoint.ssh.identityFile = resolvePath(opts.identity);
          if (opts.sshConfig) endpoint.ssh.configFile = resolvePath(opts.sshConfig);
        } else if (opts.identity || opts.jump || opts.sshConfig) {
          throw new TetherError(
            ErrorCode.INVALID_ARGUMENT,
            '--identity, --jump and --ssh-config go with --ssh',
          );
        }
        if (opts.loginShell) endpoint.loginShell = true;
        if (opts.header) endpoint.headers = opts.header;
        const oauthOpts = pickOAuthOptions(opts);
        let oauthSecrets: ReturnType<typeof oauthConfig>['secrets'] = [];
        if (opts.auth?.type === 'oauth') {
          const o = oauthConfig(oauthOpts.options);
          endpoint.auth = o.auth;
          oauthSecrets = o.secrets;
        } else if (opts.auth?.type === 'token-exchange') {
          if (!opts.issuer || !opts.clientId)
            throw new TetherError(
              ErrorCode.INVALID_ARGUMENT,
              '--auth token-exchange needs --issuer and --client-id',
              {
                hint: 'The issuer exchanges the token; the client id is the confidential client registered with it.',
              },
            );
          const exchange: AuthConfig = {
            type: 'token-exchange',
            issuer: opts.issuer,
            clientId: opts.clientId,
          };
          if (opts.scope?.length) exchange.scopes = opts.scope;
          if (opts.audience !== undefined) exchange.audience = opts.audience;
          endpoint.auth = exchange;
          if (opts.clientSecretStdin)
            oauthSecrets = oauthConfig({ clientId: opts.clientId, clientSecretStdin: true }).secrets;
        } else if (opts.issuer !== undefined || opts.audience !== undefined) {
          throw new TetherError(
            ErrorCode.INVALID_ARGUMENT,
            '--issuer and --audience go with --auth token-exchange',
          );
        } else if (oauthOpts.any) {
          throw new TetherError(
            ErrorCode.INVALID_ARGUMENT,
            'the OAuth options (--client-id, --scope, --grant…) go with --auth oauth',
          );
        } else if (opts.auth) {
          endpoint.auth = opts.auth;
        }
        if (opts.ca !== undefined) endpoint.ca = readCaFile(resolvePath(opts.ca));
        if (opts.proxy !== undefined) endpoint.proxy = opts.proxy;
        if (opts.connectTimeout !== undefined) endpoint.connectTimeoutMs = opts.connectTimeout;
        if (opts.requestTimeout !== undefined) endpoint.requestTimeoutMs = opts.requestTimeout;
        if (opts.pingInterval !== undefined) endpoint.pingIntervalMs = opts.pingInterval;
        // Secrets from stdin are read before anything is added: a missing one adds nothing.
        const fromStdin = oauthSecrets.filter((s) => s.value === undefined);
        if (fromStdin.length) {
          const what = fromStdin.map((s) => s.what);
          const lines = (await readSecretValue(`${what.join(', then ')} (input hidden): `)).split(/\r?\n/);
          fromStdin.forEach((s, i) => (s.value = lines[i]?.trim()));
          const empty = fromStdin.find((s) => !s.value);
          if (empty)
            throw new TetherError(
              ErrorCode.INVALID_ARGUMENT,
              `no ${empty.what} was given on stdin (one a line: ${what.join(', ')})`,
            );
        }
        if (!opts.offlineStart) endpoint.offlineStart = false;
        if (!opts.safeRetry) endpoint.safeRetry = false;
        const { endpoint: added } = await call(paths, 'endpoints/add', { name, endpoint });
        print(`added ${added.name} (${added.config.transport}) ${describeTarget(added.config)}`);
        for (const s of oauthSecrets) {
          await call(paths, 'secrets/set', { endpoint: added.name, name: s.name, value: s.value! });
          print(`stored its ${s.what} in the OS keychain (${added.name}/${s.name})`);
        }
        if (added.config.ssh) print(`check its SSH host key with: mcp-tether hosts trust ${added.name}`);
        const auth = added.config.auth;
        if (auth?.type === 'oauth' && !auth.grant) print(`sign in with: mcp-tether login ${added.name}`);
        else if (auth?.type === 'token-exchange')
          print(
            (oauthSecrets.length
              ? ''
              : `store its client secret in the OS keychain: printf '%s' "$CLIENT_SECRET" | mcp-tether secret set ${added.name}\n`) +
              `sign in with: mcp-tether login ${added.name}`,
          );
        else if (auth?.type === 'bearer')
          print(
            `store its token in the OS keychain: printf '%s' "$TOKEN" | mcp-tether secret set ${added.name}`,
          );
        else if (auth?.type === 'header')
          print(
            `store its ${auth.name} in the OS keychain: printf '%s' "$KEY" | mcp-tether secret set ${added.name} --header ${auth.name}`,
          );
        if (added.config.proxy) print(`if the proxy asks for credentials: ${proxySecretCommand(added.name)}`);
        print(`MCP clients run it as: mcp-tether shim ${added.name}`);
      },
    );

  program
    .command('remove')
    .description('remove an endpoint, end its sessions and delete its secrets from the OS keychain')
    .argument('<name>')
    .option('--keep-secrets', 'leave its secrets in the OS keychain')
    .action(async (name: string, opts: { keepSecrets?: boolean }) => {
      const r = await call(
        paths,
        'endpoints/remove',
        opts.keepSecrets ? { name, keepSecrets: true } : { name },
      );
      print(
        `removed ${name}` +
          (r.deletedSecrets?.length
            ? ` and its secrets from the OS keychain (${r.deletedSecrets.join(', ')})`
            : ''),
      );
    });

  program
    .command('list')
    .description('endpoints with transport and state')
    .option('--json', 'one JSON document')
    .action(async (opts: { json?: boolean }) => {
      const { endpoints } = await call(paths, 'endpoints/list', {});
      print(opts.json ? JSON.stringify(endpoints, null, 2) : formatEndpoints(endpoints));
    });

  program
    .command('status')
    .description('health per endpoint: state, ping RTT, last error, reconnects')
    .argument('[name]', 'one endpoint')
    .option('--json', 'one JSON document')
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      const status = await call(paths, 'status/get', name ? { endpoint: name } : {});
      print(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });

  program
    .command('connect')
    .description('keep an endpoint connected and health-checked with no client attached; undoes disconnect')
    .argument('<name>')
    .action(async (name: string) => {
      const s = await call(paths, 'endpoints/connect', { name });
      print(`${name}: ${s.state} (kept connected)`);
    });

  program
    .command('disconnect')
    .description('close every connection of an endpoint; its clients get ENDPOINT_DISCONNECTED until connect')
    .argument('<name>')
    .action(async (name: string) => {
      const s = await call(paths, 'endpoints/disconnect', { name });
      print(`${name}: ${s.state}`);
    });
}
