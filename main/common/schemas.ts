/**
 * The zod schemas of `endpoints.json` and of endpoint definitions, shared by the engine (which
 * validates) and the CLI and UI (which build them); the rules of single fields (headers, URLs,
 * proxies, SSH destinations) are in schema-fields.ts.
 */
import { z } from 'zod';
import {
  HEADER_NAME_RE,
  PROTOCOL_HEADER_RE,
  clientMetadataUrl,
  headerMap,
  proxyUrl,
  sshDestination,
  url,
} from './schema-fields.js';

/**
 * Upstream transports (MCP 2025-11-25 §Transports; WebSocket with the `mcp` subprotocol; `stdio`:
 * a remote command's stdio over SSH `exec`; `commands`: the engine's own MCP server running the
 * allow-listed commands of a commands file over SSH `exec`).
 */
export const TRANSPORTS = ['auto', 'streamable-http', 'sse', 'websocket', 'stdio', 'commands'] as const;
/** One of {@link TRANSPORTS}; `auto` means: try Streamable HTTP, fall back to legacy SSE. */
export type TransportKind = (typeof TRANSPORTS)[number];

/** Endpoint names: what `mcp-tether shim <name>` takes; safe in file names and keychain accounts. */
export const ENDPOINT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * How an endpoint authenticates. The secret itself is never here: it is an OS keychain entry
 * (service `mcp-tether`, account `<endpoint>/<secret name>`), set with `mcp-tether secret set`, or,
 * for OAuth, the tokens `mcp-tether login` obtained.
 */
export const AuthSchema = z.discriminatedUnion('type', [
  /** `Authorization: Bearer <token>`; the token is the keychain secret `bearer`. */
  z.object({ type: z.literal('bearer') }).strict(),
  /** A header whose whole value is secret (an API key); the keychain secret `header:<name>`. */
  z
    .object({
      type: z.literal('header'),
      name: z
        .string()
        .regex(HEADER_NAME_RE, 'not a valid HTTP header name (RFC 9110 §5.1)')
        .refine((n) => !PROTOCOL_HEADER_RE.test(n), {
          error: (issue) =>
            `"${String(issue.input)}" is set by MCP Tether's transport on each request (HTTP or MCP protocol header); it cannot carry a secret`,
        }),
    })
    .strict(),
  /** OAuth 2.1 per the MCP authorization spec; tokens from `mcp-tether login`. */
  z
    .object({
      type: z.literal('oauth'),
      /** A client id registered with the authorization server beforehand (else CIMD or RFC 7591). */
      clientId: z.string().min(1).max(2048).optional(),
      /** Scopes to ask for; default: the server's WWW-Authenticate scope, else its metadata's. */
      scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'not an OAuth scope')).optional(),
      /** An HTTPS URL serving this client's Client ID Metadata Document, for servers that support it. */
      clientMetadataUrl: clientMetadataUrl.optional(),
      /**
       * How tokens are obtained (default `authorization-code`: a user signs in in the browser):
       * `client-credentials` for machine-to-machine endpoints (OAuth 2.1 §4.2, MCP extension
       * SEP-1046; the client secret or private key in the keychain), `jwt-bearer` for
       * enterprise-managed authorization (MCP extension SEP-990: an ID-JAG from `idp`, RFC 7523).
       */
      grant: z.enum(['authorization-code', 'client-credentials', 'jwt-bearer']).optional(),
      /** For `grant: jwt-bearer`: the enterprise IdP that issues ID-JAGs (RFC 8693 token exchange). */
      idp: z
        .object({
          tokenEndpoint: z.url({
            protocol: /^https?$/,
            error: 'the IdP token endpoint must be an http(s):// URL',
          }),
          /** This client's id at the IdP. */
          clientId: z.string().min(1).max(2048).optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .refine((a) => a.grant === undefined || a.grant === 'authorization-code' || a.clientId !== undefined, {
      message: 'the client-credentials and jwt-bearer grants need a clientId',
    })
    .refine((a) => (a.grant === 'jwt-bearer') === (a.idp !== undefined), {
      message: 'idp goes with grant jwt-bearer, and jwt-bearer needs it',
    }),
  /**
   * OAuth 2.0 Token Exchange (RFC 8693): the user signs in as for `oauth` (`mcp-tether login`); the
   * engine exchanges that token at `issuer` for the server's token. The client secret is the
   * keychain secret `oauth-client-secret`.
   */
  z
    .object({
      type: z.literal('token-exchange'),
      /** The authorization server that signs the user in and exchanges the token (RFC 8414 issuer). */
      issuer: z.url({ protocol: /^https?$/, error: 'the issuer must be an https:// (or http://) URL' }),
      /** The confidential client registered with `issuer` for the sign-in and the exchange. */
      clientId: z.string().min(1).max(2048),
      /** Scopes asked for in the exchange (RFC 8693 §2.1 `scope`). */
      scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'not an OAuth scope')).optional(),
      /** The service's name at `issuer` (RFC 8693 §2.1 `audience`); `resource` is always the URL. */
      audience: z.string().min(1).max(2048).optional(),
    })
    .strict(),
]);
/** One of {@link AuthSchema}'s shapes. */
export type AuthConfig = z.output<typeof AuthSchema>;

