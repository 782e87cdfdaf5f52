/**
 * The upstream of a command endpoint: an MCP server running inside the engine (the SDK's `Server`),
 * linked to the relay by the SDK's in-memory transport, so the relay, traffic, health, the shim and
 * `install` treat it like any remote server. Its tools are the commands of the endpoint's commands
 * file (see ./spec.ts) plus `list_commands`; each call runs one command on the SSH host (./run.ts).
 *
 * Traffic events: `exec` (the exact command line sent to the SSH server), `refused` (arguments
 * rejected: nothing was sent), `timeout` (the process was killed).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  PingRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { safeStringify } from '../../common/safe-json.js';
import { ErrorCode, JsonRpcErrorCode, TetherError, toTetherError } from '../../common/errors.js';
import type { JsonRpcId } from '../../common/jsonrpc.js';
import type { SshLink } from '../ssh/link.js';
import { sendNotice } from '../upstream/messages.js';
import type { OutboundMessage, UpstreamConnection, UpstreamHandlers } from '../upstream/types.js';
import { runRemoteCommand } from './run.js';
import {
  LIST_COMMANDS,
  bindArguments,
  inputJsonSchema,
  loadCommandsFile,
  type CommandsFile,
} from './spec.js';

/** Options of {@link openCommandsUpstream}. */
export interface CommandsUpstreamOptions {
  link: SshLink;
  /** The commands file (absolute path); read again for every session. */
  commandsFile: string;
  loginShell: boolean;
  handlers: UpstreamHandlers;
  /** The engine's version, as the server's `serverInfo.version`. */
  version?: string;
}

/** The JSON Schema of a command's structured result (see CommandOutcome in ./run.ts). */
const OUTCOME_SCHEMA: Tool['outputSchema'] = {
  type: 'object',
  properties: {
    exitCode: { type: ['integer', 'null'], description: 'remote exit status; null when killed' },
    signal: { type: ['string', 'null'], description: 'the signal that ended the process' },
    stdout: { type: 'string' },
    stderr: { type: 'string' },
    stdoutBytes: { type: 'integer', description: 'bytes written to stdout, kept or not' },
    stderrBytes: { type: 'integer', description: 'bytes written to stderr, kept or not' },
    truncated: { type: 'boolean', description: 'a stream was cut at maxOutputBytes' },
    maxOutputBytes: { type: 'integer', description: 'cap of each of stdout and stderr (bytes)' },
    timedOut: { type: 'boolean', description: 'killed for running past its timeout' },
    durationMs: { type: 'integer' },
  },
  required: [
    'exitCode',
    'signal',
    'stdout',
    'stderr',
    'stdoutBytes',
    'stderrBytes',
    'truncated',
    'maxOutputBytes',
    'timedOut',
    'durationMs',
  ],
};

/** An error the SDK sends as the JSON-RPC error `{ code: -32000, message, data: { code, hint } }`. */
function rpcError(err: unknown): Error {
  const e = toTetherError(err).toJsonRpc();
  return Object.assign(new Error(e.message), { code: e.code, data: e.data });
}

/** What `list_commands` returns: every command as the file defines it. */
function listing(file: CommandsFile): CallToolResult {
  const commands = Object.entries(file.commands).map(([name, c]) => ({
    name,
    ...(c.title ? { title: c.title } : {}),
    description: c.description,
    ...(c.category ? { category: c.category } : {}),
    parameters: c.parameters,
    command: c.command,
    timeoutSeconds: c.timeoutSeconds ?? file.defaults.timeoutSeconds,
    maxOutputBytes: c.maxOutputBytes ?? file.defaults.maxOutputBytes,
  }));
  return {
    content: [{ type: 'text', text: JSON.stringify({ commands }) }],
    structuredContent: { commands },
  };
}

