/**
 * `mcp-tether doctor` for an endpoint reached over SSH: the SSH layers first (the ssh config, DNS
 * and TCP to the first hop, host keys, authentication, the channel to the MCP server), then the MCP
 * layer through that channel (`initialize`, `ping`). Stops at the first failing layer.
 */
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import type { DoctorReport } from '../../common/domain.js';
import type { TetherError } from '../../common/errors.js';
import { ErrorCode, toTetherError } from '../../common/errors.js';
import type { EndpointConfig } from '../../common/schemas.js';
import { describeTarget } from '../../common/target.js';
import { connectInEra, internalHandlers, liveness } from '../protocol/handshake.js';
import type { Era } from '../protocol/versions.js';
import { InternalCalls } from '../relay/internal-calls.js';
import { resolveChain, type SshHop } from '../ssh/destination.js';
import { SshLink } from '../ssh/link.js';
import { createAgents } from '../upstream/http.js';
import { openUpstream } from '../upstream/open.js';
import { remoteCommandLine } from '../upstream/ssh-stdio.js';
import type { OutboundMessage, UpstreamConnection } from '../upstream/types.js';
import { checkCommandEndpoint } from '../commands/doctor.js';
import { DOCTOR_CONTEXT } from './doctor/mcp.js';
import { dnsFailure, tcpFailure } from './doctor/network-findings.js';
import { DoctorSteps, type Finding } from './doctor/steps.js';

const hopName = (h: SshHop) => `${h.user}@${h.host}:${h.port}`;

/**
 * Diagnoses an SSH endpoint layer by layer. Never throws for a failure of the remote: each becomes
 * a failed step with a hint.
 * @param knownHostsFiles the known_hosts files the engine checks (the user's, then the app's)
 */
export async function runSshDoctor(
  name: string,
  config: EndpointConfig,
  knownHostsFiles: string[],
): Promise<DoctorReport> {
  const timeoutMs = config.connectTimeoutMs;
  // The SSH layers' failures are TetherErrors (the link's): their message and hint are the finding.
  const steps = new DoctorSteps((err) => fail(toTetherError(err)));
  const report = (): DoctorReport => steps.report(name, describeTarget(config));

  let hops: SshHop[] = [];
  const ok = await steps.run('config', async () => {
    hops = resolveChain(config.ssh!);
    const chain = hops.map(hopName).join(' → ');
    return {
      ok: true,
      detail: `SSH ${chain}; ${config.command ? `runs: ${config.command.join(' ')}` : config.commandsFile ? `runs the commands of ${config.commandsFile}` : `then ${config.url}`}`,
    };
  });
  if (!ok) return report();
  const first = hops[0]!;
  if (
    !(await steps.run('dns', async () => {
      try {
        const addrs = await lookup(first.host, { all: true });
        return { ok: true, detail: `${first.host} → ${addrs.map((a) => a.address).join(', ')}` };
      } catch (err) {
        return dnsFailure((err as NodeJS.ErrnoException).code, first.host, timeoutMs);
      }
    }))
  )
    return report();
  if (!(await steps.run('tcp', () => tcpCheck(first.host, first.port, timeoutMs)))) return report();

  const link = new SshLink({
    hops,
    knownHostsFiles,
    connectTimeoutMs: timeoutMs,
    keepaliveMs: 0,
    onEvent: () => undefined,
  });
  const agents = createAgents((host, port) => link.forwardOut(host, port));
  let conn: UpstreamConnection | undefined;
  try {
    let connectError: TetherError | undefined;
    await link.connect().catch((err: unknown) => (connectError = toTetherError(err)));
    const hostKeyFailed =
      connectError?.code === ErrorCode.HOST_KEY_UNKNOWN || connectError?.code === ErrorCode.HOST_KEY_MISMATCH;
    const keys = link.seen
      .map((k) => `${k.host}:${k.port} ${k.keyType} ${k.fingerprint} (${k.status})`)
      .join('; ');
    if (
      !(await steps.run('ssh-host-key', async () =>
        hostKeyFailed ? fail(connectError!) : { ok: true, detail: keys || 'no host key seen' },
      ))
    )
      return report();
    if (
      !(await steps.run('ssh-auth', async () =>
        connectError
          ? fail(connectError)
          : { ok: true, detail: `authenticated: ${hops.map(hopName).join(' → ')}` },
      ))
    )
      return report();
    if (!(await steps.run('ssh-channel', () => channelCheck(link, config)))) return report();

    let calls = new InternalCalls('doctor');
    let era: Era = 'legacy';
    const open = (first: OutboundMessage) =>
      openUpstream(
        {
          name,
          config: { ...config, requestTimeoutMs: timeoutMs },
          agents,
          maxMessageBytes: 16 * 1024 * 1024,
          ssh: link,
          handlers: internalHandlers(() => calls),
        },
        first,
      );
    if (
      !(await steps.run('initialize', async () => {
        // The era probe of MCP 2026-07-28 basic/transports/stdio "Backward Compatibility".
        const session = await connectInEra({
          calls,
          timeoutMs,
          ctx: DOCTOR_CONTEXT,
          open,
          fallback: () => (calls = new InternalCalls('doctor')),
        });
        conn = session.conn;
        era = session.era;
        if (session.era === 'modern') {
          const info = session.discover?.serverInfo;
          return {
            ok: true,
            detail: `${info?.name ?? 'server'} ${info?.version ?? ''} over ${session.conn.transport}, modern server (server/discover: ${session.versions.join(', ')})`,
          };
        }
        const info = session.result['serverInfo'] as { name?: string; version?: string } | undefined;
        return {
          ok: true,
          detail: `${info?.name ?? 'server'} ${info?.version ?? ''} over ${session.conn.transport}, legacy server, protocol ${session.version}`,
        };
      }))
    )
      return report();
    await steps.run('ping', async () => {
      const rtt = await liveness(conn!, era, { calls, timeoutMs, ctx: DOCTOR_CONTEXT });
      return { ok: true, detail: `${era === 'modern' ? 'server/discover' : 'ping'} RTT ${rtt} ms` };
    });
    return report();
  } finally {
    if (conn) await conn.close().catch(() => undefined);
    link.close();
    agents.http.destroy();
    agents.https.destroy();
  }
}

