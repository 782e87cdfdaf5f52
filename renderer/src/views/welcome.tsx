/**
 * The first screen when there are no endpoints: what MCP Tether does, and three ways in: try the
 * demo (control method `demo/run`: a demo MCP server in the engine and a real session through
 * `mcp-tether shim demo`, whose steps are shown here), add an endpoint, set up an MCP client (the
 * clients found on this machine are named).
 */
import { useEffect, useRef, useState } from 'react';
import type { ClientInfo } from '../../../main/common/clients.js';
import type { DemoRunResult } from '../../../main/common/demo.js';
import { ErrorNote } from '../components/common.js';
import { toTetherError, type TetherError } from '../../../main/common/errors.js';
import type { Transport } from '../transport/types.js';

/** Props of {@link WelcomeView}. */
export interface WelcomeViewProps {
  transport: Transport;
  /** How many endpoints there are now (the demo adds one). */
  endpointCount: number;
  /** Run the demo at once (the tray's "Try the demo"). */
  autoStart?: boolean;
  /** Opens the endpoint editor. */
  onAdd(): void;
  /** Opens client setup for the demo endpoint (once the demo added it). */
  onSetUpDemo(): void;
  /** Shows the traffic screen. */
  onShowTraffic(): void;
  /** Leaves the welcome screen for the endpoints list. */
  onDone(): void;
  /** Told when the demo starts (the app then keeps this screen up until the user leaves it). */
  onDemoStarted(): void;
  /** Reloads the endpoints after the demo changed them. */
  reload(): Promise<void>;
}

/** See the module comment. */
export function WelcomeView({
  transport,
  endpointCount,
  autoStart = false,
  onAdd,
  onSetUpDemo,
  onShowTraffic,
  onDone,
  onDemoStarted,
  reload,
}: WelcomeViewProps) {
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<DemoRunResult>();
  const [error, setError] = useState<TetherError>();
  const [clients, setClients] = useState<ClientInfo[]>();

  useEffect(() => {
    transport
      .call('clients/list', {})
      .then((r) => setClients(r.clients))
      .catch(() => setClients([]));
  }, [transport]);

  const tryDemo = async () => {
    onDemoStarted();
    setRunning(true);
    setError(undefined);
    setResult(undefined);
    try {
      // Kept running in the engine, so the demo endpoint can be set up in a client right away.
      setResult(await transport.call('demo/run', { keep: true }));
    } catch (err) {
      setError(toTetherError(err));
    } finally {
      setRunning(false);
      await reload();
    }
  };

  // The tray's "Try the demo": once per request (StrictMode runs effects twice in development).
  const started = useRef(false);
  useEffect(() => {
    if (!autoStart || started.current) return;
    started.current = true;
    void tryDemo();
  });
  useEffect(() => {
    if (!autoStart) started.current = false;
  }, [autoStart]);

  const found = clients?.filter((c) => c.exists).map((c) => c.label) ?? [];
  const failed = result?.steps.find((s) => !s.ok);
  const demoReady = result !== undefined && result.steps.some((s) => s.step === 'endpoint demo' && s.ok);

  return (
    <section className="view welcome-view" aria-label="Welcome">
      <div className="welcome-head">
        <h1>Welcome to MCP Tether</h1>
        <p>
          {endpointCount === 0
            ? 'No endpoints yet.'
            : endpointCount === 1
              ? '1 endpoint now: see it on the Endpoints screen.'
              : `${endpointCount} endpoints now: see them on the Endpoints screen.`}
        </p>
        <p className="muted">
          MCP Tether lets stdio MCP clients such as Claude Desktop use remote MCP servers: each one becomes a
          local command, <code>mcp-tether shim &lt;name&gt;</code>, and one engine holds the connections,
          records the traffic and watches their health.
        </p>
      </div>
      <div className="welcome-cards">
        <article className="welcome-card" aria-labelledby="welcome-demo">
          <h2 id="welcome-demo">1. Try the demo</h2>
          <p className="muted">
            Starts a demo MCP server on 127.0.0.1 inside the engine, adds it as endpoint <code>demo</code>,
            and runs a real MCP client through <code>mcp-tether shim demo</code>: tools, progress, an
            elicitation, a resource and a prompt.
          </p>
          <button type="button" className="primary" disabled={running} onClick={() => void tryDemo()}>
            {running ? 'Running the demo…' : result ? 'Run the demo again' : 'Try the demo'}
          </button>
        </article>
        <article className="welcome-card" aria-labelledby="welcome-add">
          <h2 id="welcome-add">2. Add an endpoint</h2>
          <p className="muted">
            The URL of your remote MCP server (Streamable HTTP, legacy SSE or WebSocket), or a server behind
            SSH. Tokens go to the OS keychain, never to a file.
          </p>
          <button type="button" onClick={onAdd}>
            Add endpoint
          </button>
        </article>
        <article className="welcome-card" aria-labelledby="welcome-client">
          <h2 id="welcome-client">3. Set up a client</h2>
          <p className="muted">
            One click writes an endpoint into Claude Desktop, Cursor, VS Code, Claude Code or Windsurf.{' '}
            {clients === undefined
              ? ''
              : found.length
                ? `Found on this machine: ${found.join(', ')}.`
                : 'No client config was found on this machine yet.'}
          </p>
          <button
            type="button"
            disabled={!demoReady}
            title={demoReady ? undefined : 'Try the demo or add an endpoint first'}
            onClick={onSetUpDemo}
          >
            Set up the demo in a client…
          </button>
        </article>
      </div>
      <ErrorNote error={error} />
      {result && (
        <div className="demo-result" aria-label="Demo steps">
          <ol className="demo-steps">
            {result.steps.map((s) => (
              <li key={s.step} className={s.ok ? 'ok' : 'failed'} data-step={s.step}>
                <span className="mark" aria-hidden="true">
                  {s.ok ? '✓' : '✗'}
                </span>
                <span className="step">{s.step}</span>
                <span className="detail">{s.detail}</span>
                {!s.ok && s.hint && <span className="hint">{s.hint}</span>}
              </li>
            ))}
          </ol>
          {failed ? (
            <ErrorNote error={`The demo failed at step "${failed.step}".`} />
          ) : (
            <div className="notice" role="status">
              Every step worked: an MCP client talked to the demo server through the tether. The demo server
              keeps running in the engine until it stops.
            </div>
          )}
          <div className="actions">
            <button type="button" className="primary" onClick={onShowTraffic}>
              See the traffic
            </button>
            <button type="button" onClick={onDone}>
              See the endpoint
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