/** The MCP server of one session: tools from `file`, run over `opts.link`. */
function commandsServer(
  file: CommandsFile,
  opts: CommandsUpstreamOptions,
  running: Set<AbortController>,
): Server {
  const server = new Server(
    { name: 'mcp-tether-commands', version: opts.version ?? '0.0.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Each tool runs one allow-listed command on the SSH host; list_commands shows them all. There is no shell access.',
    },
  );
  const tools: Tool[] = [
    {
      name: LIST_COMMANDS,
      description:
        'Lists the allow-listed commands of this endpoint: parameters, argv template, timeout, output cap.',
      inputSchema: { type: 'object', properties: {}, additionalProperties: false },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ...Object.entries(file.commands).map(([name, c]): Tool => ({
      name,
      ...(c.title ? { title: c.title } : {}),
      description: c.description,
      inputSchema: inputJsonSchema(c) as Tool['inputSchema'],
      outputSchema: OUTCOME_SCHEMA,
      ...(c.annotations ? { annotations: c.annotations } : {}),
    })),
  ];
  server.setRequestHandler(PingRequestSchema, async () => {
    // Health probes reach the SSH host, as they do for every other SSH endpoint.
    try {
      await opts.link.connect();
    } catch (err) {
      throw rpcError(err);
    }
    return {};
  });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const name = req.params.name;
    if (name === LIST_COMMANDS) return listing(file);
    const c = Object.hasOwn(file.commands, name) ? file.commands[name] : undefined;
    if (!c) {
      throw Object.assign(new Error(`Unknown tool: ${name}`), { code: JsonRpcErrorCode.INVALID_PARAMS });
    }
    const bound = bindArguments(c, req.params.arguments);
    if ('refused' in bound) {
      opts.handlers.event('refused', `${name}: ${bound.refused}; nothing was sent to the SSH server`);
      return {
        isError: true,
        content: [{ type: 'text', text: `Refused, nothing was run: ${bound.refused}` }],
      };
    }
    const timeoutSeconds = c.timeoutSeconds ?? file.defaults.timeoutSeconds;
    const abort = new AbortController();
    const cancel = () => abort.abort();
    extra.signal.addEventListener('abort', cancel, { once: true });
    running.add(abort);
    try {
      const outcome = await runRemoteCommand({
        link: opts.link,
        argv: bound.argv,
        loginShell: opts.loginShell,
        timeoutMs: timeoutSeconds * 1000,
        maxOutputBytes: c.maxOutputBytes ?? file.defaults.maxOutputBytes,
        signal: abort.signal,
        onExec: (line) => opts.handlers.event('exec', `${name}: ${line}`),
      });
      if (outcome.timedOut)
        opts.handlers.event('timeout', `${name}: killed after ${timeoutSeconds} s (signal KILL)`);
      return {
        ...(outcome.timedOut ? { isError: true } : {}),
        content: [{ type: 'text', text: JSON.stringify(outcome) }],
        structuredContent: outcome,
      };
    } catch (err) {
      throw rpcError(err);
    } finally {
      running.delete(abort);
      extra.signal.removeEventListener('abort', cancel);
    }
  });
  return server;
}

/**
 * Loads the commands file, connects the SSH link and starts the in-engine server of one session.
 * @throws TetherError CONFIG_INVALID / CONFIG_IO (the commands file), and as SshLink.connect
 *   (HOST_KEY_UNKNOWN, SSH_AUTH_FAILED, SSH_UNREACHABLE…)
 */
export async function openCommandsUpstream(opts: CommandsUpstreamOptions): Promise<UpstreamConnection> {
  const file = loadCommandsFile(opts.commandsFile);
  await opts.link.connect();
  const running = new Set<AbortController>();
  const server = commandsServer(file, opts, running);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const conn = new CommandsUpstream(clientSide, server, running, opts.handlers);
  await server.connect(serverSide);
  await clientSide.start();
  return conn;
}

class CommandsUpstream implements UpstreamConnection {
  readonly transport = 'commands' as const;
  private closing = false;

  constructor(
    private readonly link: InMemoryTransport,
    private readonly server: Server,
    private readonly running: Set<AbortController>,
    private readonly handlers: UpstreamHandlers,
  ) {
    link.onmessage = (m: JSONRPCMessage) => handlers.message(safeStringify(m), m);
    link.onclose = () => {
      if (!this.closing)
        handlers.closed(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the command server closed'));
    };
  }

  send(msg: OutboundMessage): Promise<void> {
    if (this.closing)
      return Promise.reject(
        new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'the command server has closed'),
      );
    return this.link.send(msg.parsed as JSONRPCMessage);
  }

  setProtocolVersion(): void {
    // In-process: no per-message headers.
  }

  /**
   * No backpressure needed: the in-engine server's output per call is capped (`maxOutputBytes`) and
   * it sends nothing unasked.
   */
  pause(): void {}

  resume(): void {}

  /** Cancellation is the `notifications/cancelled` message here (MCP 2025-11-25 §Cancellation). */
  cancel(_id: JsonRpcId, notice: OutboundMessage): void {
    sendNotice(this, notice, this.handlers);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const a of this.running) a.abort();
    await this.server.close();
  }
}