function fail(err: TetherError): Finding {
  const hint = err.hint;
  return { ok: false, detail: err.message, ...(hint !== undefined ? { hint } : {}) };
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<Finding> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    const t = setTimeout(() => {
      s.destroy();
      resolve(tcpFailure('ETIMEDOUT', host, port, timeoutMs));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve({ ok: true, detail: `connected to the SSH port ${host}:${port}` });
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(tcpFailure(err.code, host, port, timeoutMs));
    });
  });
}

async function channelCheck(link: SshLink, config: EndpointConfig): Promise<Finding> {
  if (config.commandsFile) return checkCommandEndpoint(link, config);
  if (config.command) {
    const cmd = config.command[0]!;
    const channel = await link.exec(
      remoteCommandLine(['sh', '-c', `command -v "$1"`, 'sh', cmd], config.loginShell),
    );
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      let out = '';
      let code: number | null = null;
      channel.on('data', (c: Buffer) => (out += c.toString()));
      channel.stderr.resume();
      channel.on('exit', (c: number | null) => (code = c));
      channel.on('close', () => resolve({ code, out }));
    });
    if (code === 0) return { ok: true, detail: `exec channel open; ${cmd} is ${out.trim()}` };
    return {
      ok: false,
      detail: `"${cmd}" is not on the remote PATH${config.loginShell ? ' of the login shell' : ''}`,
      hint: config.loginShell
        ? `Install ${cmd} on the remote host, or give its absolute path.`
        : `If ${cmd} comes from nvm or an npm prefix, re-add the endpoint with --login-shell; else install it or give its absolute path.`,
    };
  }
  const u = new URL(config.url!);
  const port = Number(u.port) || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const channel = await link.forwardOut(host, port);
  channel.destroy();
  return { ok: true, detail: `the SSH server opened a channel to ${host}:${port}` };
}
