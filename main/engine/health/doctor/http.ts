/**
 * The doctor's http and transport layers for an endpoint reached over HTTP(S): a raw `initialize`
 * POST tells a Streamable HTTP server from a legacy HTTP+SSE one (whose event stream opens on GET)
 * and from a modern-only one (MCP 2025-03-26 §Transports backwards compatibility, MCP 2026-07-28
 * basic/versioning); a wrong path is searched for on the same origin ({@link COMMON_PATHS}).
 */
import type { IncomingMessage } from 'node:http';
import {
  COMMON_PATHS,
  httpNetworkFailure,
  httpStatusFinding,
  jsonRpcErrorSummary,
  modernRefusal,
  transportVerdict,
  wrongPathHint,
  type PathProbe,
} from './http-findings.js';
import { contentType, RawHttp, readInitializeAnswer, redactedPath, statusLine } from './http-raw.js';
import { errMessage, TimeoutError, withTimeout, type Finding } from './steps.js';
import type { DoctorTarget } from './target.js';
import { readBody } from '../../upstream/http.js';

/** What the http step saw, for the transport step. */
type HttpObservation =
  | { kind: 'streamable'; res: IncomingMessage; requestId: string; sessionId?: string }
  | { kind: 'legacy'; res: IncomingMessage; postStatus: number }
  /** A modern-only server: it refused the legacy initialize with a modern JSON-RPC error. */
  | { kind: 'modern'; versions: string[] };

/** The http and transport layers of one doctor run. */
export class HttpLayers {
  private readonly raw: RawHttp;
  private observation: HttpObservation | undefined;

  constructor(private readonly t: DoctorTarget) {
    this.raw = new RawHttp(t);
  }

  /** The http step: what a raw `initialize` POST (and, when refused, a GET) gets. */
  async checkHttp(): Promise<Finding> {
    const path = redactedPath(this.t.url);
    let posted: { res: IncomingMessage; id: string };
    try {
      posted = await this.raw.postInitialize(this.t.url);
    } catch (err) {
      return httpNetworkFailure(err, `POST ${path}`, this.t.timeoutMs, this.t.url.protocol);
    }
    const { res } = posted;
    const status = res.statusCode ?? 0;
    const ctype = contentType(res);
    const line = `POST ${path} (initialize) → ${statusLine(res)}${ctype ? `, ${ctype}` : ''}`;
    if (status === 200 && (ctype === 'application/json' || ctype === 'text/event-stream')) {
      const sid = res.headers['mcp-session-id'];
      const sessionId = typeof sid === 'string' && sid.length > 0 ? sid : undefined;
      if (sessionId) this.t.cleanups.push(() => this.raw.deleteSession(this.t.url, sessionId));
      this.observation = {
        kind: 'streamable',
        res,
        requestId: posted.id,
        ...(sessionId ? { sessionId } : {}),
      };
      // Even when configured for legacy SSE: the transport step says the configuration is wrong.
      return { ok: true, detail: line };
    }
    const body = await withTimeout(
      readBody(res, 65_536),
      this.t.timeoutMs,
      () => new TimeoutError('body'),
    ).catch(() => '');
    const era = modernRefusal(body);
    if (status === 400 && era) {
      // MCP 2026-07-28 basic/versioning "Backward Compatibility": a recognized modern error in the
      // body of a 400 identifies a modern server; it is not a legacy one to fall back to.
      this.observation = { kind: 'modern', versions: era.versions };
      return {
        ok: true,
        detail: `${line}${jsonRpcErrorSummary(body)}: a modern (2026-07-28) server, which has no initialize`,
      };
    }
    if ([400, 404, 405].includes(status)) {
      // MCP 2025-03-26 §Transports, backwards compatibility: a POST refused with 400/404/405 may be a
      // legacy HTTP+SSE server, which opens its event stream on GET.
      let get: IncomingMessage | undefined;
      try {
        get = await this.raw.getEventStream(this.t.url);
      } catch {
        get = undefined;
      }
      if (get && RawHttp.isEventStream(get)) {
        this.observation = { kind: 'legacy', res: get, postStatus: status };
        return {
          ok: true,
          detail: `${line}; GET ${path} (Accept: text/event-stream) → ${statusLine(get)}, text/event-stream: looks like a legacy HTTP+SSE server`,
        };
      }
      const getLine = get
        ? `; GET ${path} → ${statusLine(get)}${contentType(get) ? `, ${contentType(get)}` : ''}`
        : '';
      get?.resume();
      if (status === 404 || status === 405) {
        const probes = await this.probeCommonPaths();
        return {
          ok: false,
          detail: `${line}${getLine}`,
          hint: wrongPathHint(
            this.t.name,
            this.t.config,
            status === 404
              ? 'HTTP 404: nothing is served there'
              : 'HTTP 405: POST is not accepted there, and GET is no event stream',
            probes,
          ),
        };
      }
      return {
        ok: false,
        detail: `${line}${jsonRpcErrorSummary(body)}${getLine}`,
        hint:
          'the server rejected the initialize request (HTTP 400) and a GET is not an event stream either: ' +
          'read the error above; if the server needs a particular header, add it with --header',
      };
    }
    if (status === 200 || status === 202 || status === 204) {
      const probes = status === 200 ? await this.probeCommonPaths() : [];
      return {
        ok: false,
        detail: line,
        hint:
          status === 200
            ? wrongPathHint(
                this.t.name,
                this.t.config,
                `HTTP 200 with ${ctype || 'no content type'}, not JSON or an event stream`,
                probes,
              )
            : `an initialize request needs a response (JSON or an event stream), but the server answered HTTP ${status}: this does not look like an MCP Streamable HTTP endpoint`,
      };
    }
    const loc = res.headers.location;
    const auth = res.headers['www-authenticate'];
    const f = httpStatusFinding(status, line, loc, typeof auth === 'string' ? auth : undefined);
    return { ...f, detail: `${f.detail}${jsonRpcErrorSummary(body)}` };
  }

