/**
 * The demo session: a real MCP client (the MCP SDK's `Client` over its `StdioClientTransport`, the
 * way Claude Desktop starts a server) runs `mcp-tether shim demo` exactly as a client config would,
 * and goes through a short session: `initialize`, `tools/list`, calls of each demo tool (progress
 * notifications, an elicitation the client answers), `resources/read` and `prompts/get`. Each step
 * is checked and reported as it ends; the first failing step ends the session.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ShimLaunch } from '../../common/clients.js';
import { DEMO_CLIENT_NAME, DEMO_ENDPOINT, type DemoStep } from '../../common/demo.js';
import { ErrorCode, errorMessage } from '../../common/errors.js';

/** The name the demo client gives when the `greet` tool asks for one. */
const DEMO_USER_NAME = 'Ada';

/** Options of {@link runDemoSession}. */
export interface DemoSessionOptions {
  /** How a client starts `mcp-tether shim demo` (absolute paths; see clients/launch.ts). */
  launch: ShimLaunch;
  /** The shim's environment (the engine's own: same MCP_TETHER_HOME, same user). */
  env: NodeJS.ProcessEnv;
  /** Reported as the client's version. */
  version: string;
  /** Told each step as it ends. */
  onStep: (step: DemoStep) => void;
  /** Limit of each request (ms; default 15000). */
  requestTimeoutMs?: number;
}

/** A step's check failed: the answer was not what the demo server gives. */
class UnexpectedAnswer extends Error {}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new UnexpectedAnswer(what);
}

function firstText(result: object): string {
  const content = (result as { content?: unknown }).content;
  const c = Array.isArray(content) ? (content[0] as { type?: string; text?: string }) : undefined;
  return c?.type === 'text' && typeof c.text === 'string' ? c.text : '';
}

/** The step for a failure: the error's message, its stable code and hint when it carries them. */
function failedStep(step: string, err: unknown, ms: number, stderr: string): DemoStep {
  const data = (err as { data?: { code?: unknown; hint?: unknown } }).data;
  const out: DemoStep = { step, ok: false, detail: errorMessage(err), ms };
  if (typeof data?.code === 'string') out.code = data.code;
  else if (err instanceof UnexpectedAnswer) out.code = ErrorCode.UPSTREAM_PROTOCOL;
  if (typeof data?.hint === 'string') out.hint = data.hint;
  const lastLine = stderr.trim().split('\n').at(-1);
  if (lastLine) out.detail += ` (the shim said: ${lastLine.slice(0, 300)})`;
  return out;
}

/**
 * Runs the session and resolves with its steps (the last one failed when the session stopped
 * early). Never rejects: every failure is a failed step. The shim process is always ended.
 */
export async function runDemoSession(opts: DemoSessionOptions): Promise<DemoStep[]> {
  const timeout = opts.requestTimeoutMs ?? 15_000;
  const steps: DemoStep[] = [];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...opts.env, ...opts.launch.env })) if (v !== undefined) env[k] = v;
  const transport = new StdioClientTransport({
    command: opts.launch.command,
    args: opts.launch.args,
    env,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4096);
  });
  const client = new Client(
    { name: DEMO_CLIENT_NAME, version: opts.version },
    { capabilities: { elicitation: { form: {} } } },
  );
  let asked = '';
  client.setRequestHandler(ElicitRequestSchema, (req) => {
    asked = req.params.message;
    return { action: 'accept', content: { name: DEMO_USER_NAME } };
  });

  /** Runs one step; false when it failed (the session stops there). */
  const step = async (name: string, run: () => Promise<string>): Promise<boolean> => {
    const t0 = performance.now();
    let s: DemoStep;
    try {
      const detail = await run();
      s = { step: name, ok: true, detail, ms: Math.round(performance.now() - t0) };
    } catch (err) {
      s = failedStep(name, err, Math.round(performance.now() - t0), stderr);
    }
    steps.push(s);
    opts.onStep(s);
    return s.ok;
  };

  const call = (name: string, args: Record<string, unknown>, onprogress?: () => void) =>
    client.callTool({ name, arguments: args }, undefined, {
      timeout,
      ...(onprogress ? { onprogress, resetTimeoutOnProgress: true } : {}),
    });

  try {
    const ok =
      (await step('initialize', async () => {
        await client.connect(transport, { timeout });
        const info = client.getServerVersion();
        expect(info?.name === 'mcp-tether-demo', `expected the demo server, got ${info?.name ?? 'no name'}`);
        return `\`mcp-tether shim ${DEMO_ENDPOINT}\` started (pid ${transport.pid ?? '?'}); server ${info!.name} ${info!.version}`;
      })) &&
      (await step('tools/list', async () => {
        const { tools } = await client.listTools(undefined, { timeout });
        const names = tools.map((t) => t.name);
        expect(names.includes('echo') && names.includes('add'), `unexpected tools: ${names.join(', ')}`);
        return `${tools.length} tools: ${names.join(', ')}`;
      })) &&
      (await step('tools/call echo', async () => {
        const text = firstText(await call('echo', { text: 'hello through the tether' }));
        expect(text === 'hello through the tether', `echo answered ${JSON.stringify(text)}`);
        return `echoed ${JSON.stringify(text)}`;
      })) &&
      (await step('tools/call add', async () => {
        const text = firstText(await call('add', { a: 2, b: 3 }));
        expect(text === '5', `2 + 3 answered ${JSON.stringify(text)}`);
        return `2 + 3 = ${text}`;
      })) &&
      (await step('tools/call slow', async () => {
        let progress = 0;
        const text = firstText(await call('slow', { steps: 5 }, () => progress++));
        expect(progress > 0, 'no notifications/progress arrived');
        return `${progress} progress notifications reached the client, then ${JSON.stringify(text)}`;
      })) &&
      (await step('tools/call greet', async () => {
        const text = firstText(await call('greet', {}));
        expect(asked !== '', 'the server did not ask (no elicitation/create arrived)');
        expect(text === `Hello, ${DEMO_USER_NAME}!`, `greet answered ${JSON.stringify(text)}`);
        return `the server asked ${JSON.stringify(asked)} (elicitation/create); the client answered ${JSON.stringify(DEMO_USER_NAME)}; reply ${JSON.stringify(text)}`;
      })) &&
      (await step('resources/read demo://about', async () => {
        const { contents } = await client.readResource({ uri: 'demo://about' }, { timeout });
        const text = contents[0] && 'text' in contents[0] ? String(contents[0].text) : '';
        expect(text.length > 0, 'the resource came back empty');
        return `${text.length} characters of text/plain`;
      }));
    if (ok)
      await step('prompts/get explain', async () => {
        const { messages } = await client.getPrompt(
          { name: 'explain', arguments: { topic: 'MCP' } },
          { timeout },
        );
        const text = messages[0]?.content.type === 'text' ? messages[0].content.text : '';
        expect(text.includes('MCP'), `the prompt came back as ${JSON.stringify(text)}`);
        return `${messages.length} message: ${JSON.stringify(text)}`;
      });
  } finally {
    await client.close().catch(() => undefined);
  }
  return steps;
}
