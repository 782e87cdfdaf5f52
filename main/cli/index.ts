/**
 * The `mcp-tether` command line: thin commands over the control-socket client. Every command but
 * `engine`, `shutdown` and `shim` starts a detached engine when none runs.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ControlClient, connectEngine } from '../common-node/control-client.js';
import type { ControlMethod, ControlParams, ControlResult } from '../common/control-api.js';
import type { TrafficFilter, TrafficRecord } from '../common/domain.js';
import { ErrorCode, TetherError, toTetherError } from '../common/errors.js';
import { MCP_CLIENTS, MCP_CLIENT_FORMATS, type McpClient } from '../common/clients.js';
import { clientConfigPath } from '../common-node/client-paths.js';
import { PROXY_SECRET, proxySecretCommand, readCaFile } from '../common-node/net.js';
import { resolvePaths } from '../common-node/paths.js';
import { TRANSPORTS, type AuthConfig, type EndpointConfigInput } from '../common/schemas.js';
import { describeTarget } from '../common/target.js';
import { shimMain } from '../shim/index.js';
import { registerDemo } from './demo.js';
import { runSystemDoctor } from './system-doctor.js';
import { formatDoctor, formatEndpoints, formatStatus, formatTrafficLine, trafficJsonLine } from './format.js';
import { oauthConfig, pickOAuthOptions, type OAuthOptions } from './oauth-options.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const paths = resolvePaths();

// `add <name> --ssh host -- <command...>`: what follows `--` is the remote command, verbatim.
const dashDash = process.argv.indexOf('--');
const argv = dashDash >= 0 ? process.argv.slice(0, dashDash) : process.argv;
const remoteCommand = dashDash >= 0 ? process.argv.slice(dashDash + 1) : [];

/** Calls one control method on a (started if needed) engine and closes the connection. */
async function call<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
  const client = await ControlClient.open(paths);
  try {
    return await client.request(method, params);
  } finally {
    client.close();
  }
}

function parseMs(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of milliseconds');
  return Number(value);
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535)
    throw new InvalidArgumentError('expected a port, 0-65535');
  return Number(value);
}

function parseCount(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number');
  return Number(value);
}

function parseHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf(':');
  if (i <= 0) throw new InvalidArgumentError(`"${value}" is not "Name: value"`);
  return { ...previous, [value.slice(0, i).trim()]: value.slice(i + 1).trim() };
}

function parseAuth(value: string): AuthConfig | { type: 'token-exchange' } {
  if (value === 'bearer' || value === 'oauth' || value === 'token-exchange')
    return { type: value } as AuthConfig;
  const m = /^header:(.+)$/i.exec(value);
  if (m) return { type: 'header', name: m[1]!.trim() };
  throw new InvalidArgumentError('expected bearer, header:NAME, oauth or token-exchange');
}

/** Options of `mcp-tether engine`. */
interface EngineCommandOptions {
  detach?: boolean;
  inspector?: boolean;
  port?: number;
  metrics?: string;
  metricsAllowRemote?: boolean;
}

const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : text + '\n');