/** How an endpoint is reached over SSH (ssh(1) terms). */
const SshSchema = z
  .object({
    /** The SSH server: `[user@]host[:port]` or a Host alias of the ssh config. */
    destination: sshDestination,
    /** A private key file (like `ssh -i`); else the config's IdentityFile, else ~/.ssh/id_*. */
    identityFile: z.string().min(1).optional(),
    /** Jump hosts in order (like `ssh -J`); else the config's ProxyJump. */
    jump: z.array(sshDestination).default([]),
    /** An ssh config file to read instead of ~/.ssh/config (like `ssh -F`). */
    configFile: z.string().min(1).optional(),
  })
  .strict();

/** One endpoint as stored in endpoints.json. Times are in milliseconds. */
export const EndpointConfigSchema = z
  .object({
    /** The MCP server's URL; for an SSH endpoint, as seen from the SSH server (e.g. its 127.0.0.1). */
    url: url.optional(),
    /** Reach the server through this SSH connection. */
    ssh: SshSchema.optional(),
    /** For the `stdio` transport: the command run on the SSH server, as argv. */
    command: z.array(z.string()).min(1).optional(),
    /** Run `command` through the remote user's login shell (PATH from profiles: nvm, npm prefixes). */
    loginShell: z.boolean().default(false),
    /** For the `commands` transport: the commands file (YAML or JSON, absolute path) to serve as tools. */
    commandsFile: z
      .string()
      .regex(/^(?:\/|[A-Za-z]:[\\/])/, 'the commands file must be an absolute path')
      .optional(),
    transport: z.enum(TRANSPORTS).default('auto'),
    /** Non-secret static headers sent on every upstream HTTP request and the WebSocket handshake. */
    headers: headerMap.default({}),
    /** Credentials kept in the OS keychain, sent on every request and the WebSocket handshake. */
    auth: AuthSchema.optional(),
    /** Time allowed to connect and complete `initialize` upstream (ms). */
    connectTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
    /** Time allowed for any single request upstream before the client gets UPSTREAM_TIMEOUT (ms). */
    requestTimeoutMs: z.number().int().min(100).max(86_400_000).default(300_000),
    /** Interval of MCP `ping` health probes while the endpoint is in use (ms; 0 turns probes off). */
    pingIntervalMs: z.number().int().min(0).max(3_600_000).default(15_000),
    /**
     * CA certificates trusted for this endpoint's TLS, PEM text (from `--ca FILE`), added to the
     * default roots and the OS store, never replacing them. Public certificates, not a secret.
     */
    ca: z
      .string()
      .max(1024 * 1024)
      .regex(
        /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/,
        'not PEM certificates: give --ca a PEM file with "-----BEGIN CERTIFICATE-----" blocks',
      )
      .optional(),
    /**
     * An HTTP(S) proxy for every connection of this endpoint (`--proxy URL`, CONNECT tunnels), over
     * the environment's and the OS's. No credentials: those are the keychain secret `proxy`.
     */
    proxy: proxyUrl.optional(),
    /** Send the keychain secret `proxy` (`user:password`, HTTP Basic) to the proxy; set by `secret set --proxy`. */
    proxyAuth: z.boolean().optional(),
    /**
     * `false` (`--no-offline-start`): keep no last known state of this server and never answer
     * `initialize` or lists from it (relay/last-known.ts). Default: on.
     */
    offlineStart: z.boolean().optional(),
    /**
     * `false` (`--no-safe-retry`): never send a request lost to a transport failure again
     * (relay/retry-policy.ts). Default: on.
     */
    safeRetry: z.boolean().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.transport === 'commands' || e.commandsFile) {
      if (e.transport !== 'commands')
        ctx.addIssue({
          code: 'custom',
          path: ['commandsFile'],
          message: 'a commands file needs the commands transport',
        });
      if (!e.ssh)
        ctx.addIssue({
          code: 'custom',
          path: ['ssh'],
          message: 'a command endpoint runs its commands over SSH: give --ssh',
        });
      if (!e.commandsFile)
        ctx.addIssue({
          code: 'custom',
          path: ['commandsFile'],
          message: 'the commands transport needs a commands file (--commands)',
        });
      for (const field of ['url', 'command', 'auth'] as const)
        if (e[field])
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `a command endpoint has a commands file and no ${field}`,
          });
      return;
    }
    if (e.ssh && e.proxy)
      ctx.addIssue({
        code: 'custom',
        path: ['proxy'],
        message:
          'a proxy does not apply to an SSH endpoint: its HTTP runs inside the SSH tunnel (an SSH connection through an HTTP proxy is not supported)',
      });
    if (e.transport === 'stdio' && e.ca)
      ctx.addIssue({
        code: 'custom',
        path: ['ca'],
        message: 'a stdio endpoint has no TLS to trust a CA for',
      });
    if (e.transport === 'stdio') {
      if (!e.ssh)
        ctx.addIssue({
          code: 'custom',
          path: ['ssh'],
          message: 'the stdio transport runs a command over SSH: give --ssh',
        });
      if (!e.command)
        ctx.addIssue({
          code: 'custom',
          path: ['command'],
          message: 'the stdio transport needs the remote command (after --)',
        });
      if (e.url)
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'a stdio endpoint has a command, not a URL' });
      if (e.auth)
        ctx.addIssue({
          code: 'custom',
          path: ['auth'],
          message: 'a stdio endpoint has no HTTP requests to authenticate (SSH keys authenticate it)',
        });
      return;
    }
    if (e.command)
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'a remote command needs the stdio transport',
      });
    if (!e.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'a URL is required (or a remote command with --ssh … -- command)',
      });
      return;
    }
    const authHeader = e.auth?.type === 'header' ? e.auth.name.toLowerCase() : e.auth ? 'authorization' : '';
    const clash = Object.keys(e.headers).find((h) => h.toLowerCase() === authHeader);
    if (clash)
      ctx.addIssue({
        code: 'custom',
        path: ['headers', clash],
        message: `"${clash}" is the endpoint's secret header: its value comes from the OS keychain`,
      });
    const scheme = e.url.split(':')[0];
    const isWs = scheme === 'ws' || scheme === 'wss';
    if (e.transport === 'websocket' && !isWs) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'the websocket transport needs a ws:// or wss:// URL',
      });
    }
    if (e.transport !== 'websocket' && e.transport !== 'auto' && isWs) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `the ${e.transport} transport needs an http:// or https:// URL`,
      });
    }
  });