  /** Probes the origin's {@link COMMON_PATHS} (except the configured one) for an MCP server. */
  private async probeCommonPaths(): Promise<PathProbe[]> {
    const paths = COMMON_PATHS.filter((p) => p !== this.t.url.pathname);
    return Promise.all(paths.map((p) => this.probePath(new URL(p, this.t.url.origin))));
  }

  private async probePath(url: URL): Promise<PathProbe> {
    const href = url.href;
    try {
      if (url.pathname === '/sse') {
        const res = await this.raw.getEventStream(url);
        if (!RawHttp.isEventStream(res)) {
          res.resume();
          return { url: href, detail: `GET ${statusLine(res)}` };
        }
        const ep = await this.raw.readEndpointEvent(res, url);
        return ep.endpoint
          ? { url: href, found: 'sse', detail: 'legacy SSE endpoint' }
          : { url: href, detail: `an event stream without an endpoint event (${ep.problem})` };
      }
      const { res, id } = await this.raw.postInitialize(url);
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string' && sid.length > 0)
        this.t.cleanups.push(() => this.raw.deleteSession(url, sid));
      const ctype = contentType(res);
      if (res.statusCode !== 200 || (ctype !== 'application/json' && ctype !== 'text/event-stream')) {
        res.resume();
        return { url: href, detail: `POST ${statusLine(res)}` };
      }
      const a = await readInitializeAnswer(res, id, this.t.timeoutMs);
      return a.answer
        ? { url: href, found: 'streamable-http', detail: 'Streamable HTTP MCP server' }
        : { url: href, detail: `HTTP 200, but ${a.problem}` };
    } catch (err) {
      return { url: href, detail: errMessage(err) };
    }
  }

  /** The transport step: the transport the http step saw, against the configured one. */
  async checkTransport(): Promise<Finding> {
    const obs = this.observation;
    const configured = `configured: ${this.t.config.transport}`;
    if (!obs) return { ok: false, detail: 'the http step found no transport', hint: 'see the http step' };
    if (obs.kind === 'modern') {
      const v = transportVerdict(this.t.name, this.t.config, 'streamable-http');
      const detail =
        `Streamable HTTP (MCP 2026-07-28), stateless: the server supports ${obs.versions.join(', ') || 'only modern versions'}; ` +
        `legacy clients reach it through MCP Tether's era bridge (${configured})`;
      return { ok: v.ok, detail, ...(v.hint ? { hint: v.hint } : {}) };
    }
    if (obs.kind === 'streamable') {
      const a = await readInitializeAnswer(obs.res, obs.requestId, this.t.timeoutMs);
      if (obs.sessionId) await this.raw.deleteSession(this.t.url, obs.sessionId);
      const framing = a.framing === 'sse' ? 'an SSE stream' : 'JSON';
      if (!a.answer) {
        return {
          ok: false,
          detail: `Streamable HTTP POST answered HTTP 200 with ${framing}, but ${a.problem}`,
          hint: 'this URL answers like an MCP server but gives no usable initialize response: check the server’s logs',
        };
      }
      const detail =
        `Streamable HTTP (MCP 2025-03-26+): initialize answered with ${framing}` +
        `${a.answer.error ? ` (a JSON-RPC error: ${a.answer.error.message})` : ''}, ` +
        (obs.sessionId ? 'session id assigned (Mcp-Session-Id)' : 'no session id (stateless server)') +
        ` (${configured})`;
      const v = transportVerdict(this.t.name, this.t.config, 'streamable-http');
      return { ok: v.ok, detail, ...(v.hint ? { hint: v.hint } : {}) };
    }
    const ep = await this.raw.readEndpointEvent(obs.res, this.t.url);
    if (!ep.endpoint) {
      return {
        ok: false,
        detail: `GET ${redactedPath(this.t.url)} opened an event stream, but ${ep.problem}`,
        hint: 'a legacy HTTP+SSE MCP server names its message URL in a first "endpoint" event: this stream is not one, or the server is stuck',
      };
    }
    if (ep.endpoint.origin !== this.t.url.origin) {
      return {
        ok: false,
        detail: `legacy HTTP+SSE, but the "endpoint" event points to another origin (${ep.endpoint.origin})`,
        hint:
          'MCP Tether only posts to the configured origin: configure the server so the endpoint it advertises ' +
          `is on ${this.t.url.origin} (a reverse proxy often needs its public URL set), or use that origin's URL`,
      };
    }
    const detail =
      `legacy HTTP+SSE (MCP 2024-11-05): POST → HTTP ${obs.postStatus}, GET → event stream whose "endpoint" ` +
      `event names ${redactedPath(ep.endpoint)} (${configured}` +
      (this.t.config.transport === 'auto'
        ? ', which falls back to it per MCP 2025-03-26 §Transports backwards compatibility)'
        : ')');
    const v = transportVerdict(this.t.name, this.t.config, 'sse');
    return { ok: v.ok, detail, ...(v.hint ? { hint: v.hint } : {}) };
  }
}