const program = new Command('mcp-tether')
  .description('Use remote MCP servers (Streamable HTTP, SSE, WebSocket) from stdio MCP clients')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('engine')
  .description('run the engine in the foreground (or --detach it); one per user')
  .option('--detach', 'start it in the background and return once it listens')
  .option(
    '--inspector',
    'also serve the UI in a browser, on 127.0.0.1 behind a random token (prints the URL)',
  )
  .option('--port <n>', 'with --inspector: the port (default: any free one)', parsePort)
  .option(
    '--metrics <host:port>',
    'serve Prometheus metrics at http://<host:port>/metrics (loopback only, e.g. 127.0.0.1:9464)',
  )
  .option('--metrics-allow-remote', 'with --metrics: allow a non-loopback address')
  .action(async (opts: EngineCommandOptions) => {
    if (opts.port !== undefined && !opts.inspector)
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, '--port goes with --inspector');
    if (opts.metricsAllowRemote && !opts.metrics)
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, '--metrics-allow-remote goes with --metrics');
    if (opts.metrics && opts.detach)
      throw new TetherError(ErrorCode.INVALID_ARGUMENT, '--metrics runs with a foreground engine', {
        hint: 'For a detached engine (or the app), set "metrics": { "listen": "127.0.0.1:9464" } in the settings of endpoints.json.',
      });
    if (opts.detach) {
      const client = new ControlClient(await connectEngine(paths));
      try {
        const info = await client.request('engine/info', {});
        print(`engine running (pid ${info.pid}) on ${info.socketPath}`);
        if (opts.inspector) {
          const { url } = await client.request('engine/inspector', { port: opts.port });
          print(`inspector: ${url}`);
        }
      } finally {
        client.close();
      }
      return;
    }
    // The engine's own entry, loaded only for this command so other commands start fast.
    const { engineMain } = await import('../engine/main.js');
    await engineMain(paths, VERSION, {
      ...(opts.inspector ? { inspector: { port: opts.port } } : {}),
      ...(opts.metrics
        ? { metrics: { listen: opts.metrics, allowNonLoopback: opts.metricsAllowRemote === true } }
        : {}),
    });
  });

program
  .command('shutdown')
  .description('stop the running engine')
  .action(async () => {
    let client: ControlClient;
    try {
      client = await ControlClient.open(paths, { autostart: false });
    } catch (err) {
      if (err instanceof TetherError && err.code === ErrorCode.ENGINE_UNAVAILABLE) {
        print('engine is not running');
        return;
      }
      throw err;
    }
    await client.request('engine/shutdown', {});
    await client.closed();
    print('engine stopped');
  });

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
  .option('--audience <name>', 'with --auth token-exchange: the service token’s audience (RFC 8693 audience)')
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
  .option('--no-offline-start', 'never answer initialize and lists from the last known state (none is kept)')
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
      if (remoteCommand.length > 0) {
        endpoint.command = remoteCommand;
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
        const exchange: AuthConfig = { type: 'token-exchange', issuer: opts.issuer, clientId: opts.clientId };
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
      const { endpoint: added } = await call('endpoints/add', { name, endpoint });
      print(`added ${added.name} (${added.config.transport}) ${describeTarget(added.config)}`);
      for (const s of oauthSecrets) {
        await call('secrets/set', { endpoint: added.name, name: s.name, value: s.value! });
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
    const r = await call('endpoints/remove', opts.keepSecrets ? { name, keepSecrets: true } : { name });
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
    const { endpoints } = await call('endpoints/list', {});
    print(opts.json ? JSON.stringify(endpoints, null, 2) : formatEndpoints(endpoints));
  });