/** An endpoint as stored (defaults applied). */
export type EndpointConfig = z.output<typeof EndpointConfigSchema>;

/** An endpoint as given by a user (defaults optional). */
export type EndpointConfigInput = z.input<typeof EndpointConfigSchema>;

/** `settings.metrics`: where the engine serves Prometheus metrics. */
export const MetricsSettingsSchema = z
  .object({
    /** `host:port` to serve on, e.g. `127.0.0.1:9464`; loopback only unless `allowNonLoopback`. */
    listen: z.string().min(1).optional(),
    /** Serve on a non-loopback address too (anyone who reaches it sees your endpoint names). */
    allowNonLoopback: z.boolean().default(false),
  })
  .strict();

/** `settings.telemetry`: where the engine exports OpenTelemetry traces. */
export const TelemetrySettingsSchema = z
  .object({
    /** The OTLP/HTTP base URL (`/v1/traces` is appended), e.g. `http://127.0.0.1:4318`. */
    otlpEndpoint: z
      .url({ protocol: /^https?$/, error: 'the OTLP endpoint must be an http:// or https:// URL' })
      .optional(),
    /** `service.name` of the spans; default OTEL_SERVICE_NAME, else `mcp-tether`. */
    serviceName: z.string().min(1).max(256).optional(),
  })
  .strict();

