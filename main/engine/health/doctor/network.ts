/**
 * The doctor's network layers for an endpoint reached by URL: the proxy (a CONNECT tunnel), DNS,
 * TCP and TLS (the certificate judged as Node's verification would, with the chain the server
 * sent). Each is bounded by the connect timeout and returns a finding, never throws.
 */
import { lookup } from 'node:dns/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { toTetherError } from '../../../common/errors.js';
import { trustSources } from '../../net/ca.js';
import { describeProxy, openTunnel, proxyCredentials } from '../../net/proxy.js';
import {
  certificateChain,
  dn,
  dnsFailure,
  isoTime,
  tcpFailure,
  tlsHandshakeFailure,
  tlsVerificationHint,
  type CertFacts,
} from './network-findings.js';
import { errCode, errMessage, TimeoutError, withTimeout, type Finding } from './steps.js';
import type { DoctorTarget } from './target.js';

/** Opens a CONNECT tunnel to the server through the endpoint's proxy (the caller ends it). */
async function tunnel(t: DoctorTarget): Promise<Socket> {
  const credentials = t.config.proxyAuth ? await proxyCredentials(t.name) : undefined;
  return openTunnel({ host: t.host, port: t.port }, false, {
    endpoint: t.name,
    choice: t.proxyChoice!,
    credentials,
    timeoutMs: t.timeoutMs,
    secureContext: t.secureContext,
  });
}

/** The proxy step: which proxy, from where, and a CONNECT tunnel through it. */
export async function checkProxy(t: DoctorTarget): Promise<Finding> {
  const proxy = describeProxy(t.proxyChoice!);
  const creds = t.config.proxyAuth ? `, credentials from the OS keychain (${t.name}/proxy)` : '';
  try {
    const socket = await tunnel(t);
    socket.destroy();
    return { ok: true, detail: `${proxy}${creds}: CONNECT ${t.where} → 200, tunnel open` };
  } catch (err) {
    const e = toTetherError(err);
    return {
      ok: false,
      detail: `${e.message}${creds}`,
      hint: e.hint ?? 'check the proxy setting',
    };
  }
}

/** The dns step: the addresses of the URL's host. */
export async function checkDns(t: DoctorTarget): Promise<Finding> {
  const family = isIP(t.host);
  if (family) return { ok: true, detail: `${t.host} is an IP address (IPv${family}): no DNS lookup needed` };
  try {
    const addrs = await withTimeout(
      lookup(t.host, { all: true, verbatim: true }),
      t.timeoutMs,
      () => new TimeoutError('dns timeout'),
    );
    if (addrs.length === 0) return dnsFailure('ENOTFOUND', t.host, t.timeoutMs);
    return {
      ok: true,
      detail: `${t.host} → ${addrs.map((a) => `${a.address} (IPv${a.family})`).join(', ')}`,
    };
  } catch (err) {
    return dnsFailure(errCode(err), t.host, t.timeoutMs);
  }
}

/** The tcp step: a TCP connection to the URL's host and port. */
export function checkTcp(t: DoctorTarget): Promise<Finding> {
  return new Promise((resolve) => {
    const socket: Socket = netConnect({ host: t.host, port: t.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(tcpFailure('TIMEOUT', t.host, t.port, t.timeoutMs));
    }, t.timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      const detail = `connected to ${socket.remoteAddress}:${socket.remotePort} from ${socket.localAddress}:${socket.localPort}`;
      socket.destroy();
      resolve({ ok: true, detail });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(tcpFailure(errCode(err), t.host, t.port, t.timeoutMs));
    });
  });
}

/** The tls step: a TLS handshake (through the proxy's tunnel when there is one). */
export async function checkTls(t: DoctorTarget): Promise<Finding> {
  let raw: Socket | undefined;
  if (t.proxyChoice) {
    try {
      raw = await tunnel(t);
    } catch (err) {
      return {
        ok: false,
        detail: `through the proxy: ${toTetherError(err).message}`,
        hint: 'see the proxy step',
      };
    }
  }
  const secureContext = t.secureContext;
  const trust = trustSources();
  const trusted =
    `trusting ${trust.defaults} CAs of the runtime` +
    (trust.system ? ' (its own and the OS store)' : ' (its own; this Node cannot read the OS store)') +
    (t.config.ca ? ' and the endpoint’s --ca' : '');
  return new Promise((resolve) => {
    // Verification is judged below (authorized / authorizationError), so the handshake may finish
    // on a bad certificate and the doctor can say what is wrong with it.
    const socket = tlsConnect({
      ...(raw ? { socket: raw } : { host: t.host, port: t.port }),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      ...(isIP(t.host) ? {} : { servername: t.host }),
      ...(secureContext ? { secureContext } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(tlsHandshakeFailure('TIMEOUT', 'timeout', t.where, t.timeoutMs));
    }, t.timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert: Partial<PeerCertificate> = socket.getPeerCertificate() ?? {};
      const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined;
      const sans = (cert.subjectaltname ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const facts: CertFacts = {
        host: t.host,
        names: [...new Set([...(cn ? [cn] : []), ...sans.map((s) => s.replace(/^(DNS|IP Address):/, ''))])],
        validFrom: isoTime(cert.valid_from),
        validTo: isoTime(cert.valid_to),
        ...(cert.issuer ? { issuer: dn(cert.issuer as unknown as Record<string, string>) } : {}),
      };
      const issuer = typeof cert.issuer?.CN === 'string' ? cert.issuer.CN : undefined;
      const desc =
        `${socket.getProtocol() ?? 'TLS'}, certificate CN=${cn ?? '(none)'}` +
        (sans.length ? ` SAN ${sans.join(', ')}` : '') +
        (issuer ? `, issuer CN=${issuer}` : '') +
        (facts.validTo ? `, expires ${facts.validTo}` : '');
      const authorized = socket.authorized;
      const code = socket.authorizationError ? String(socket.authorizationError) : undefined;
      const chain = certificateChain(socket.getPeerCertificate(true));
      socket.destroy();
      if (authorized) {
        resolve({ ok: true, detail: `${desc}; verified, ${trusted}` });
        return;
      }
      const v = tlsVerificationHint(code ?? 'UNKNOWN', facts);
      resolve({
        ok: false,
        detail: `${desc}; NOT verified: ${v.problem}${code && v.problem.includes(code) ? '' : ` (${code})`}, ${trusted}; chain sent by the server: ${chain.join(' ')}`,
        hint: v.hint,
      });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(tlsHandshakeFailure(errCode(err), errMessage(err), t.where, t.timeoutMs));
    });
  });
}