program
  .command('status')
  .description('health per endpoint: state, ping RTT, last error, reconnects')
  .argument('[name]', 'one endpoint')
  .option('--json', 'one JSON document')
  .action(async (name: string | undefined, opts: { json?: boolean }) => {
    const status = await call('status/get', name ? { endpoint: name } : {});
    print(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
  });

program
  .command('connect')
  .description('keep an endpoint connected and health-checked with no client attached; undoes disconnect')
  .argument('<name>')
  .action(async (name: string) => {
    const s = await call('endpoints/connect', { name });
    print(`${name}: ${s.state} (kept connected)`);
  });

program
  .command('disconnect')
  .description('close every connection of an endpoint; its clients get ENDPOINT_DISCONNECTED until connect')
  .argument('<name>')
  .action(async (name: string) => {
    const s = await call('endpoints/disconnect', { name });
    print(`${name}: ${s.state}`);
  });

program
  .command('traffic')
  .description('JSON-RPC traffic, one line per message')
  .option('--endpoint <name>', 'only this endpoint')
  .option('--method <method>', 'only this method')
  .addOption(
    new Option('--direction <direction>', 'only this direction').choices([
      'client-to-server',
      'server-to-client',
    ]),
  )
  .option('--text <text>', 'only messages containing this text')
  .option('--limit <n>', 'how many recent records to show first', parseCount, 50)
  .option('--follow', 'keep printing new records as they come')
  .option('--json', 'one JSON object per line, with the message')
  .action(
    async (opts: {
      endpoint?: string;
      method?: string;
      direction?: TrafficFilter['direction'];
      text?: string;
      limit: number;
      follow?: boolean;
      json?: boolean;
    }) => {
      const filter: TrafficFilter = {};
      if (opts.endpoint) filter.endpoint = opts.endpoint;
      if (opts.method) filter.method = opts.method;
      if (opts.direction) filter.direction = opts.direction;
      if (opts.text) filter.text = opts.text;
      const show = (r: TrafficRecord) => print(opts.json ? trafficJsonLine(r) : formatTrafficLine(r));
      const client = await ControlClient.open(paths);
      try {
        if (!opts.follow) {
          const { records } = await client.request('traffic/query', { ...filter, limit: opts.limit });
          records.forEach(show);
          return;
        }
        // Following ends only with an error: a record that cannot be shown, or the engine gone.
        let failed!: (err: unknown) => void;
        const failure = new Promise<never>((_, reject) => (failed = reject));
        const early: TrafficRecord[] = [];
        let lastSeq = Number.POSITIVE_INFINITY;
        let live = false;
        client.onNotification('traffic/record', ({ record }) => {
          try {
            if (live) show(record);
            else early.push(record);
          } catch (err) {
            failed(err);
          }
        });
        ({ lastSeq } = await client.request('traffic/subscribe', filter));
        const { records } = await client.request('traffic/query', { ...filter, limit: opts.limit });
        records.filter((r) => r.seq <= lastSeq).forEach(show);
        early.filter((r) => r.seq > lastSeq).forEach(show);
        live = true;
        void client.closed().then(() =>
          failed(
            new TetherError(
              ErrorCode.ENGINE_UNAVAILABLE,
              'the engine closed the connection: traffic --follow stopped',
              {
                hint: `See ${join(paths.logDir, 'engine.log')}; mcp-tether status starts the engine again.`,
              },
            ),
          ),
        );
        await failure;
      } finally {
        client.close();
      }
    },
  );

program
  .command('doctor')
  .description(
    'diagnose an endpoint layer by layer (DNS, TCP, TLS, HTTP, transport, initialize); with no endpoint, the whole setup',
  )
  .argument('[name]')
  .option('--json', 'one JSON document')
  .action(async (name: string | undefined, opts: { json?: boolean }) => {
    if (name === undefined) {
      const setup = await runSystemDoctor(paths, VERSION, { json: opts.json === true, print });
      if (!setup.ok) process.exitCode = 1;
      return;
    }
    const report = await call('doctor/run', { name });
    print(opts.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
    if (!report.ok) process.exitCode = 1;
  });

registerDemo(program, { paths, print });

program
  .command('shim')
  .description('the stdio MCP server an MCP client runs: relays to the endpoint through the engine')
  .argument('<name>')
  .action(async (name: string) => {
    await shimMain([name]);
  });

const clientOption = () =>
  new Option('--client <client>', 'the MCP client').choices([...MCP_CLIENTS]).makeOptionMandatory();

/** The client's config file: --config (made absolute here, where the user typed it) or its default. */
function clientFile(client: McpClient, config: string | undefined): string {
  return config !== undefined
    ? resolvePath(config)
    : clientConfigPath(client, { platform: process.platform, env: process.env, home: homedir() });
}

program
  .command('install')
  .description("set an MCP client up to use an endpoint: writes its shim's entry into the client's config")
  .argument('<name>', 'the endpoint')
  .addOption(clientOption())
  .option('--config <file>', "the client's config file (default: its usual place for this user)")
  .action(async (name: string, opts: { client: McpClient; config?: string }) => {
    const r = await call('clients/install', {
      endpoint: name,
      client: opts.client,
      configFile: clientFile(opts.client, opts.config),
    });
    const label = MCP_CLIENT_FORMATS[r.client].label;
    if (r.action === 'unchanged') print(`${name} is already set up in ${label} (${r.configFile})`);
    else {
      print(
        `${r.action === 'updated' ? 'updated' : 'added'} ${name} in ${label}'s config ${r.configFile}` +
          (r.action === 'created' ? ' (new file)' : '') +
          (r.replacedForeign ? `, replacing an entry of that name that started something else` : ''),
      );
      if (r.backupFile) print(`previous content kept in ${r.backupFile}`);
      print(`restart ${label} to use it`);
    }
    if (r.warning) process.stderr.write(`mcp-tether: warning: ${r.warning}\n`);
  });

program
  .command('uninstall')
  .description("remove an endpoint's shim entry from an MCP client's config")
  .argument('<name>', 'the endpoint')
  .addOption(clientOption())
  .option('--config <file>', "the client's config file (default: its usual place for this user)")
  .action(async (name: string, opts: { client: McpClient; config?: string }) => {
    const r = await call('clients/uninstall', {
      endpoint: name,
      client: opts.client,
      configFile: clientFile(opts.client, opts.config),
    });
    const label = MCP_CLIENT_FORMATS[r.client].label;
    if (r.action === 'absent') print(`${name} is not set up in ${label} (${r.configFile})`);
    else {
      print(`removed ${name} from ${label}'s config ${r.configFile}`);
      if (r.backupFile) print(`previous content kept in ${r.backupFile}`);
    }
  });

program
  .command('config-snippet')
  .description("print the JSON to paste into an MCP client's config for an endpoint")
  .argument('<name>', 'the endpoint')
  .addOption(clientOption())
  .action(async (name: string, opts: { client: McpClient }) => {
    const r = await call('clients/snippet', { endpoint: name, client: opts.client });
    print(r.snippet);
    if (r.warning) process.stderr.write(`mcp-tether: warning: ${r.warning}\n`);
  });

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
    const r = await call('secrets/set', name ? { endpoint, name, value } : { endpoint, value });
    print(`stored ${r.endpoint}/${r.name} in the OS keychain`);
  });
