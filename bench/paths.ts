/**
 * The four ways a stdio MCP client reaches the one upstream, each driven by a fresh MCP SDK
 * `Client` per connection:
 *
 *   direct        SDK Client + StreamableHTTPClientTransport inside the bench process
 *   mcp-remote    `mcp-remote <url> --transport http-only --allow-http` over stdio
 *   supergateway  `supergateway --streamableHttp <url>` over stdio
 *   tether        `mcp-tether shim bench` over stdio, its engine already running
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { ROOT } from '../test/helpers/processes.js';
import { BIN } from '../test/helpers/tether.js';
import { REQUEST_TIMEOUT_MS } from './load.js';
import type { PathName } from './options.js';
import { disown, killHard, own, removeOnExit } from './procs.js';
import { tailOf, withTimeout } from './stats.js';
import { ENDPOINT } from './tether.js';
import { errorMessage } from '../main/common/errors.js';

/**
 * The bench client's stdio read buffer (bytes): the SDK's default, 10 MiB, is less than a 16 MiB
 * echo's answer. (The stdio side of mcp-remote and supergateway keeps that default.)
 */
const STDIO_BUFFER_BYTES = 64 * 1024 * 1024;

/** One open connection of a path. */
export interface Conn {
  client: Client;
  /** Spawn (or connect) → `initialize` answered (ms). */
  coldStartMs: number;
  /** The stdio process's pid; undefined for direct. */
  pid: number | undefined;
  close(): Promise<void>;
  stderrTail(): string;
}

/** Opens a new connection of one path. */
export type Connector = () => Promise<Conn>;

/**
 * With a `protocol`, rewrites the protocolVersion of the outgoing `initialize` request (the SDK
 * Client always asks for its latest). Relays pass it on, so every path negotiates the same version.
 */
function forceProtocol<T extends Transport>(transport: T, protocol: string | null): T {
  if (protocol === null) return transport;
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options) => {
    if ('method' in message && message.method === 'initialize' && message.params)
      message = { ...message, params: { ...message.params, protocolVersion: protocol } };
    return send(message, options);
  };
  return transport;
}

function newClient(): Client {
  return new Client({ name: 'mcp-tether-bench', version: '0.0.0' }, { capabilities: {} });
}

async function connectDirect(url: string, protocol: string | null): Promise<Conn> {
  const client = newClient();
  const transport = forceProtocol(new StreamableHTTPClientTransport(new URL(url)), protocol);
  const t0 = performance.now();
  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
  return {
    client,
    coldStartMs: performance.now() - t0,
    pid: undefined,
    stderrTail: () => '',
    close: async () => {
      // Ends the upstream session (and its event store); a failure leaves it on the server.
      await withTimeout(transport.terminateSession(), 5000, 'terminateSession').catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}

/**
 * Spawns a stdio MCP server (`node <args>`) through the SDK's StdioClientTransport and times
 * spawn → `initialize` answered.
 */
async function connectStdio(
  label: string,
  args: string[],
  env: Record<string, string>,
  protocol: string | null,
): Promise<Conn> {
  const client = newClient();
  const transport = forceProtocol(
    new StdioClientTransport({
      command: process.execPath,
      args,
      env,
      cwd: ROOT,
      stderr: 'pipe',
      maxBufferSize: STDIO_BUFFER_BYTES,
    }),
    protocol,
  );
  const stderrTail = tailOf(transport.stderr);
  let pid: number | undefined;
  const close = async () => {
    await client.close().catch(() => undefined);
    if (pid !== undefined) {
      killHard(pid);
      disown(pid);
    }
  };
  const t0 = performance.now();
  try {
    const connecting = client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    // The process is spawned synchronously inside start(): own it at once, so it is killed even
    // if `initialize` never completes.
    await Promise.resolve();
    pid = transport.pid ?? undefined;
    own(pid);
    await connecting;
  } catch (err) {
    await close();
    const tail = stderrTail().trim();
    throw new Error(
      `${label}: connect failed: ${errorMessage(err)}${tail ? `\n    stderr: ${tail.slice(-600)}` : ''}`,
    );
  }
  const coldStartMs = performance.now() - t0;
  pid ??= transport.pid ?? undefined;
  own(pid);
  return { client, coldStartMs, pid, close, stderrTail };
}

/**
 * The connector of every path. mcp-remote and supergateway get a private HOME under the OS temp
 * dir; the tether shim runs with `tetherEnv` (its home's environment), undefined when tether is
 * not set up.
 */
export function connectors(
  url: string,
  protocol: string | null,
  tetherEnv: NodeJS.ProcessEnv | undefined,
): Record<PathName, Connector> {
  const remoteHome = mkdtempSync(join(tmpdir(), 'mcp-remote-bench-'));
  const sgHome = mkdtempSync(join(tmpdir(), 'supergateway-bench-'));
  removeOnExit(remoteHome);
  removeOnExit(sgHome);
  const node = (pkg: string) => join(ROOT, 'node_modules', pkg);
  return {
    direct: () => connectDirect(url, protocol),
    'mcp-remote': () =>
      connectStdio(
        'mcp-remote',
        [node('mcp-remote/dist/proxy.js'), url, '--transport', 'http-only', '--allow-http'],
        {
          ...getDefaultEnvironment(),
          HOME: remoteHome,
          MCP_REMOTE_CONFIG_DIR: join(remoteHome, '.mcp-auth'),
        },
        protocol,
      ),
    supergateway: () =>
      connectStdio(
        'supergateway',
        [node('supergateway/dist/index.js'), '--streamableHttp', url],
        { ...getDefaultEnvironment(), HOME: sgHome },
        protocol,
      ),
    tether: () => {
      if (!tetherEnv) throw new Error('the tether engine is not set up');
      return connectStdio(
        'tether shim',
        [BIN, 'shim', ENDPOINT],
        tetherEnv as Record<string, string>,
        protocol,
      );
    },
  };
}

/** Opens `n` connections, at most `batch` being set up at a time; closes them all on a failure. */
export async function connectMany(connect: Connector, n: number, batch = 10): Promise<Conn[]> {
  const conns: Conn[] = [];
  for (let i = 0; i < n; i += batch) {
    const settled = await Promise.allSettled(Array.from({ length: Math.min(batch, n - i) }, connect));
    for (const s of settled) if (s.status === 'fulfilled') conns.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      await closeAll(conns);
      throw failed.reason;
    }
  }
  return conns;
}

/** Closes every connection. */
export async function closeAll(conns: Conn[]): Promise<void> {
  await Promise.all(conns.map((c) => c.close()));
}