/** Engine-wide settings. */
const SettingsSchema = z
  .object({
    traffic: z
      .object({
        /** Most records the traffic ring keeps. */
        maxRecords: z.number().int().min(100).max(10_000_000).default(20_000),
        /** Most bytes of message text the traffic ring keeps. */
        maxBytes: z
          .number()
          .int()
          .min(65_536)
          .max(4 * 1024 ** 3)
          .default(64 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    /** The Prometheus scrape endpoint (`GET /metrics`); off unless `listen` is set. */
    metrics: MetricsSettingsSchema.prefault({}),
    /**
     * OpenTelemetry traces of relayed requests over OTLP/HTTP. The standard OTEL_EXPORTER_OTLP_*
     * environment variables, when set, win over `otlpEndpoint`. Read when the engine starts.
     */
    telemetry: TelemetrySettingsSchema.prefault({}),
    /** Longest JSON-RPC line accepted from a client or the control socket (bytes). */
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 ** 3)
      .default(16 * 1024 * 1024),
    /** OAuth defaults for every `--auth oauth` endpoint. */
    oauth: z
      .object({
        /**
         * Where MCP Tether's Client ID Metadata Document (docs/oauth/client-metadata.json) is
         * published; used as the client id wherever the authorization server supports CIMD, unless
         * an endpoint has its own `clientId` or `clientMetadataUrl`.
         */
        clientMetadataUrl: clientMetadataUrl.optional(),
      })
      .strict()
      .optional(),
    /**
     * Bytes waiting to be written to one client's shim above which the engine stops reading that
     * session's server (backpressure), until they are written.
     */
    maxQueuedBytes: z
      .number()
      .int()
      .min(65_536)
      .max(1024 ** 3)
      .default(8 * 1024 * 1024),
    /** How long a session may stay above `maxQueuedBytes` before its upstream session is ended (ms). */
    stalledClientMs: z.number().int().min(1000).max(3_600_000).default(60_000),
  })
  .strict();

/** Engine settings with defaults applied. */
export type Settings = z.output<typeof SettingsSchema>;

/** The whole `endpoints.json` file. */
export const ConfigFileSchema = z
  .object({
    version: z.literal(1),
    settings: SettingsSchema.prefault({}),
    endpoints: z
      .record(
        z
          .string()
          .regex(ENDPOINT_NAME_RE, 'endpoint names are letters, digits, ".", "_" and "-" (at most 64)'),
        EndpointConfigSchema,
      )
      .default({}),
  })
  .strict();

/** `endpoints.json` with defaults applied. */
export type ConfigFile = z.output<typeof ConfigFileSchema>;
