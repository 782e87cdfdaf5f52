/**
 * `mcp-tether doctor <name>`: diagnoses one endpoint layer by layer and stops at the first layer
 * that fails, saying what was found and what to try.
 *
 * Layers, in order: config → proxy → dns → tcp → tls (https/wss only) → http (http/https only) →
 * transport → initialize → ping. The proxy layer says which proxy the endpoint's connections use
 * and where that came from (--proxy, the environment, the OS settings) and opens a CONNECT tunnel
 * through it; with a proxy, dns and tcp are the proxy's business and are skipped, and tls runs over
 * the tunnel. The layers up to transport look at the network with plain requests of their own
 * (through the endpoint's own agents: its CAs and proxy); the last two go through the product's own
 * upstream code (upstream/open.ts), so they fail exactly where the relay would.
 *
 * Guarantees: every network action is bounded by the endpoint's `connectTimeoutMs`; network
 * failures become failed steps, never exceptions; only the configured URL's origin is contacted
 * (the wrong-path probes of `COMMON_PATHS` stay on that origin); every session the doctor
 * opens is ended (Streamable HTTP: DELETE) and every socket is closed before it returns.
 *
 * The layers live in `doctor/`: network.ts (proxy, dns, tcp, tls), http.ts and http-raw.ts (http,
 * transport), websocket.ts, mcp.ts (initialize, ping); their findings and hints, pure, in
 * network-findings.ts and http-findings.ts; the step runner, shared with the SSH doctor, in
 * steps.ts.
 */
import type { DoctorReport } from '../../common/domain.js';
import { toTetherError } from '../../common/errors.js';
import type { EndpointConfig } from '../../common/schemas.js';
import type { EndpointCredentials } from '../auth/credentials.js';
import { caProblem } from '../net/ca.js';
import { chooseProxy } from '../net/proxy.js';
import { readdCommand } from './doctor/http-findings.js';
import { HttpLayers } from './doctor/http.js';
import { McpLayers } from './doctor/mcp.js';
import { checkDns, checkProxy, checkTcp, checkTls } from './doctor/network.js';
import { DoctorSteps, errMessage, type Finding } from './doctor/steps.js';
import { DoctorTarget } from './doctor/target.js';
import { checkWebSocket } from './doctor/websocket.js';

/** The config step: what is configured, a usable `--ca`, and the credentials (read, never shown). */
async function checkConfig(t: DoctorTarget): Promise<Finding> {
  const c = t.config;
  const headers = Object.keys(c.headers);
  const detail =
    `${c.url}, transport ${c.transport}, connect timeout ${c.connectTimeoutMs} ms` +
    (headers.length ? `, headers: ${headers.join(', ')}` : ', no extra headers') +
    (c.proxy ? `, proxy ${c.proxy}` : '') +
    (c.ca ? ', CA certificates of its own (--ca)' : '');
  const badCa = c.ca ? caProblem(c.ca) : undefined;
  if (badCa)
    return {
      ok: false,
      detail: `${detail}; ${badCa}`,
      hint: 're-add the endpoint with --ca FILE, a valid PEM file',
    };
  if (!t.auth) return { ok: true, detail };
  try {
    t.creds = await t.auth.headers();
  } catch (err) {
    const e = toTetherError(err);
    return {
      ok: false,
      detail: `${detail}; credentials: ${e.message} (${e.code})`,
      hint: e.hint ?? 'see the message',
    };
  }
  return { ok: true, detail: `${detail}, credentials: ${t.auth.describe()}` };
}

/** Runs the layers in order, stopping at the first that fails. */
async function runLayers(t: DoctorTarget, steps: DoctorSteps, mcp: McpLayers): Promise<void> {
  if (!(await steps.run('config', () => checkConfig(t)))) return;
  const secureTarget = t.url.protocol === 'https:' || t.url.protocol === 'wss:';
  try {
    t.proxyChoice = chooseProxy(t.config.proxy, t.host, t.port, secureTarget);
  } catch (err) {
    const e = toTetherError(err);
    await steps.run('proxy', () => Promise.resolve({ ok: false, detail: e.message, hint: e.hint ?? '' }));
    return;
  }
  // Through a proxy, the proxy resolves and connects to the server: the proxy step covers both.
  if (t.proxyChoice) {
    if (!(await steps.run('proxy', () => checkProxy(t)))) return;
  } else {
    if (!(await steps.run('dns', () => checkDns(t)))) return;
    if (!(await steps.run('tcp', () => checkTcp(t)))) return;
  }
  if (secureTarget && !(await steps.run('tls', () => checkTls(t)))) return;
  const isHttp = t.url.protocol === 'http:' || t.url.protocol === 'https:';
  const http = new HttpLayers(t);
  if (isHttp && !(await steps.run('http', () => http.checkHttp()))) return;
  if (!(await steps.run('transport', () => (isHttp ? http.checkTransport() : checkWebSocket(t))))) return;
  if (!(await steps.run('initialize', () => mcp.checkInitialize()))) return;
  await steps.run('ping', () => mcp.checkPing());
}

/** Ends everything still open: raw responses, the doctor's session, the agents' sockets. */
async function cleanup(t: DoctorTarget, mcp: McpLayers): Promise<void> {
  for (const c of t.cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // best effort: the doctor's report is what matters
    }
  }
  await mcp.close();
  t.agents.http.destroy();
  t.agents.https.destroy();
}

/**
 * Diagnoses an endpoint layer by layer (config, dns, tcp, tls for https/wss, http for http/https,
 * transport, initialize, ping), stopping at the first failing layer. Never throws and never waits
 * longer than the endpoint's `connectTimeoutMs` for any one network action; durations in the
 * report are in ms. The http layer's 400/404/405 handling and the transport layer follow MCP
 * 2025-03-26 §Transports backwards compatibility.
 * @param name the endpoint's name (used in the suggested commands)
 * @param config the endpoint as stored
 */
export async function runDoctor(
  name: string,
  config: EndpointConfig,
  auth?: EndpointCredentials,
): Promise<DoctorReport> {
  const url = config.url ?? '';
  let t: DoctorTarget;
  try {
    t = new DoctorTarget(name, { ...config, url }, auth);
  } catch (err) {
    return {
      endpoint: name,
      url,
      ok: false,
      steps: [
        {
          layer: 'config',
          ok: false,
          detail: `the URL "${config.url}" cannot be used: ${errMessage(err)}`,
          hint: `re-add the endpoint with a valid URL (example: ${readdCommand(name, 'http://127.0.0.1:3001/mcp', 'auto')})`,
          ms: 0,
        },
      ],
    };
  }
  const steps = new DoctorSteps((err) => ({
    ok: false,
    detail: `unexpected error: ${errMessage(err)}`,
    hint: 'this is a bug in MCP Tether’s doctor; the layers before this one are fine',
  }));
  const mcp = new McpLayers(t);
  try {
    await runLayers(t, steps, mcp);
  } finally {
    await cleanup(t, mcp);
  }
  return steps.report(name, url);
}