secret
  .command('list')
  .description('names of the stored secrets (never their values)')
  .argument('[endpoint]', 'only this endpoint')
  .option('--json', 'one JSON document')
  .action(async (endpoint: string | undefined, opts: { json?: boolean }) => {
    const { secrets } = await call('secrets/list', endpoint ? { endpoint } : {});
    if (opts.json) print(JSON.stringify(secrets, null, 2));
    else
      print(secrets.length ? secrets.map((x) => `${x.endpoint}/${x.name}`).join('\n') : 'no secrets stored');
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
      'secrets/delete',
      opts.all ? { endpoint, all: true } : given ? { endpoint, name: given } : { endpoint },
    );
    print(
      deleted.length
        ? deleted.map((n) => `deleted ${endpoint}/${n}`).join('\n')
        : `no such secret of ${endpoint}`,
    );
    if (!deleted.length) process.exitCode = 1;
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
    const r = await call('secrets/rebind', { endpoint });
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
      print(`signed in to ${name} (authorization server ${r.issuer}${r.scope ? `, scope ${r.scope}` : ''})`);
    } finally {
      client.close();
    }
  });

/** A secret from stdin (one trailing newline dropped), or typed at a hidden prompt on a terminal. */
async function readSecretValue(prompt: string): Promise<string> {
  if (process.stdin.isTTY) return readHidden(prompt);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Reads a line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: TetherError) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new TetherError(ErrorCode.INVALID_ARGUMENT, 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    // Echo goes off before the prompt shows, so nothing typed after it is ever echoed.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

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

/** Asks a yes/no question on the terminal. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

try {
  await program.parseAsync(argv);
} catch (err) {
  const e = toTetherError(err);
  process.stderr.write(`mcp-tether: ${e.message}\n`);
  if (e.hint !== undefined) process.stderr.write(`  ${e.hint}\n`);
  process.exitCode = e.code === ErrorCode.INTERNAL ? 70 : 1;
}
