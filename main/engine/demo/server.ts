/**
 * The demo MCP server: the MCP SDK's own `McpServer` over its Streamable HTTP server transport, on
 * 127.0.0.1 only (MCP 2025-11-25 basic/transports "Streamable HTTP": the endpoint is `/mcp`, one
 * transport per session, `Mcp-Session-Id` issued on `initialize`). It shows what an MCP server
 * offers, so a first run has something real to talk to:
 * - tools `echo` (text back), `add` (two numbers), `slow` (reports progress, MCP basic/utilities
 *   "Progress"), `greet` (asks the client for a name with an elicitation, MCP client/elicitation);
 * - a resource `demo://about`; a prompt `explain`.
 *
 * It runs in the engine, so the `demo` endpoint keeps working after `mcp-tether demo` exits (with
 * `--keep`). Like every listener of the engine it refuses a foreign `Host` or `Origin` (DNS
 * rebinding), and it holds at most {@link MAX_SESSIONS} sessions: the oldest is closed first.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { demoServerUrl } from '../../common/demo.js';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';

/** Sessions the demo server keeps at once; a new one closes the oldest beyond this. */
export const MAX_SESSIONS = 16;

/** The text of the `demo://about` resource. */
const ABOUT = [
  'This is the MCP Tether demo server, an MCP server on 127.0.0.1 built with the MCP SDK.',
  'MCP clients reach it through `mcp-tether shim demo`, like any remote MCP server you add.',
].join('\n');

/** One MCP server with the demo's tools, resource and prompt. */
function demoMcpServer(version: string): McpServer {
  const mcp = new McpServer({ name: 'mcp-tether-demo', version });
  mcp.registerTool(
    'echo',
    { description: 'Sends the text back', inputSchema: { text: z.string().max(10_000) } },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  mcp.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  );
  mcp.registerTool(
    'slow',
    {
      description: 'Works for a while, reporting progress at each step (100 ms per step)',
      inputSchema: { steps: z.number().int().min(1).max(50).default(5) },
    },
    async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if (extra.signal.aborted) break;
        if (token !== undefined)
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps, message: `step ${i} of ${steps}` },
          });
      }
      return { content: [{ type: 'text', text: `done after ${steps} steps` }] };
    },
  );
  mcp.registerTool(
    'greet',
    { description: 'Asks you for your name (an elicitation), then greets you', inputSchema: {} },
    async (_args, extra) => {
      // Sent on this request's own response stream, so it reaches the client through the relay.
      const answer = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message: 'What is your name?',
            requestedSchema: {
              type: 'object',
              properties: { name: { type: 'string', title: 'Your name', maxLength: 100 } },
              required: ['name'],
            },
          },
        },
        ElicitResultSchema,
      );
      const name = answer.action === 'accept' ? answer.content?.['name'] : undefined;
      return {
        content: [
          {
            type: 'text',
            text: typeof name === 'string' ? `Hello, ${name}!` : `No name given (${answer.action}).`,
          },
        ],
      };
    },
  );
  mcp.registerResource(
    'about',
    'demo://about',
    { title: 'About this server', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: ABOUT }] }),
  );
  mcp.registerPrompt(
    'explain',
    { description: 'Asks the model to explain a topic simply', argsSchema: { topic: z.string().max(200) } },
    ({ topic }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Explain ${topic} in two sentences.` } }],
    }),
  );
  return mcp;
}

/** See the module comment. */
export class DemoServer {
  private readonly sessions = new Map<string, StreamableHTTPServerTransport>();
  private readonly http: Server;
  private listeningOn = 0;

  private constructor(version: string) {
    this.http = createServer((req, res) => void this.handle(req, res, version));
  }

  /** The port it listens on. */
  get port(): number {
    return this.listeningOn;
  }

  /** Its MCP URL, `http://127.0.0.1:<port>/mcp`. */
  get url(): string {
    return demoServerUrl(this.port);
  }

  /**
   * Listens on 127.0.0.1:`port` (0: any free port).
   * @param version reported as the server's version in `initialize`
   * @throws TetherError INVALID_ARGUMENT when the port is taken (EADDRINUSE) or not allowed
   *   (EACCES), with a hint naming `--port`; ENGINE_START_FAILED for any other listen failure
   */
  static async start(port: number, version: string): Promise<DemoServer> {
    const self = new DemoServer(version);
    const http = self.http;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      const where = `127.0.0.1:${port}`;
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES')
        throw new TetherError(
          ErrorCode.INVALID_ARGUMENT,
          err.code === 'EADDRINUSE'
            ? `port ${where} is taken by another program, so the demo server cannot listen there`
            : `the demo server may not listen on ${where} (${err.code})`,
          {
            hint: 'Pick a free port: mcp-tether demo --port <n> (the demo endpoint follows it).',
            taken: err.code === 'EADDRINUSE',
          },
        );
      throw new TetherError(
        ErrorCode.ENGINE_START_FAILED,
        `the demo server cannot listen on ${where}: ${err.message}`,
      );
    });
    self.listeningOn = (http.address() as AddressInfo).port;
    return self;
  }

  /** Host and Origin must name this loopback server (DNS rebinding); the path must be /mcp. */
  private refusal(req: IncomingMessage): [number, string] | undefined {
    const allowed = [`127.0.0.1:${this.port}`, `localhost:${this.port}`];
    if (!allowed.includes((req.headers.host ?? '').toLowerCase())) return [403, 'unexpected Host'];
    const origin = req.headers.origin?.toLowerCase();
    if (origin !== undefined && !allowed.some((a) => origin === `http://${a}`))
      return [403, 'unexpected Origin'];
    if ((req.url ?? '').split('?')[0] !== '/mcp') return [404, 'the MCP endpoint is /mcp'];
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, version: string): Promise<void> {
    try {
      const refused = this.refusal(req);
      if (refused) {
        res.writeHead(refused[0], { 'content-type': 'text/plain' }).end(refused[1]);
        return;
      }
      const sid = req.headers['mcp-session-id'];
      let transport = typeof sid === 'string' ? this.sessions.get(sid) : undefined;
      if (!transport) {
        if (typeof sid === 'string') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('unknown session');
          return;
        }
        // No session yet: a new one, if this is an initialize (the transport answers 400 otherwise).
        const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id: string) => this.admit(id, t),
        });
        t.onclose = () => {
          if (t.sessionId) this.sessions.delete(t.sessionId);
        };
        await demoMcpServer(version).connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(errorMessage(err));
    }
  }

  /** Keeps a new session, closing the oldest beyond {@link MAX_SESSIONS}. */
  private admit(id: string, t: StreamableHTTPServerTransport): void {
    this.sessions.set(id, t);
    for (const [oldId, old] of this.sessions) {
      if (this.sessions.size <= MAX_SESSIONS) break;
      this.sessions.delete(oldId);
      void old.close();
    }
  }

  /** Closes every session and stops listening. */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((t) => t.close().catch(() => undefined)));
    this.sessions.clear();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}
